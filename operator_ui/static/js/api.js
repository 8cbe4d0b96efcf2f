// The engine's REST and WebSocket client, shared by the widget, the console and the supervisor view.
// REST: JSON in and out, bearer token, errors with the engine's "detail". WebSocket: reconnects with
// backoff and asks for a fresh URL each time, so a caller resumes from the last seq it saw.

// A 422's detail is a list of {loc, msg, type} (FastAPI's shape); other refusals carry a string.
const describe = (detail) => Array.isArray(detail)
  ? detail.map((e) => (e.loc?.length > 1 ? `${e.loc.slice(1).join(".")}: ${e.msg}` : e.msg)).join("; ")
  : (typeof detail === "string" ? detail : JSON.stringify(detail));

export class ApiError extends Error {
  constructor(status, detail) {
    super(describe(detail));
    this.status = status;
    this.detail = detail;
  }
}

export class Api {
  /** ``origin``: where the engine runs ("" for this page's own origin); ``token``: the bearer token. */
  constructor(origin = "", token = null, onUnauthorised = null) {
    this.origin = origin;
    this.token = token;
    this.onUnauthorised = onUnauthorised;
  }

  async request(method, path, body, {keepalive = false} = {}) {
    const headers = {Accept: "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.origin + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", keepalive,
    });
    if (response.status === 401 && this.onUnauthorised) this.onUnauthorised();
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail ?? detail;
      } catch { /* not JSON: keep the status text */ }
      throw new ApiError(response.status, detail);
    }
    return response.status === 204 ? null : response.json();
  }

  get(path) { return this.request("GET", path); }
  post(path, body = {}) { return this.request("POST", path, body); }

  /** The ws:// or wss:// URL of a socket path on the engine's origin. */
  socketUrl(path) {
    const base = new URL(this.origin || location.origin);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    return new URL(path, base).href;
  }
}

const UNAUTHORISED = 4401;
const RATE_LIMITED = 4429;  // the reason ends "retry in N s": come back then, not sooner
const RESUME_STREAMS = 100;  // the engine takes up to 200; the least recently heard are dropped first

/** A WebSocket that keeps itself open. ``url()`` is called before every (re)connect.
 *
 * ``resumable`` (the operator socket): every event carries its ``stream`` and ``id``; the socket keeps
 * the last id of each stream (from ``hello``, then from each event) and reconnects with them
 * (``&resume=``), so the engine sends what was missed. A ``resync`` frame names the streams whose gap
 * was older than the engine keeps: ``onResync(frame)`` reloads what they show over REST.
 * ``resumed`` says whether the current connection asked to resume. */
export class LiveSocket {
  constructor(url, {onEvent, onOpen, onStatus, onUnauthorised, onResync, resumable = false} = {}) {
    this.url = url;
    this.onEvent = onEvent || (() => {});
    this.onOpen = onOpen || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onUnauthorised = onUnauthorised || (() => {});
    this.onResync = onResync || (() => {});
    this.resumable = resumable;
    this.lastIds = new Map();  // stream -> the last event id heard on it (insertion order: least recent first)
    this.resumed = false;
    this.socket = null;
    this.stopped = false;
    this.attempt = 0;
    this.timer = null;
    this.online = () => this.reconnectNow();
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.online);
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Send an object as JSON; false (nothing sent) when the socket is not open. */
  send(data) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(data));
    return true;
  }

  reconnectNow() {
    if (this.stopped || this.isOpen) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    this.onStatus("connecting");
    let href = this.url();
    this.resumed = this.resumable && this.lastIds.size > 0;
    if (this.resumed) {
      href += `${href.includes("?") ? "&" : "?"}resume=${encodeURIComponent(JSON.stringify(Object.fromEntries(this.lastIds)))}`;
    }
    const socket = new WebSocket(href);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onStatus("open");
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (this.resumable) this.track(data);
      this.onEvent(data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === UNAUTHORISED) {
        this.stopped = true;
        this.onStatus("closed");
        this.onUnauthorised();
        return;
      }
      this.onStatus("closed");
      const retry = event.code === RATE_LIMITED ? Number(/retry in (\d+) s/.exec(event.reason)?.[1] ?? 5) : 0;
      this.schedule(retry * 1000);
    });
  }

  /** Keep the last id of each stream (``hello`` gives where each is followed from). */
  track(frame) {
    if (frame.type === "hello") {
      this.lastIds = new Map(Object.entries(frame.ids || {}));
    } else if (frame.type === "resync") {
      this.onResync(frame);
    } else if (typeof frame.id === "number" && typeof frame.stream === "string") {
      this.lastIds.delete(frame.stream);
      this.lastIds.set(frame.stream, frame.id);
    }
    while (this.lastIds.size > RESUME_STREAMS) this.lastIds.delete(this.lastIds.keys().next().value);
  }

  schedule(atLeast = 0) {
    if (this.stopped) return;
    // 0.5 s, 1 s, 2 s ... up to 15 s, with jitter so that many clients do not return at once.
    const delay = Math.max(atLeast, Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/** An ``onStatus`` for LiveSocket that shows "Live" or "Reconnecting…" in the element ``id``. */
export function showConnection(id = "connection") {
  return (status) => {
    const el = document.getElementById(id);
    el.hidden = false;
    el.dataset.state = status === "open" ? "open" : "closed";
    el.textContent = status === "open" ? "Live" : "Reconnecting…";
  };
}
