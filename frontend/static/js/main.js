// The app: a view per URL fragment (#/recognise, #/jobs, #/jobs/<id>, #/galleries,
// #/galleries/<name>, #/alerts), and the status bar. Plain ES modules, no build step.

import { alertsView } from "./alerts.js";
import { collectionView, galleriesView } from "./galleries.js";
import { jobDetail, jobsView } from "./jobs.js";
import { recogniseView } from "./recognise.js";
import { onStatus, startStatus } from "./status.js";

const main = document.getElementById("view");
// Views that keep their state while hidden (uploads in progress, live lists).
const kept = {};
let current = null;
let wasReachable = true;

function route() {
  const [, name = "recognise", arg] = location.hash.match(/^#\/([^/]*)\/?(.*)$/) || [];
  const param = arg ? decodeURIComponent(arg) : "";
  if (name === "jobs" && param) return { key: null, make: () => jobDetail(param), nav: "jobs" };
  if (name === "galleries" && param) return { key: null, make: () => collectionView(param), nav: "galleries" };
  const makers = { recognise: recogniseView, jobs: jobsView, galleries: galleriesView, alerts: alertsView };
  const pick = makers[name] ? name : "recognise";
  return { key: pick, make: makers[pick], nav: pick };
}

function show() {
  const r = route();
  current?.hide?.();
  const view = r.key ? (kept[r.key] ||= r.make()) : r.make();
  current = view;
  main.replaceChildren(view.root);
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  view.show?.();
  const heading = view.root.querySelector("h2");
  document.title = heading ? `${heading.textContent} · facerec` : "facerec";
}

window.addEventListener("hashchange", () => { show(); main.focus(); });
// When compute comes back, the view on screen loads again by itself.
onStatus((s) => {
  if (s.compute.reachable && !wasReachable && current && !current.root.querySelector("form#upload")) current.show?.();
  wasReachable = s.compute.reachable;
});
startStatus();
show();
