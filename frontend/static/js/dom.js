// Small DOM helpers shared by the views.

/** An element with attributes (`on*` functions become listeners) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Says `text` to screen readers (an aria-live region). */
export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A paragraph with an error message, for inline use next to what failed. */
export function errorNote(message) {
  return el("p", { class: "error", role: "alert" }, message);
}

const FAULTS = {
  photo: "the photo's doing",
  worker: "a worker failed, not the photo",
  server: "the server failed, not the photo",
  caller: "cancelled or its person deleted",
};

// A failed job's error for people: message, code, and whose fault it was.
export function jobErrorText(error) {
  const fault = FAULTS[error.fault];
  return `${error.message} (${error.code}${fault ? `; ${fault}` : ""})`;
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function pct(similarity) {
  return similarity === null || similarity === undefined ? "" : similarity.toFixed(3);
}

/** A drop zone over `zone`: dropped files (folders too, where the browser allows) go to `onFiles`. */
export function dropZone(zone, onFiles) {
  const stop = (ev) => { ev.preventDefault(); ev.stopPropagation(); };
  zone.addEventListener("dragover", (ev) => { stop(ev); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (ev) => {
    stop(ev);
    zone.classList.remove("over");
    onFiles(await droppedFiles(ev.dataTransfer));
  });
}

async function droppedFiles(transfer) {
  const entries = [...transfer.items || []].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...transfer.files];
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) files.push(await new Promise((ok, fail) => entry.file(ok, fail)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return files;
}
