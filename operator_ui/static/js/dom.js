// Tiny DOM helpers shared by every page. Text always goes through textContent (text nodes), never
// innerHTML: whatever a visitor or an operator types is shown as text.

/** An element: h("button", {class: "x", onclick: fn, "aria-label": "Close"}, "text", child). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (for the charts). */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function setProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of ``node``. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** "42 s", "3 min", "1 h 05 min": short and honest. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Local clock time of an ISO timestamp (the engine sends UTC with an offset). */
export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

export function dateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"});
}

/** Seconds since an ISO timestamp. */
export function since(iso) {
  return iso ? (Date.now() - new Date(iso).getTime()) / 1000 : null;
}

/** A random id for a message (crypto.randomUUID needs a secure context; plain http sites lack one). */
export function newId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Only http(s) links are made clickable: a citation's URL never runs script. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Human words for the engine's reason names. */
export const REASONS = {
  explicit_request: "Asked for a person",
  frustration: "Frustration",
  low_confidence: "Low answer confidence",
  rule: "Rule",
};

export function reasonLabel(name) {
  return REASONS[name] || String(name).replaceAll("_", " ");
}
