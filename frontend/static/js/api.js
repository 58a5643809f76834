// The documented HTTP API, and its errors as messages a person understands.

export class ApiProblem extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const STATUS_WORDS = {
  401: "You are not logged in (or your session ended): open a login link from `facerec login-url`.",
  403: "Your key may not do this.",
  502: "The compute server failed to answer.",
  503: "The compute server is unreachable or busy right now; try again in a moment.",
};

/** An error body `{"error": {"code", "message"}}` (or anything else) as an ApiProblem. */
function problem(status, text) {
  if (status === 401) document.getElementById("login").hidden = false;
  try {
    const { error } = JSON.parse(text);
    if (error && error.message) return new ApiProblem(status, error.code, error.message);
  } catch (e) { /* not JSON: a proxy's page, say */ }
  return new ApiProblem(status, `HTTP_${status}`, STATUS_WORDS[status] || `The server answered ${status}.`);
}

export function message(err) {
  if (err instanceof ApiProblem) return err.code ? `${err.message} (${err.code})` : err.message;
  return `The front end cannot be reached (${err.message || err}); check your connection.`;
}

/** A JSON request; resolves with the parsed body, rejects with an ApiProblem. */
export async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, init);
  const text = await resp.text();
  if (!resp.ok) throw problem(resp.status, text);
  return text ? JSON.parse(text) : {};
}

export const get = (path) => request("GET", path);

/**
 * POSTs a multipart form with upload progress (`onProgress(fraction)`); resolves with the
 * JSON body, rejects with an ApiProblem.
 */
export function upload(path, form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(JSON.parse(xhr.responseText));
      } else {
        reject(problem(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("the upload was interrupted")));
    xhr.send(form);
  });
}

export const TERMINAL = ["succeeded", "failed", "cancelled"];

/**
 * An EventSource that stays open: the browser reconnects a dropped stream by itself but gives
 * up for good when a reconnection is answered with an error status (503 while compute
 * restarts); the stream is then opened again after a pause that doubles up to 15 s.
 * `listen(source)` adds the listeners to each new source; `url()` is read at each opening.
 * Returns a function that closes it for good.
 */
function keepOpen(url, listen) {
  let closed = false;
  let source = null;
  let pause = 1000;
  const open = () => {
    if (closed) return;
    source = new EventSource(url());
    source.addEventListener("open", () => { pause = 1000; });
    listen(source);
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && !closed) {
        setTimeout(open, pause);
        pause = Math.min(pause * 2, 15000);
      }
    });
  };
  open();
  return () => { closed = true; source?.close(); };
}

/** Follows a job's events until it ends: `onJob(job)` for each state. Returns a stopper. */
export function followJob(jobId, onJob, onTrouble = () => {}) {
  const stop = keepOpen(() => `/api/v1/jobs/${encodeURIComponent(jobId)}/events`, (source) => {
    for (const kind of ["snapshot", "state_changed", "faces_detected"]) {
      source.addEventListener(kind, (ev) => {
        const job = JSON.parse(ev.data);
        onJob(job);
        if (TERMINAL.includes(job.state)) stop();
      });
    }
    source.addEventListener("end", () => stop());
    source.addEventListener("error", (ev) => { if (ev.data) onTrouble(JSON.parse(ev.data).message); });
  });
  return stop;
}

/** Follows the alert log from `after`, live; `onAlert(alert)` for each. Returns a stopper. */
export function followAlerts(after, onAlert) {
  let last = after;
  return keepOpen(() => `/api/v1/alerts/events?after=${last}`, (source) => {
    source.addEventListener("alert", (ev) => {
      const alert = JSON.parse(ev.data);
      last = Math.max(last, alert.id);
      onAlert(alert);
    });
  });
}
