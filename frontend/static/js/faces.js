// Drawing numbered face boxes, and the list of faces with their matches.

import { el, pct } from "./dom.js";

// Photos uploaded in this tab, by job id: the server keeps none, so only these can be shown.
const photos = new Map();

export function rememberPhoto(jobId, url) { photos.set(jobId, url); }
export function photoOf(jobId) { return photos.get(jobId); }

const MATCHED = "#1e8e3e";
const UNKNOWN = "#d93025";

/**
 * Draws `image` (or, without it, an outline of the photo's size) scaled to at most `max`
 * pixels, with each face's box and number. Boxes are in pixels of the upright photo; browsers
 * apply EXIF orientation when drawing too.
 */
export function drawFaces(canvas, image, job, max) {
  const size = (job && job.image) || {};
  const w = image ? image.naturalWidth : size.width || 4;
  const h = image ? image.naturalHeight : size.height || 3;
  const scale = Math.min(max / w, max / h, 1);
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  const ctx = canvas.getContext("2d");
  if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  else {
    ctx.fillStyle = "#e8eaed";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  if (!job || !job.image || !job.image.width) return;
  const sx = canvas.width / job.image.width;
  const sy = canvas.height / job.image.height;
  ctx.lineWidth = Math.max(2, Math.round(canvas.width / 300));
  ctx.font = `bold ${Math.max(12, Math.round(canvas.width / 40))}px system-ui, sans-serif`;
  job.faces.forEach((f, i) => {
    const [x1, y1, x2, y2] = f.box;
    ctx.strokeStyle = f.matches.length ? MATCHED : UNKNOWN;
    ctx.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    ctx.fillStyle = ctx.strokeStyle;
    const label = String(i + 1);
    const tw = ctx.measureText(label).width + 6;
    ctx.fillRect(x1 * sx, y1 * sy - 16 > 0 ? y1 * sy - 16 : y1 * sy, tw, 16);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, x1 * sx + 3, (y1 * sy - 16 > 0 ? y1 * sy - 16 : y1 * sy) + 13);
  });
}

/** The faces of a job as a numbered list: names and similarities, or "no match". */
export function faceList(job) {
  const list = el("ol", { class: "faces" });
  for (const f of job.faces) {
    const who = f.matches.length
      ? f.matches.map((m) => `${m.name} (${m.collection}, similarity ${pct(m.similarity)})`).join("; ")
      : (job.state === "succeeded" ? "no match" : "matching…");
    list.append(el("li", { class: "face" }, `${who} · detection score ${f.score.toFixed(3)}`));
  }
  return list;
}

/** A photo's image element from a File, loaded. */
export function loadImage(url) {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => resolve(null);
    image.src = url;
  });
}
