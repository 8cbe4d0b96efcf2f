// Attachments on every page: upload with a progress bar, and files shown in messages (images inline
// from their thumbnail, other files as a named chip that downloads). The bytes are fetched with the
// page's own bearer token (the same rules as messages decide who may read a file) and shown through
// blob: URLs, so no link with a token in it is ever put in the page.
import {ApiError} from "./api.js";
import {h} from "./dom.js";

/** "12 KB", "3.4 MB". */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** POST ``file`` as multipart to ``path``; ``onProgress(fraction)`` while it goes; resolves to the
 * engine's metadata of the stored file, or rejects with an ApiError naming what was refused. */
export function uploadFile(api, path, file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", api.origin + path);
    if (api.token) request.setRequestHeader("Authorization", `Bearer ${api.token}`);
    request.responseType = "json";
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve(request.response);
      else reject(new ApiError(request.status, request.response?.detail ?? request.statusText));
    };
    request.onerror = () => reject(new ApiError(0, "the upload did not reach the server; check the connection"));
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image.png");
    request.send(form);
  });
}

const blobs = new Map();  // path -> Promise<object URL>, so a file shown twice is fetched once

/** An object URL of the bytes at ``path``, fetched with the page's token. */
export function blobUrl(api, path) {
  if (!blobs.has(path)) {
    blobs.set(path, fetch(api.origin + path, {headers: api.token ? {Authorization: `Bearer ${api.token}`} : {},
      credentials: "omit"}).then(async (response) => {
      if (!response.ok) throw new ApiError(response.status, response.statusText);
      return URL.createObjectURL(await response.blob());
    }).catch((error) => { blobs.delete(path); throw error; }));
  }
  return blobs.get(path);
}

/** The files of a message: ``paths(id)`` gives ``{file, thumbnail}`` paths for this page's token.
 * An image shows its thumbnail and opens full size over the page; any other file downloads. */
export function attachmentList(api, attachments, paths) {
  if (!attachments?.length) return null;
  return h("ul", {class: "attachments", "aria-label": "Attachments"}, attachments.map((a) => {
    const {file, thumbnail} = paths(a.id);
    const label = `${a.filename}, ${fileSize(a.size)}`;
    const failed = (button, error) => { button.title = `Could not open ${a.filename}: ${error.message}`; };
    if (a.thumbnail) {
      const img = h("img", {alt: a.filename});
      blobUrl(api, thumbnail).then((url) => { img.src = url; }).catch(() => { img.alt = `${a.filename} (not available)`; });
      const button = h("button", {type: "button", class: "thumb", "aria-label": `Open ${label}`,
        onclick: () => blobUrl(api, file).then((url) => showImage(button, url, a.filename)).catch((e) => failed(button, e))}, img);
      return h("li", {class: "attachment image"}, button);
    }
    const button = h("button", {type: "button", class: "file-chip", "aria-label": `Download ${label}`,
      onclick: () => blobUrl(api, file).then((url) => {
        const link = h("a", {href: url, download: a.filename, hidden: true});
        button.after(link);
        link.click();
        link.remove();
      }).catch((e) => failed(button, e))},
    h("span", {class: "file-icon", "aria-hidden": "true", text: (a.filename.split(".").pop() || "file").slice(0, 4).toUpperCase()}),
    h("span", {class: "file-name", text: a.filename}), h("span", {class: "file-size", text: fileSize(a.size)}));
    return h("li", {class: "attachment file"}, button);
  }));
}

/** The full image over the page (inside the widget's shadow root when it is there); Escape or a
 * click closes it and gives the focus back. */
function showImage(opener, url, name) {
  const root = opener.getRootNode();
  const close = () => { overlay.remove(); opener.focus(); };
  const shut = h("button", {type: "button", class: "lightbox-close", "aria-label": "Close image", text: "×", onclick: close});
  const overlay = h("div", {class: "lightbox", role: "dialog", "aria-modal": "true", "aria-label": name,
    onclick: (e) => { if (e.target === overlay) close(); }, onkeydown: (e) => { if (e.key === "Escape") close(); }},
  h("img", {src: url, alt: name}), shut);
  (root instanceof ShadowRoot ? root.querySelector(".baton") || root : document.body).append(overlay);
  shut.focus();
}

/** An upload in progress: a row with the name, a progress bar and, on refusal, the engine's reason. */
export function uploadRow(name) {
  const bar = h("progress", {max: 1, value: 0, "aria-label": `Uploading ${name}`});
  const status = h("span", {class: "upload-status", text: "Uploading…"});
  const row = h("li", {class: "upload"}, h("span", {class: "file-name", text: name}), bar, status);
  row.progress = (fraction) => { bar.value = fraction; };
  row.fail = (message, onDismiss) => {
    row.classList.add("failed");
    bar.remove();
    status.textContent = `Not sent: ${message}`;
    status.setAttribute("role", "alert");
    row.append(h("button", {type: "button", class: "dismiss", "aria-label": `Dismiss ${name}`, text: "×",
      onclick: () => { row.remove(); onDismiss?.(); }}));
  };
  return row;
}

/** An uploaded file waiting to go with the next message: its name and size, and a button that takes
 * it off (``onRemove``); the widget's and the console's composers both hold them. */
export function readyChip(meta, onRemove) {
  const chip = h("li", {class: "upload ready"}, h("span", {class: "file-name", text: meta.filename}),
    h("span", {class: "upload-status", text: fileSize(meta.size)}),
    h("button", {type: "button", class: "dismiss", "aria-label": `Remove ${meta.filename}`, text: "×",
      onclick: () => { chip.remove(); onRemove(); }}));
  chip.dataset.attachment = meta.id;
  return chip;
}

/** Files a paste or a drop carries (a screenshot pasted from the clipboard is one). */
export function filesOf(transfer) {
  return [...(transfer?.files || [])];
}

/** Call ``onFiles(files)`` for files dropped on ``zone`` (marked ``dragging`` while over it). */
export function dropZone(zone, onFiles) {
  let depth = 0;
  const carriesFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  zone.addEventListener("dragenter", (e) => { if (!carriesFiles(e)) return; e.preventDefault(); depth += 1; zone.classList.add("dragging"); });
  zone.addEventListener("dragover", (e) => { if (carriesFiles(e)) e.preventDefault(); });
  zone.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove("dragging"); });
  zone.addEventListener("drop", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    onFiles(filesOf(e.dataTransfer));
  });
}

export function clipIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true", focusable: "false"})) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z");
  svg.append(path);
  return svg;
}

/** A message's words, or what it sent when it has none ("📎 error.png", "📎 3 files"): for previews. */
export function summary(message) {
  if (message.text) return message.text;
  const sent = message.attachments || [];
  if (!sent.length) return "";
  return sent.length === 1 ? `📎 ${sent[0].filename}` : `📎 ${sent.length} files`;
}
