"""The thin Flask front end: HTTP in, gRPC to the compute server out; no models.

Import `facerec.frontend.app.create_app`; this package imports nothing itself, so that
`facerec compute` and `facerec worker` hosts need no Flask.
"""
