// An embedder exported by `facerec export-onnx` (FaceNet or SFace), run with onnxruntime-node.
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";

export const CROP_SIZE = 160;
export const CROP_BYTES = CROP_SIZE * CROP_SIZE * 3;
export const EMBEDDING_DIM = 512;

function readVarint(buf, pos) {
  let value = 0;
  let factor = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint in the ONNX file");
    const byte = buf[pos++];
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, pos];
    factor *= 128;
  }
}

function readFields(buf, visit) {
  let pos = 0;
  while (pos < buf.length) {
    let tag;
    [tag, pos] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) [, pos] = readVarint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      visit(field, buf.subarray(pos, pos + len));
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire} in the ONNX file`);
  }
}

/** The ONNX model's metadata_props (ModelProto field 14) as an object; skips the graph. */
export function onnxMetadata(buf) {
  const meta = {};
  readFields(buf, (field, bytes) => {
    if (field !== 14) return;
    let key = "";
    let value = "";
    readFields(bytes, (f, b) => {
      if (f === 1) key = b.toString("utf8");
      if (f === 2) value = b.toString("utf8");
    });
    meta[key] = value;
  });
  return meta;
}

/**
 * uint8 RGB size x size crops (Buffers) as a model's float32 NCHW input: "standardised"
 * is FaceNet's (pixel - 127.5) / 128, "raw" is 0..255 (SFace normalises inside its graph).
 */
export function toInput(crops, size = CROP_SIZE, scale = "standardised") {
  const plane = size * size;
  const bytes = plane * 3;
  const [sub, div] = scale === "raw" ? [0, 1] : [127.5, 128];
  const out = new Float32Array(crops.length * 3 * plane);
  crops.forEach((rgb, n) => {
    if (rgb.length !== bytes) throw new Error(`a crop must be ${bytes} bytes, not ${rgb.length}`);
    const base = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      out[base + i] = (rgb[3 * i] - sub) / div;
      out[base + plane + i] = (rgb[3 * i + 1] - sub) / div;
      out[base + 2 * plane + i] = (rgb[3 * i + 2] - sub) / div;
    }
  });
  return out;
}

/** uint8 RGB 160x160 crops (Buffers) as FaceNet's input: float32 NCHW, (pixel - 127.5) / 128. */
export function standardise(crops) {
  return toInput(crops, CROP_SIZE, "standardised");
}

/** Splits (n * dim) floats into n L2-normalised arrays. */
export function normalisedRows(data, n, dim = EMBEDDING_DIM) {
  const rows = [];
  for (let r = 0; r < n; r++) {
    const row = Array.from(data.subarray(r * dim, (r + 1) * dim));
    const norm = Math.hypot(...row) || 1;
    rows.push(row.map((v) => v / norm));
  }
  return rows;
}

export class OnnxEmbedder {
  constructor(session, modelId, { cropSize = CROP_SIZE, dim = EMBEDDING_DIM, scale = "standardised" } = {}) {
    this.session = session;
    this.modelId = modelId;
    this.cropSize = cropSize;
    this.dim = dim;
    this.scale = scale;
  }

  /**
   * Loads a model written by `facerec export-onnx`; its model id, crop size, embedding size
   * and input scale come from the file's metadata (FaceNet's when a field is absent).
   */
  static async load(path) {
    const meta = onnxMetadata(readFileSync(path));
    const modelId = meta.facerec_model_id;
    if (!modelId) throw new Error(`${path} has no facerec_model_id: export it with \`facerec export-onnx\``);
    const session = await ort.InferenceSession.create(path, { executionProviders: ["cpu"] });
    return new OnnxEmbedder(session, modelId, {
      cropSize: Number(meta.facerec_crop_size ?? CROP_SIZE),
      dim: Number(meta.facerec_embedding_dim ?? EMBEDDING_DIM),
      scale: meta.facerec_input_scale ?? "standardised",
    });
  }

  /** Embeddings (arrays of `dim` numbers, length 1) of uint8 RGB crops. */
  async embed(crops) {
    const size = this.cropSize;
    const input = new ort.Tensor("float32", toInput(crops, size, this.scale), [crops.length, 3, size, size]);
    const output = await this.session.run({ [this.session.inputNames[0]]: input });
    return normalisedRows(output[this.session.outputNames[0]].data, crops.length, this.dim);
  }
}
