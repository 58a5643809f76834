// Jobs: the history from ListJobs (paged, filtered by state), cancel, and a view per job at
// #/jobs/<id> with the photo (when this tab uploaded it), numbered boxes and matches.

import { TERMINAL, followJob, get, message, request } from "./api.js";
import { announce, el, errorNote, jobErrorText, pct, when } from "./dom.js";
import { drawFaces, loadImage, photoOf } from "./faces.js";

const STATES = ["queued", "running", "succeeded", "failed", "cancelled"];
const PAGE = 20;

export function jobsView() {
  const filters = STATES.map((s) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "state", value: s }), ` ${s}`));
  const rows = el("tbody");
  const more = el("button", { type: "button", hidden: true }, "Older jobs");
  const note = el("div", { role: "status" });
  let token = null;

  const chosen = () => filters.map((f) => f.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
  const load = async (reset) => {
    if (reset) { rows.replaceChildren(); token = null; }
    note.replaceChildren();
    const query = new URLSearchParams({ page_size: PAGE });
    if (chosen().length) query.set("state", chosen().join(","));
    if (token) query.set("page_token", token);
    try {
      const page = await get(`/api/v1/jobs?${query}`);
      for (const job of page.jobs) rows.append(row(job, () => load(true)));
      token = page.next_page_token;
      more.hidden = !token;
      if (!rows.children.length) note.append(el("p", { class: "hint" }, "No jobs yet."));
    } catch (err) {
      note.append(errorNote(message(err)));
    }
  };
  for (const f of filters) f.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));

  const root = el("section", { class: "view jobs", "aria-labelledby": "jobs-title" },
    el("h2", { id: "jobs-title" }, "Jobs"),
    el("fieldset", { class: "filters" }, el("legend", {}, "Show"), ...filters),
    note,
    el("div", { class: "table-wrap" },
      el("table", {},
        el("caption", { class: "visually-hidden" }, "Jobs, newest first"),
        el("thead", {}, el("tr", {}, ...["Job", "Kind", "State", "Faces", "Created", ""].map((h) => el("th", { scope: "col" }, h)))),
        rows)),
    more);
  return { root, show: () => load(true) };
}

function row(job, reload) {
  const cancel = el("button", { type: "button", class: "small", hidden: TERMINAL.includes(job.state) }, "Cancel");
  cancel.addEventListener("click", async () => {
    try {
      await request("POST", `/api/v1/jobs/${job.id}/cancel`);
      announce(`job ${job.id} cancelled`);
      reload();
    } catch (err) { cancel.after(errorNote(message(err))); }
  });
  return el("tr", { "data-job-id": job.id, "data-state": job.state },
    el("td", {}, el("a", { href: `#/jobs/${job.id}`, title: job.id, "aria-label": `job ${job.id}` }, `${job.id.slice(0, 14)}…`)),
    el("td", {}, job.kind),
    el("td", {}, el("span", { class: `state ${job.state}` }, job.state)),
    el("td", {}, String(job.faces.length)),
    el("td", {}, when(job.created_at)),
    el("td", {}, cancel));
}

/** The view of one job; `id` from the URL. */
export function jobDetail(id) {
  const root = el("section", { class: "view job-detail", "aria-labelledby": "job-title" },
    el("p", {}, el("a", { href: "#/jobs" }, "← All jobs")),
    el("h2", { id: "job-title" }, `Job ${id}`));
  const body = el("div", { class: "detail" });
  root.append(body);
  let stop = () => {};
  const render = async (job) => {
    const url = photoOf(job.id);
    const image = url ? await loadImage(url) : null;
    const canvas = el("canvas", { class: "photo", role: "img", "aria-label": `the photo with ${job.faces.length} numbered face boxes` });
    // Drawn at the size it is shown, so boxes and numbers stay legible on a phone.
    const shown = Math.min(1200, body.clientWidth || 1200) * (window.devicePixelRatio || 1);
    drawFaces(canvas, image, job, shown);
    const cancel = el("button", { type: "button", hidden: TERMINAL.includes(job.state) }, "Cancel job");
    cancel.addEventListener("click", async () => {
      try { render(await request("POST", `/api/v1/jobs/${job.id}/cancel`)); } catch (err) { cancel.after(errorNote(message(err))); }
    });
    const faces = el("table", { class: "faces-table" },
      el("thead", {}, el("tr", {}, ...["#", "Who", "Similarity", "Detection score", "Box"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...job.faces.map((f, i) => el("tr", { class: "face" },
        el("td", {}, String(i + 1)),
        el("td", {}, f.matches.length ? f.matches.map((m) => `${m.name} (${m.collection})`).join("; ") : (job.state === "succeeded" ? "no match" : "…")),
        el("td", {}, f.matches.map((m) => pct(m.similarity)).join("; ")),
        el("td", {}, f.score.toFixed(3)),
        el("td", {}, f.box.map(Math.round).join(", "))))));
    body.replaceChildren(
      el("p", {}, el("span", { class: `state ${job.state}`, "data-state": job.state }, job.state),
        ` ${job.kind} · ${job.faces.length} face(s) · model ${job.model_id || "—"}`,
        job.untrained_model ? el("strong", {}, " (untrained: matches are not meaningful)") : "",
        ` · created ${when(job.created_at)} · photo ${job.image.width || "?"}×${job.image.height || "?"} ${job.image.format || ""}`),
      job.error ? errorNote(jobErrorText(job.error)) : "",
      url ? "" : el("p", { class: "hint" }, "The server keeps no photos: boxes are drawn on an outline of the photo's size. Photos uploaded from this tab are shown."),
      canvas,
      job.faces.length ? faces : el("p", {}, job.state === "succeeded" ? "No faces found." : ""),
      cancel);
  };
  return {
    root,
    async show() {
      try {
        const job = await get(`/api/v1/jobs/${encodeURIComponent(id)}`);
        await render(job);
        if (!TERMINAL.includes(job.state)) stop = followJob(id, render);
      } catch (err) {
        body.replaceChildren(errorNote(message(err)));
      }
    },
    hide() { stop(); },
  };
}
