// Unit tests of the client's formatting; the end-to-end run against a real compute server is
// in tests/test_node_client.py.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describe as summary } from "./facerec.js";

test("describe prints faces and matches", () => {
  const text = summary("a.jpg", {
    state: "JOB_STATE_SUCCEEDED",
    untrained_model: true,
    error: null,
    faces: [{ box: { x1: 1.2, y1: 2, x2: 30.6, y2: 40 }, score: 0.9991,
      matches: [{ name: "Ada", collection: "staff", similarity: 0.91234 }] }],
  });
  assert.match(text, /^a\.jpg: succeeded, 1 face\(s\) \[UNTRAINED MODEL/);
  assert.match(text, /box=\(1,2,31,40\) score=0\.999/);
  assert.match(text, /Ada \(staff\) similarity=0\.912/);
});

test("describe says when nothing matched", () => {
  const text = summary("b.jpg", { state: "JOB_STATE_FAILED", untrained_model: false,
    error: { code: "NO_FACE", message: "none" }, faces: [] });
  assert.match(text, /b\.jpg: failed, 0 face\(s\)\n  error NO_FACE: none/);
});
