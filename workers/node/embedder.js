// FaceNet as exported by `facerec export-onnx`, run with onnxruntime-node.
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

/** uint8 RGB 160x160 crops (Buffers) as FaceNet's input: float32 NCHW, (pixel - 127.5) / 128. */
export function standardise(crops) {
  const plane = CROP_SIZE * CROP_SIZE;
  const out = new Float32Array(crops.length * 3 * plane);
  crops.forEach((rgb, n) => {
    if (rgb.length !== CROP_BYTES) throw new Error(`a crop must be ${CROP_BYTES} bytes, not ${rgb.length}`);
    const base = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      out[base + i] = (rgb[3 * i] - 127.5) / 128;
      out[base + plane + i] = (rgb[3 * i + 1] - 127.5) / 128;
      out[base + 2 * plane + i] = (rgb[3 * i + 2] - 127.5) / 128;
    }
  });
  return out;
}

/** Splits (n * 512) floats into n L2-normalised arrays. */
export function normalisedRows(data, n) {
  const rows = [];
  for (let r = 0; r < n; r++) {
    const row = Array.from(data.subarray(r * EMBEDDING_DIM, (r + 1) * EMBEDDING_DIM));
    const norm = Math.hypot(...row) || 1;
    rows.push(row.map((v) => v / norm));
  }
  return rows;
}

export class OnnxEmbedder {
  constructor(session, modelId) {
    this.session = session;
    this.modelId = modelId;
  }

  /** Loads an exported model; its model id comes from the file's metadata. */
  static async load(path) {
    const meta = onnxMetadata(readFileSync(path));
    const modelId = meta.facerec_model_id;
    if (!modelId) throw new Error(`${path} has no facerec_model_id: export it with \`facerec export-onnx\``);
    const session = await ort.InferenceSession.create(path, { executionProviders: ["cpu"] });
    return new OnnxEmbedder(session, modelId);
  }

  /** Embeddings (arrays of 512 numbers, length 1) of uint8 RGB crops. */
  async embed(crops) {
    const input = new ort.Tensor("float32", standardise(crops), [crops.length, 3, CROP_SIZE, CROP_SIZE]);
    const { embeddings } = await this.session.run({ crops: input });
    return normalisedRows(embeddings.data, crops.length);
  }
}
