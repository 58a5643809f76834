// Galleries: collections (create, delete), their people with enrolled face thumbnails,
// enrolment by drag-and-drop with progress and per-photo results, watchlist settings and
// webhooks (secrets write-only).

import { TERMINAL, followJob, get, message, request, upload } from "./api.js";
import { announce, dropZone, el, errorNote, jobErrorText } from "./dom.js";

const enc = encodeURIComponent;

export function galleriesView() {
  const list = el("div", { class: "cards", "aria-live": "polite" });
  const note = el("div", { role: "status" });
  const name = el("input", { id: "new-collection", name: "name", required: true, pattern: "[a-z0-9][a-z0-9_\\-]{0,63}", autocomplete: "off" });
  const description = el("input", { id: "new-description", name: "description" });
  const watch = el("input", { id: "new-watchlist", type: "checkbox" });
  const create = el("form", { id: "create-collection", class: "panel" },
    el("h3", {}, "New collection"),
    el("div", { class: "fields" },
      el("label", {}, "Name (a-z, 0-9, _ and -) ", name),
      el("label", {}, "Description ", description),
      el("label", { class: "check" }, watch, " Watchlist: raise alerts on matches")),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Create collection")));
  const load = async () => {
    note.replaceChildren();
    try {
      const { collections } = await get("/api/v1/collections");
      list.replaceChildren(...collections.map((c) => collectionCard(c, load)));
      if (!collections.length) list.append(el("p", { class: "hint" }, "No collections yet: create one to enrol people."));
    } catch (err) { note.append(errorNote(message(err))); }
  };
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    create.querySelector(".error")?.remove();
    try {
      const c = await request("POST", "/api/v1/collections", { name: name.value.trim(), description: description.value, alert_on_match: watch.checked });
      announce(`collection ${c.name} created`);
      location.hash = `#/galleries/${enc(c.name)}`;
    } catch (err) { create.append(errorNote(message(err))); }
  });
  const root = el("section", { class: "view galleries", "aria-labelledby": "galleries-title" },
    el("h2", { id: "galleries-title" }, "Galleries"), note, list, create);
  return { root, show: load };
}

function collectionCard(c, reload) {
  const remove = el("button", { type: "button", class: "danger small" }, "Delete");
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete the collection ${c.name} with its ${c.identity_count} people and ${c.face_count} faces? Their faces and names are erased; this cannot be undone.`)) return;
    try {
      await request("DELETE", `/api/v1/collections/${enc(c.name)}`);
      announce(`collection ${c.name} deleted`);
      reload();
    } catch (err) { remove.after(errorNote(message(err))); }
  });
  return el("article", { class: "card collection", "data-collection": c.name },
    el("h3", {}, el("a", { href: `#/galleries/${enc(c.name)}` }, c.name)),
    c.alert_on_match ? el("span", { class: "badge" }, "watchlist") : "",
    el("p", {}, `${c.identity_count} people, ${c.face_count} faces`),
    c.description ? el("p", { class: "hint" }, c.description) : "",
    remove);
}

/** One collection: settings, webhooks, people. */
export function collectionView(name) {
  const root = el("section", { class: "view collection-detail", "aria-labelledby": "collection-title" },
    el("p", {}, el("a", { href: "#/galleries" }, "← All collections")),
    el("h2", { id: "collection-title" }, `Collection ${name}`));
  const body = el("div");
  root.append(body);
  const load = async () => {
    try {
      const c = await get(`/api/v1/collections/${enc(name)}`);
      const { identities } = await get(`/api/v1/collections/${enc(name)}/identities?page_size=500`);
      const full = await Promise.all(identities.map((i) => get(`/api/v1/collections/${enc(name)}/identities/${enc(i.id)}`)));
      body.replaceChildren(watchlistForm(c, load), webhooks(c, load), people(c, full, load));
    } catch (err) { body.replaceChildren(errorNote(message(err))); }
  };
  return { root, show: load };
}

function watchlistForm(c, reload) {
  const on = el("input", { id: "alert-on-match", type: "checkbox", checked: c.alert_on_match });
  const threshold = el("input", { id: "alert-threshold", type: "number", min: -1, max: 1, step: 0.01,
    value: c.model_threshold ? "" : c.alert_threshold, placeholder: `model default (${c.alert_threshold})` });
  const form = el("form", { id: "watchlist", class: "panel" },
    el("h3", {}, "Watchlist"),
    el("div", { class: "fields" },
      el("label", { class: "check" }, on, " Raise an alert when a face matches someone here"),
      el("label", {}, "Alert threshold (similarity) ", threshold)),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelector(".error")?.remove();
    try {
      await request("PATCH", `/api/v1/collections/${enc(c.name)}`, {
        alert_on_match: on.checked,
        alert_threshold: threshold.value === "" ? null : Number(threshold.value),
      });
      announce("watchlist settings saved");
      reload();
    } catch (err) { form.append(errorNote(message(err))); }
  });
  return form;
}

function webhooks(c, reload) {
  const url = el("input", { id: "webhook-url", type: "url", required: true, placeholder: "https://example.com/hook" });
  const secret = el("input", { id: "webhook-secret", type: "password", required: true, minlength: 16, autocomplete: "new-password" });
  const form = el("form", { id: "add-webhook", class: "fields" },
    el("label", {}, "URL ", url), el("label", {}, "Secret (16+ characters, never shown again) ", secret),
    el("button", { type: "submit", disabled: !c.alert_on_match }, "Add webhook"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelector(".error")?.remove();
    try {
      await request("POST", `/api/v1/collections/${enc(c.name)}/webhooks`, { url: url.value, secret: secret.value });
      announce("webhook added");
      reload();
    } catch (err) { form.append(errorNote(message(err))); }
  });
  const items = c.webhooks.map((w) => {
    const del = el("button", { type: "button", class: "danger small" }, "Remove");
    del.addEventListener("click", async () => {
      try { await request("DELETE", `/api/v1/collections/${enc(c.name)}/webhooks/${w.id}`); reload(); } catch (err) { del.after(errorNote(message(err))); }
    });
    return el("li", { class: "webhook" }, el("code", {}, w.url), " ", del);
  });
  return el("section", { class: "panel", "aria-labelledby": "webhooks-title" },
    el("h3", { id: "webhooks-title" }, "Webhooks"),
    c.alert_on_match ? "" : el("p", { class: "hint" }, "Only watchlists send alerts: turn the watchlist on first."),
    el("ul", { class: "webhooks" }, ...items), form);
}

function people(c, identities, reload) {
  const name = el("input", { id: "new-person", required: true, autocomplete: "off" });
  const add = el("form", { id: "add-person", class: "fields" },
    el("label", {}, "Name ", name), el("button", { type: "submit" }, "Add person"));
  add.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    add.querySelector(".error")?.remove();
    try {
      await request("POST", `/api/v1/collections/${enc(c.name)}/identities`, { name: name.value });
      announce(`${name.value} added`);
      reload();
    } catch (err) { add.append(errorNote(message(err))); }
  });
  return el("section", { class: "panel", "aria-labelledby": "people-title" },
    el("h3", { id: "people-title" }, `People (${identities.length})`), add,
    el("div", { class: "people" }, ...identities.map((i) => person(c, i, reload))));
}

function person(c, identity, reload) {
  const base = `/api/v1/collections/${enc(c.name)}/identities/${enc(identity.id)}`;
  const results = el("ul", { class: "enrolments", "aria-live": "polite" });
  const input = el("input", { type: "file", accept: "image/*", multiple: true, "aria-label": `photos of ${identity.name}` });
  const zone = el("div", { class: "drop small", tabindex: 0, role: "button", "aria-label": `Drop photos of ${identity.name} to enrol them` },
    `Drop photos of ${identity.name} here, or `, input);
  const count = el("span", { class: "hint" });
  const thumbs = el("div", { class: "thumbs" });
  const showFaces = (who) => {
    count.textContent = ` · ${who.face_count} face(s)`;
    thumbs.replaceChildren(...who.faces.map((f) => thumb(base, who, f, refresh)));
  };
  // Only this person's faces are fetched again, so the per-photo results stay on screen.
  const refresh = async () => { try { showFaces(await get(base)); } catch (err) { thumbs.append(errorNote(message(err))); } };
  showFaces(identity);
  const enrol = (files) => Promise.all(files.map((f) => enrolOne(base, f, results))).then(refresh);
  dropZone(zone, enrol);
  input.addEventListener("change", () => { enrol([...input.files]); input.value = ""; });
  const remove = el("button", { type: "button", class: "danger small" }, "Delete person");
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete ${identity.name} and their enrolled faces? Their name is erased from past results and alerts too.`)) return;
    try { await request("DELETE", base); announce(`${identity.name} deleted`); reload(); } catch (err) { remove.after(errorNote(message(err))); }
  });
  return el("article", { class: "person", "data-identity-id": identity.id },
    el("h4", {}, identity.name, count), thumbs, zone, results, remove);
}

function thumb(base, identity, face, refresh) {
  const del = el("button", { type: "button", class: "small", "aria-label": `delete face ${face.id} of ${identity.name}` }, "×");
  del.addEventListener("click", async () => {
    try { await request("DELETE", `${base}/faces/${face.id}`); refresh(); } catch (err) { del.after(errorNote(message(err))); }
  });
  return el("figure", { class: "thumb", "data-face-id": face.id },
    el("img", { src: `/api/v1/faces/${face.id}/crop`, alt: `enrolled face of ${identity.name}`, width: 80, height: 80 }), del);
}

async function enrolOne(base, file, results) {
  const progress = el("progress", { max: 100, value: 0, "aria-label": `upload of ${file.name}` });
  const item = el("li", { class: "enrolment", "data-file": file.name }, `${file.name}: `, progress);
  results.append(item);
  const form = new FormData();
  form.append("image", file);
  const say = (text, bad) => item.replaceChildren(bad ? errorNote(`${file.name}: ${text}`) : `${file.name}: ${text}`);
  try {
    const { jobs } = await upload(`${base}/faces`, form, (f) => { progress.value = Math.round(f * 100); });
    say("enrolling…");
    const job = await new Promise((resolve) => followJob(jobs[0].id, (j) => { if (TERMINAL.includes(j.state)) resolve(j); }));
    if (job.state !== "succeeded") say(job.error ? jobErrorText(job.error) : job.state, true);
    else if (job.enrollment && job.enrollment.faces_in_photo > 1) say(`enrolled; ${job.enrollment.faces_in_photo} faces in the photo: the largest was used`);
    else say("enrolled");
  } catch (err) { say(message(err), true); }
}
