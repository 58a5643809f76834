// Recognise: drop or choose photos (folders too), options per upload, a progress bar per
// file, each job followed live; a compact live list of alerts.

import { followAlerts, followJob, get, message, upload } from "./api.js";
import { announce, dropZone, el, errorNote, jobErrorText, pct, when } from "./dom.js";
import { drawFaces, faceList, loadImage, rememberPhoto } from "./faces.js";

export function recogniseView() {
  const photos = el("input", { id: "photos", name: "image", type: "file", accept: "image/*", multiple: true });
  const folder = el("input", { id: "folder", type: "file", webkitdirectory: true, multiple: true });
  const collection = el("select", { id: "collection" }, el("option", { value: "" }, "all collections"));
  const topK = el("input", { id: "top-k", type: "number", min: 1, max: 100, value: 5, inputmode: "numeric" });
  const threshold = el("input", { id: "threshold", type: "number", min: -1, max: 1, step: 0.01, placeholder: "model default" });
  const minFace = el("input", { id: "min-face", type: "number", min: 12, max: 4096, placeholder: "server default", inputmode: "numeric" });
  const formStatus = el("span", { id: "form-status", role: "status" });
  const jobs = el("section", { id: "jobs", "aria-live": "polite", "aria-label": "Uploads" });
  const alerts = el("ul", { id: "alerts", "aria-live": "polite" });
  const zone = el("div", { class: "drop", tabindex: 0, role: "button", "aria-label": "Drop photos or folders here, or press Enter to choose photos" },
    "Drop photos or folders here, or choose them below");
  const form = el("form", { id: "upload", class: "panel" },
    zone,
    el("div", { class: "fields" },
      el("label", {}, "Photos ", photos),
      el("label", {}, "A folder ", folder),
      el("label", {}, "Collection ", collection),
      el("label", {}, "Top matches ", topK),
      el("label", {}, "Threshold ", threshold),
      el("label", {}, "Smallest face (px) ", minFace)),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Recognise"), formStatus));

  const options = () => ({
    collection: collection.value,
    top_k: topK.value,
    min_similarity: threshold.value,
    min_face_size: minFace.value,
  });
  // Every file goes to the API, which says what is wrong with one that is not a photo.
  const start = (images) => {
    if (!images.length) { formStatus.textContent = "no photos chosen"; return; }
    formStatus.textContent = `uploading ${images.length} photo(s)…`;
    Promise.all(images.map((f) => send(jobs, f, options()))).then(() => { formStatus.textContent = ""; });
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    start([...photos.files, ...folder.files]);
    photos.value = "";
    folder.value = "";
  });
  dropZone(zone, start);
  zone.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); photos.click(); } });

  const root = el("section", { class: "view recognise", "aria-labelledby": "recognise-title" },
    el("h2", { id: "recognise-title" }, "Recognise"),
    el("p", { class: "hint" }, "Each photo becomes a job on the compute server; results appear here as they arrive. Photos stay in this tab: the server deletes them once their job ends."),
    form,
    el("section", { id: "alerts-panel", "aria-labelledby": "alerts-title" },
      el("h3", { id: "alerts-title" }, "Alerts"),
      el("p", { class: "hint" }, "Faces that match a watchlist appear here as they are recognised."),
      alerts),
    jobs);
  return {
    root,
    async show() {
      try {
        const chosen = collection.value;
        const { collections } = await get("/api/v1/collections");
        collection.replaceChildren(el("option", { value: "" }, "all collections"),
          ...collections.map((c) => el("option", { value: c.name }, `${c.name} (${c.identity_count} people)`)));
        collection.value = chosen;
      } catch (e) { /* not logged in or compute down: the banners say so */ }
      if (!root.dataset.following) {
        root.dataset.following = "yes";
        followRecentAlerts(alerts);
      }
    },
  };
}

async function followRecentAlerts(list) {
  let after = 0;
  try {
    const recent = (await get("/api/v1/alerts?page_size=10")).alerts;
    after = recent.length ? recent[0].id : 0;
    recent.slice().reverse().forEach((a) => showAlert(list, a));
  } catch (e) { /* the stream retries by itself */ }
  followAlerts(after, (a) => { showAlert(list, a); announce(`Alert: ${a.name} in ${a.collection}`); });
}

function showAlert(list, alert) {
  if (list.querySelector(`[data-alert-id="${alert.id}"]`)) return;
  list.prepend(el("li", { class: "alert", "data-alert-id": alert.id },
    `${when(alert.created_at)}: ${alert.name} (${alert.collection}, similarity ${pct(alert.similarity)}) in `,
    el("a", { href: `#/jobs/${alert.job_id}` }, `job ${alert.job_id}`)));
}

function card(file) {
  const progress = el("progress", { max: 100, value: 0, "aria-label": `upload of ${file.name}` });
  const canvas = el("canvas", { width: 160, height: 120, "aria-hidden": "true" });
  const node = el("article", { class: "job", "data-state": "uploading" },
    canvas,
    el("div", { class: "body" },
      el("h3", {}, file.name),
      el("span", { class: "state uploading" }, "uploading"),
      progress,
      el("div", { class: "details" })));
  return { node, progress, canvas };
}

function render(c, job, image) {
  const state = c.node.querySelector(".state");
  state.textContent = job.state;
  state.className = `state ${job.state}`;
  c.node.dataset.state = job.state;
  const details = c.node.querySelector(".details");
  details.replaceChildren();
  if (job.error) details.append(errorNote(jobErrorText(job.error)));
  if (job.id) {
    const by = job.model_id ? ` (model ${job.model_id})` : "";
    if (job.state === "succeeded" || job.faces.length) {
      details.append(el("p", { class: "model" }, `${job.faces.length} face(s) found${by}`), faceList(job));
    }
    details.append(el("a", { href: `#/jobs/${job.id}`, class: "more" }, "Details"));
  }
  drawFaces(c.canvas, image, job, 160);
}

async function send(list, file, opts) {
  const c = card(file);
  list.prepend(c.node);
  const url = URL.createObjectURL(file);
  const image = await loadImage(url);
  drawFaces(c.canvas, image, null, 160);
  const form = new FormData();
  for (const [k, v] of Object.entries(opts)) if (v !== "") form.append(k, v);
  form.append("image", file);
  try {
    const job = await upload("/api/v1/jobs", form, (f) => { c.progress.value = Math.round(f * 100); });
    c.progress.remove();
    c.node.dataset.jobId = job.id;
    rememberPhoto(job.id, url);
    render(c, job, image);
    followJob(job.id, (j) => render(c, j, image), (why) => {
      c.node.querySelector(".details").append(errorNote(`${why}; reconnecting…`));
    });
  } catch (err) {
    c.progress.remove();
    render(c, { state: "failed", faces: [], image: {}, error: { code: err.code || "NETWORK", message: message(err).replace(/ \([A-Z_0-9]+\)$/, "") } }, image);
  }
}
