// Alerts: the log, newest first, growing live; each with the enrolled face that matched, the
// person, the job, and every webhook delivery attempt.

import { followAlerts, get, message } from "./api.js";
import { el, errorNote, pct, when } from "./dom.js";

export function alertsView() {
  const list = el("ol", { id: "alert-log", class: "alert-log", "aria-live": "polite", reversed: true });
  const note = el("div", { role: "status" });
  const more = el("button", { type: "button", hidden: true }, "Older alerts");
  let token = null;
  let stop = null;
  const load = async (reset) => {
    note.replaceChildren();
    if (reset) { list.replaceChildren(); token = null; }
    try {
      const page = await get(`/api/v1/alerts?page_size=50${token ? `&page_token=${token}` : ""}`);
      for (const a of page.alerts) list.append(item(a));
      token = page.next_page_token;
      more.hidden = !token;
      if (reset) {
        stop?.();
        const newest = page.alerts.length ? page.alerts[0].id : 0;
        stop = followAlerts(newest, (a) => { if (!list.querySelector(`[data-alert-id="${a.id}"]`)) list.prepend(item(a)); });
      }
      if (!list.children.length) note.append(el("p", { class: "hint" }, "No alerts yet: mark a collection as a watchlist in Galleries."));
    } catch (err) { note.append(errorNote(message(err))); }
  };
  more.addEventListener("click", () => load(false));
  const root = el("section", { class: "view alerts", "aria-labelledby": "alerts-view-title" },
    el("h2", { id: "alerts-view-title" }, "Alerts"), note, list, more);
  return { root, show: () => load(true), hide: () => { stop?.(); stop = null; } };
}

function item(a) {
  const deliveries = el("div", { class: "deliveries" });
  const toggle = el("button", { type: "button", class: "small", "aria-expanded": "false" }, "Webhook deliveries");
  toggle.addEventListener("click", async () => {
    if (toggle.getAttribute("aria-expanded") === "true") {
      toggle.setAttribute("aria-expanded", "false");
      deliveries.replaceChildren();
      return;
    }
    toggle.setAttribute("aria-expanded", "true");
    try {
      const { deliveries: found } = await get(`/api/v1/alerts/${a.id}/deliveries`);
      deliveries.replaceChildren(found.length
        ? el("ul", {}, ...found.map((d) => el("li", { class: "delivery" },
          el("code", {}, d.url), ` ${d.state}`,
          el("ol", {}, ...d.attempts.map((t) => el("li", {},
            `${when(t.time)}: ${t.status_code ? `HTTP ${t.status_code}` : "no answer"}${t.error ? ` (${t.error})` : ""}, ${t.duration_ms} ms`))))))
        : el("p", { class: "hint" }, "This watchlist has no webhooks."));
    } catch (err) { deliveries.replaceChildren(errorNote(message(err))); }
  });
  const face = a.face_id
    ? el("img", { src: `/api/v1/faces/${a.face_id}/crop`, alt: `enrolled face of ${a.name}`, width: 64, height: 64, class: "crop" })
    : el("span", { class: "crop none", "aria-hidden": "true" });
  face.addEventListener("error", () => face.replaceWith(el("span", { class: "crop none", "aria-hidden": "true" })));
  return el("li", { class: "alert", "data-alert-id": a.id },
    face,
    el("div", {},
      el("strong", {}, a.name), ` in ${a.collection}, similarity ${pct(a.similarity)} · ${when(a.created_at)} · face ${a.face_index + 1} of `,
      el("a", { href: `#/jobs/${a.job_id}` }, `job ${a.job_id}`),
      el("div", {}, toggle), deliveries));
}
