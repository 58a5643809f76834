"""The models and what they need: MTCNN detection, embedders, weight resolution, photo
decoding, ONNX export. Everything a worker host runs, and nothing that needs the store.

May import only the shared modules (`domain`, `config`, `errors`, `tasks`); never grpc,
`facerec.v1`, the store, dispatch, api, worker or cli. Importing this package loads no model
and no torch; its modules do.
"""
