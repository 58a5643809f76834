#!/usr/bin/env node
// A facerec EMBED worker: connects to a coordinator's WorkerService and embeds face crops with
// the model `facerec export-onnx` wrote (FaceNet or SFace). Usage:
//   node worker.js --coordinator HOST:PORT --model model.onnx [--worker-id ID] [--max-batch-size N]
//     [--api-key KEY] [--tls-ca PEM] [--tls-cert PEM --tls-key PEM]
// A worker key (facerec keys create --role worker) goes in --api-key or FACEREC_API_KEY.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import ort from "onnxruntime-node";
import { OnnxEmbedder } from "./embedder.js";

const PROTOS = process.env.FACEREC_PROTOS ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "protos");
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const REFUSED = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION,
  grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED]);

function loadService() {
  const definition = protoLoader.loadSync("facerec/v1/worker_service.proto", {
    includeDirs: [PROTOS], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).facerec.v1.WorkerService;
}

/** The wait before reconnection attempt `n` (0-based): doubling from 0.5 s, capped, with ±25 % jitter. */
export function backoffMs(n, maxMs = 30_000, random = Math.random) {
  const base = Math.min(500 * 2 ** n, maxMs);
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** Answers one task: a result for EMBED, a failure otherwise. */
export async function answer(embedder, task) {
  const { task_id, attempt } = task;
  if (task.kind !== "TASK_KIND_EMBED") {
    return { failure: { task_id, attempt, code: "NOT_CAPABLE", message: `this worker only embeds, not ${task.kind}`, permanent: false } };
  }
  if (task.embed.model_id !== embedder.modelId) {
    return { failure: { task_id, attempt, code: "MODEL_MISMATCH", message: `asked for ${task.embed.model_id}, this worker serves ${embedder.modelId}`, permanent: true } };
  }
  try {
    const vectors = await embedder.embed(task.embed.crops.map((c) => c.rgb));
    return { result: { task_id, attempt, embed: { embeddings: vectors.map((values) => ({ values })) } } };
  } catch (err) {
    return { failure: { task_id, attempt, code: "WORKER_ERROR", message: String(err.message ?? err), permanent: false } };
  }
}

/** TLS credentials when a CA or client certificate is given, else insecure ones. */
export function channelCredentials({ tlsCa, tlsCert, tlsKey } = {}) {
  const read = (path) => (path ? readFileSync(path) : null);
  return tlsCa || tlsCert
    ? grpc.credentials.createSsl(read(tlsCa), read(tlsKey), read(tlsCert))
    : grpc.credentials.createInsecure();
}

/** An interceptor that sends `authorization: Bearer <apiKey>` with every call. */
function bearer(apiKey) {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set("authorization", `Bearer ${apiKey}`);
      next(metadata, listener);
    },
  });
}

/** Serves until stop(); calls onRefused(message) when the coordinator refuses the hello. */
export function runWorker({ coordinator, embedder, workerId, maxBatchSize = 0, log = console.error, onRefused, apiKey = "", tls = {} }) {
  const WorkerService = loadService();
  const client = new WorkerService(coordinator, channelCredentials(tls), {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    interceptors: apiKey ? [bearer(apiKey)] : [],
  });
  let stopped = false;
  let failures = 0;
  let call = null;
  let timer = null;

  const connect = () => {
    if (stopped) return;
    let heartbeat = null;
    let queue = Promise.resolve();
    const current = client.Work();
    call = current;
    current.write({ hello: {
      worker_id: workerId, capabilities: [`embed:${embedder.modelId}`], max_tasks: 1,
      max_batch_size: maxBatchSize, runtime: `node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? ""}`,
    } });
    current.on("data", (msg) => {
      if (msg.message === "started") {
        failures = 0;
        log(`connected to ${coordinator} as ${workerId} (session ${msg.started.session_id}, model ${msg.started.model_id})`);
        heartbeat = setInterval(() => current.write({ heartbeat: { task_ids: [] } }), Math.max(500, msg.started.heartbeat_seconds * 1000));
      } else if (msg.message === "task") {
        // One task at a time (max_tasks 1): chain them.
        queue = queue.then(async () => current.write(await answer(embedder, msg.task)));
      }
      // Cancellations need nothing: an EMBED task is short and its answer is discarded.
    });
    let ended = false;
    const end = (err) => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      if (stopped) return;
      if (err && REFUSED.has(err.code)) {
        stopped = true;
        client.close();
        onRefused?.(err.details);
        return;
      }
      const wait = backoffMs(failures++);
      log(`coordinator ${coordinator}: ${err ? err.details || err.message : "session ended"}; reconnecting in ${wait} ms`);
      timer = setTimeout(connect, wait);
    };
    current.on("error", end);
    current.on("end", () => end(null));
  };

  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      call?.cancel();
      client.close();
    },
  };
}

async function main() {
  const { values } = parseArgs({ options: {
    coordinator: { type: "string", default: process.env.FACEREC_COORDINATOR ?? "127.0.0.1:50051" },
    model: { type: "string" },
    "worker-id": { type: "string", default: `node/${process.pid}` },
    "max-batch-size": { type: "string", default: "0" },
    "api-key": { type: "string", default: process.env.FACEREC_API_KEY ?? "" },
    "tls-ca": { type: "string", default: process.env.FACEREC_TLS_CA },
    "tls-cert": { type: "string", default: process.env.FACEREC_TLS_CERT },
    "tls-key": { type: "string", default: process.env.FACEREC_TLS_KEY },
  } });
  if (!values.model) {
    console.error("usage: worker.js --coordinator HOST:PORT --model model.onnx [--worker-id ID] [--max-batch-size N]");
    process.exit(2);
  }
  const embedder = await OnnxEmbedder.load(values.model);
  console.error(`loaded ${values.model} (model ${embedder.modelId})`);
  const worker = runWorker({
    coordinator: values.coordinator, embedder, workerId: values["worker-id"],
    maxBatchSize: Number(values["max-batch-size"]),
    apiKey: values["api-key"],
    tls: { tlsCa: values["tls-ca"], tlsCert: values["tls-cert"], tlsKey: values["tls-key"] },
    onRefused: (message) => { console.error(`the coordinator refused this worker: ${message}`); process.exit(2); },
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => { worker.stop(); process.exit(0); });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => { console.error(err.message ?? err); process.exit(1); });
}
