// The status bar: compute reachable or not, the model, the queue and the workers. It polls
// /api/v1/status, faster while compute is down, so the page says so within seconds and
// recovers by itself.

import { get } from "./api.js";

const UP_MS = 2500;
const DOWN_MS = 1000;
let current = { compute: { reachable: true }, caller: null, model: null };
const listeners = [];

/** Calls `fn(status)` after every poll (the views use it to refresh once compute is back). */
export function onStatus(fn) { listeners.push(fn); }

export function status() { return current; }

function show(s) {
  const state = document.getElementById("compute-state");
  const down = document.getElementById("compute-down");
  down.hidden = s.compute.reachable;
  state.textContent = s.compute.reachable ? "Compute: up" : "Compute: unreachable";
  state.className = s.compute.reachable ? "ok" : "bad";
  const model = document.getElementById("model");
  if (s.model) {
    const m = s.model;
    model.textContent = `Model: ${m.id} (${m.embedding_dim}-d, ${m.trained ? "trained" : "untrained"}; match threshold ${m.default_min_similarity})`;
    document.getElementById("untrained").hidden = m.trained;
  } else if (!s.compute.reachable) {
    model.textContent = "Model: unknown (compute unreachable)";
  }
  const queue = document.getElementById("queue");
  if (s.queue) {
    const workers = s.workers.length;
    queue.textContent = `Queue: ${s.queue.queued} waiting, ${s.queue.running} running · ${workers} worker${workers === 1 ? "" : "s"}`;
  } else {
    queue.textContent = "";
  }
  if (s.compute.reachable) document.getElementById("login").hidden = s.caller !== null;
}

async function poll() {
  let next = UP_MS;
  try {
    current = await get("/api/v1/status");
  } catch (err) {
    current = { compute: { reachable: false, reason: String(err.message || err) }, caller: current.caller, model: null };
  }
  if (!current.compute.reachable) next = DOWN_MS;
  show(current);
  for (const fn of listeners) fn(current);
  setTimeout(poll, next);
}

export function startStatus() { poll(); }
