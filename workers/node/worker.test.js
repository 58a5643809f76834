// Unit tests of the Node worker's pieces; tests/test_workers.py runs it against a real
// coordinator with a real exported model.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CROP_BYTES, normalisedRows, onnxMetadata, standardise, toInput } from "./embedder.js";
import { answer, backoffMs } from "./worker.js";

function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

function field(number, bytes) {
  return [...varint(number * 8 + 2), ...varint(bytes.length), ...bytes];
}

test("onnxMetadata reads metadata_props and skips other fields", () => {
  const entry = (k, v) => field(14, [...field(1, Buffer.from(k)), ...field(2, Buffer.from(v))]);
  const model = Buffer.from([
    0x08, 0x07, // ir_version = 7 (a varint field)
    ...field(7, new Array(300).fill(1)), // a "graph" to skip
    ...entry("facerec_model_id", "facenet-untrained"),
    ...entry("facerec_embedding_dim", "512"),
  ]);
  assert.deepEqual(onnxMetadata(model), { facerec_model_id: "facenet-untrained", facerec_embedding_dim: "512" });
});

test("standardise lays out NCHW floats as (pixel - 127.5) / 128", () => {
  const crop = Buffer.alloc(CROP_BYTES);
  crop[0] = 255; // R of pixel 0
  crop[3 * 161 + 2] = 0; // B of pixel (1, 1) stays 0
  crop[3 * 5 + 1] = 128; // G of pixel 5
  const out = standardise([crop, crop]);
  const plane = 160 * 160;
  assert.equal(out.length, 2 * 3 * plane);
  assert.equal(out[0], (255 - 127.5) / 128);
  assert.equal(out[plane + 5], (128 - 127.5) / 128);
  assert.equal(out[2 * plane + 161], -127.5 / 128);
  assert.equal(out[3 * plane], out[0]);
  assert.throws(() => standardise([Buffer.alloc(10)]), /must be 76800 bytes/);
});

test("toInput keeps raw pixels for SFace's 112x112 crops", () => {
  const crop = Buffer.alloc(112 * 112 * 3);
  crop[0] = 200; // R of pixel 0
  crop[3 * 7 + 2] = 9; // B of pixel 7
  const out = toInput([crop], 112, "raw");
  const plane = 112 * 112;
  assert.equal(out.length, 3 * plane);
  assert.equal(out[0], 200);
  assert.equal(out[2 * plane + 7], 9);
  assert.throws(() => toInput([Buffer.alloc(CROP_BYTES)], 112, "raw"), /must be 37632 bytes/);
});

test("normalisedRows splits and L2-normalises", () => {
  const data = new Float32Array(1024);
  data[0] = 3; data[1] = 4; data[512] = -2;
  const [a, b] = normalisedRows(data, 2);
  assert.equal(a.length, 512);
  assert.ok(Math.abs(a[0] - 0.6) < 1e-6 && Math.abs(a[1] - 0.8) < 1e-6);
  assert.equal(b[0], -1);
  const [c] = normalisedRows(new Float32Array([0, 5, 0, 0]), 1, 4);
  assert.deepEqual(c, [0, 1, 0, 0]);
});

test("backoff doubles from half a second up to the cap, with jitter", () => {
  assert.equal(backoffMs(0, 30_000, () => 0.5), 500);
  assert.equal(backoffMs(3, 30_000, () => 0.5), 4000);
  assert.equal(backoffMs(20, 30_000, () => 0.5), 30_000);
  assert.equal(backoffMs(0, 30_000, () => 0), 375);
  assert.equal(backoffMs(0, 30_000, () => 1), 625);
});

test("answer embeds EMBED tasks and refuses the rest", async () => {
  const embedder = { modelId: "m1", embed: async (crops) => crops.map(() => [1, 0]) };
  const crop = { rgb: Buffer.alloc(CROP_BYTES) };
  const ok = await answer(embedder, { task_id: "t1", attempt: 2, kind: "TASK_KIND_EMBED", embed: { model_id: "m1", crops: [crop, crop] } });
  assert.deepEqual(ok, { result: { task_id: "t1", attempt: 2, embed: { embeddings: [{ values: [1, 0] }, { values: [1, 0] }] } } });
  const detect = await answer(embedder, { task_id: "t2", attempt: 1, kind: "TASK_KIND_DETECT" });
  assert.equal(detect.failure.code, "NOT_CAPABLE");
  const other = await answer(embedder, { task_id: "t3", attempt: 1, kind: "TASK_KIND_EMBED", embed: { model_id: "m2", crops: [crop] } });
  assert.equal(other.failure.code, "MODEL_MISMATCH");
  assert.equal(other.failure.permanent, true);
  const broken = { modelId: "m1", embed: async () => { throw new Error("boom"); } };
  const failed = await answer(broken, { task_id: "t4", attempt: 1, kind: "TASK_KIND_EMBED", embed: { model_id: "m1", crops: [crop] } });
  assert.deepEqual(failed.failure, { task_id: "t4", attempt: 1, code: "WORKER_ERROR", message: "boom", permanent: false });
});
