"use strict";
// The upload page: POST each photo, then follow its job over server-sent events.

const jobsEl = document.getElementById("jobs");
const statusEl = document.getElementById("form-status");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

async function loadCollections() {
  try {
    const resp = await fetch("/api/v1/collections");
    document.getElementById("login").hidden = resp.status !== 401;
    if (!resp.ok) return;
    const select = document.getElementById("collection");
    for (const c of (await resp.json()).collections) {
      select.append(el("option", { value: c.name }, `${c.name} (${c.identity_count} people)`));
    }
  } catch (e) { /* compute unreachable: the page still works without the list */ }
}

async function loadModel() {
  const line = document.getElementById("model");
  try {
    const resp = await fetch("/api/v1/model");
    if (!resp.ok) { line.textContent = "Model: unknown (compute unreachable)"; return; }
    const { model, reembeddings } = await resp.json();
    let text = `Model: ${model.id} (${model.embedding_dim}-d, ${model.trained ? "trained" : "untrained"}; match threshold ${model.default_min_similarity})`;
    for (const r of reembeddings) text += `; ${r.collection}: ${r.faces_done}/${r.faces_total} faces re-embedded`;
    line.textContent = text;
    if (!model.trained) document.getElementById("untrained").hidden = false;
  } catch (e) { line.textContent = "Model: unknown (compute unreachable)"; }
}

function drawFaces(canvas, image, job) {
  const scale = Math.min(240 / image.naturalWidth, 240 / image.naturalHeight, 1);
  canvas.width = Math.round(image.naturalWidth * scale);
  canvas.height = Math.round(image.naturalHeight * scale);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (!job || !job.image.width) return;
  // Boxes are in pixels of the upright photo; browsers also apply EXIF orientation.
  const sx = canvas.width / job.image.width, sy = canvas.height / job.image.height;
  ctx.lineWidth = 2;
  job.faces.forEach((f, i) => {
    const [x1, y1, x2, y2] = f.box;
    ctx.strokeStyle = f.matches.length ? "#1e8e3e" : "#d93025";
    ctx.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(String(i + 1), x1 * sx + 2, y1 * sy + 10);
  });
}

function render(card, job) {
  const state = card.querySelector(".state");
  state.textContent = job.state;
  state.className = `state ${job.state}`;
  card.dataset.state = job.state;
  if (job.untrained_model) document.getElementById("untrained").hidden = false;
  const details = card.querySelector(".details");
  details.replaceChildren();
  if (job.error) details.append(el("p", { class: "error" }, `${job.error.code}: ${job.error.message}`));
  if (job.state === "succeeded" || job.faces.length) {
    const by = job.model_id ? ` (model ${job.model_id})` : "";
    details.append(el("p", { class: "model" }, `${job.faces.length} face(s) found${by}`));
    const list = el("ol", { class: "faces" });
    for (const f of job.faces) {
      const who = f.matches.length
        ? f.matches.map((m) => `${m.name} (${m.collection}, ${m.similarity.toFixed(3)})`).join(", ")
        : (job.state === "succeeded" ? "no match" : "matching…");
      list.append(el("li", { class: "face" }, `score ${f.score.toFixed(3)}: ${who}`));
    }
    details.append(list);
  }
  const canvas = card.querySelector("canvas");
  if (card.image && card.image.complete) drawFaces(canvas, card.image, job);
  card.job = job;
}

const TERMINAL = ["succeeded", "failed", "cancelled"];

// The browser reconnects a dropped event stream by itself, but gives up for good when a
// reconnection is answered with an error status (503 while the compute server restarts, say).
// `open` (which makes the EventSource and its listeners) then runs again after a pause that
// doubles up to 15 s, until `done()`.
function keepOpen(open, done = () => false, pause = 1000) {
  const source = open();
  source.addEventListener("open", () => { pause = 1000; });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED || done()) return;
    setTimeout(() => keepOpen(open, done, Math.min(pause * 2, 15000)), pause);
  });
}

function follow(card, jobId) {
  keepOpen(() => {
    const source = new EventSource(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`);
    for (const kind of ["snapshot", "state_changed", "faces_detected"]) {
      source.addEventListener(kind, (ev) => {
        const job = JSON.parse(ev.data);
        render(card, job);
        if (TERMINAL.includes(job.state)) source.close();
      });
    }
    source.addEventListener("end", () => source.close());
    source.addEventListener("error", (ev) => {
      if (!ev.data) return;
      const details = card.querySelector(".details");
      let note = details.querySelector(".stream-error");
      if (!note) details.append(note = el("p", { class: "error stream-error" }));
      note.textContent = `${JSON.parse(ev.data).message}; reconnecting…`;
    });
    return source;
  }, () => TERMINAL.includes(card.dataset.state));
}

async function upload(file, collection) {
  const card = el("article", { class: "job" },
    el("canvas", { width: 240, height: 160 }),
    el("div", {}, el("h2", {}, file.name), el("span", { class: "state" }, "uploading"),
      el("div", { class: "details" })));
  jobsEl.prepend(card);
  const image = new Image();
  image.onload = () => drawFaces(card.querySelector("canvas"), image, card.job);
  image.src = URL.createObjectURL(file);
  card.image = image;
  const form = new FormData();
  if (collection) form.append("collection", collection);
  form.append("image", file);
  try {
    const resp = await fetch("/api/v1/jobs", { method: "POST", body: form });
    const body = await resp.json();
    if (resp.status !== 202) {
      render(card, { state: "failed", faces: [], image: {}, error: body.error });
      return;
    }
    card.dataset.jobId = body.id;
    render(card, body);
    follow(card, body.id);
  } catch (e) {
    render(card, { state: "failed", faces: [], image: {}, error: { code: "NETWORK", message: String(e) } });
  }
}

document.getElementById("upload").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const files = [...document.getElementById("photos").files];
  const collection = document.getElementById("collection").value;
  statusEl.textContent = `uploading ${files.length} photo(s)…`;
  await Promise.all(files.map((f) => upload(f, collection)));
  statusEl.textContent = "";
});

let lastAlertId = 0;

function showAlert(alert) {
  lastAlertId = Math.max(lastAlertId, alert.id);
  const list = document.getElementById("alerts");
  if (list.querySelector(`[data-alert-id="${alert.id}"]`)) return;
  const when = new Date(alert.created_at).toLocaleTimeString();
  const item = el("li", { class: "alert", "data-alert-id": String(alert.id) },
    `${when}: ${alert.name} (${alert.collection}, similarity ${alert.similarity.toFixed(3)}) in job ${alert.job_id}`);
  list.prepend(item);
}

async function followAlerts() {
  try {
    const resp = await fetch("/api/v1/alerts?page_size=10");
    if (resp.ok) (await resp.json()).alerts.slice().reverse().forEach(showAlert);
  } catch (e) { /* the stream below retries by itself */ }
  // After a dropped connection the browser resumes from the last event id by itself; a
  // stream opened again by keepOpen starts after the newest alert shown.
  keepOpen(() => {
    const source = new EventSource(`/api/v1/alerts/events?after=${lastAlertId}`);
    source.addEventListener("alert", (ev) => showAlert(JSON.parse(ev.data)));
    return source;
  });
}

loadCollections();
loadModel();
followAlerts();
