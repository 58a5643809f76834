#!/usr/bin/env node
// Usage: node recognize.js [--target HOST:PORT] [--api-key KEY] [--tls-ca PEM] [--tls-cert PEM
//   --tls-key PEM] [--collection NAME] PHOTO...
// Submits each photo, follows its job as it runs, and prints the faces and matches.
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { connect, describe, submitJob, watchJob } from "./facerec.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: "string", default: process.env.FACEREC_TARGET || "127.0.0.1:50051" },
    collection: { type: "string", default: "" },
    "top-k": { type: "string", default: "0" },
    "api-key": { type: "string", default: process.env.FACEREC_API_KEY ?? "" },
    "tls-ca": { type: "string", default: process.env.FACEREC_TLS_CA },
    "tls-cert": { type: "string", default: process.env.FACEREC_TLS_CERT },
    "tls-key": { type: "string", default: process.env.FACEREC_TLS_KEY },
  },
});
if (!positionals.length) {
  console.error("usage: recognize.js [--target HOST:PORT] [--collection NAME] PHOTO...");
  process.exit(2);
}

const client = connect(values.target, {
  apiKey: values["api-key"], tlsCa: values["tls-ca"], tlsCert: values["tls-cert"], tlsKey: values["tls-key"],
});
let status = 0;
try {
  for (const path of positionals) {
    const job = await submitJob(client, path, {
      collection: values.collection,
      top_k: Number(values["top-k"]),
    });
    const final = await watchJob(client, job.id, (event) => {
      const kind = event.type.replace("JOB_EVENT_TYPE_", "").toLowerCase();
      console.error(`${job.id} ${kind} ${event.job.state.replace("JOB_STATE_", "").toLowerCase()}`);
    });
    console.log(describe(basename(path), final));
  }
} catch (err) {
  console.error(`error: ${grpcCodeName(err.code)}: ${err.details || err.message}`);
  status = 1;
} finally {
  client.close();
}
process.exit(status);

function grpcCodeName(code) {
  const names = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];
  return names[code] ?? "ERROR";
}
