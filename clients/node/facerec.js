// A small facerec gRPC client: loads the contract from protos/ at run time.
import { createReadStream, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const PROTOS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "protos");
const CHUNK_BYTES = 256 * 1024;

function loadPackage() {
  const definition = protoLoader.loadSync(
    ["facerec/v1/recognition_service.proto", "facerec/v1/gallery_service.proto"],
    { includeDirs: [PROTOS], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
  );
  return grpc.loadPackageDefinition(definition).facerec.v1;
}

/**
 * Channel credentials and options for a facerec server: TLS when a CA or a client certificate
 * is given (mutual TLS with the certificate), and `authorization: Bearer <apiKey>` on every call.
 */
export function channelSettings({ apiKey = "", tlsCa, tlsCert, tlsKey } = {}) {
  const read = (path) => (path ? readFileSync(path) : null);
  const credentials = tlsCa || tlsCert
    ? grpc.credentials.createSsl(read(tlsCa), read(tlsKey), read(tlsCert))
    : grpc.credentials.createInsecure();
  const interceptors = apiKey
    ? [(options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          metadata.set("authorization", `Bearer ${apiKey}`);
          next(metadata, listener);
        },
      })]
    : [];
  return { credentials, options: { interceptors } };
}

/** Stubs for RecognitionService and GalleryService on one channel; see channelSettings. */
export function connect(target, security = {}) {
  const v1 = loadPackage();
  const { credentials, options } = channelSettings(security);
  const recognition = new v1.RecognitionService(target, credentials, options);
  const gallery = new v1.GalleryService(target, credentials, { ...options, channelOverride: recognition.getChannel() });
  return { recognition, gallery, close: () => recognition.close() };
}

/** Streams a photo file to SubmitJob; resolves with the queued job. */
export function submitJob(client, path, spec = {}, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const call = client.recognition.SubmitJob(
      { deadline: Date.now() + timeoutMs },
      (err, response) => (err ? reject(err) : resolve(response.job)),
    );
    call.write({ spec });
    const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
    file.on("data", (chunk) => call.write({ chunk }));
    file.on("end", () => call.end());
    file.on("error", (err) => { call.cancel(); reject(err); });
  });
}

/** Calls onEvent for every job event; resolves with the final job. */
export function watchJob(client, jobId, onEvent = () => {}) {
  return new Promise((resolve, reject) => {
    let last = null;
    const call = client.recognition.WatchJob({ job_id: jobId });
    call.on("data", (event) => { last = event.job; onEvent(event); });
    call.on("error", reject);
    call.on("end", () => resolve(last));
  });
}

/** A human summary of a finished job, like `facerec recognize` prints. */
export function describe(label, job) {
  const state = job.state.replace("JOB_STATE_", "").toLowerCase();
  const lines = [`${label}: ${state}, ${job.faces.length} face(s)` +
    (job.untrained_model ? " [UNTRAINED MODEL: matches are not meaningful]" : "")];
  if (job.error) lines.push(`  error ${job.error.code}: ${job.error.message}`);
  job.faces.forEach((face, i) => {
    const b = face.box;
    lines.push(`  face ${i + 1}: box=(${[b.x1, b.y1, b.x2, b.y2].map(Math.round).join(",")}) score=${face.score.toFixed(3)}`);
    if (!face.matches.length) lines.push("    no match");
    for (const m of face.matches) lines.push(`    ${m.name} (${m.collection}) similarity=${m.similarity.toFixed(3)}`);
  });
  return lines.join("\n");
}
