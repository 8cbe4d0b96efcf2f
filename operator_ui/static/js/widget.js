// The visitor's chat widget, in a shadow root so that the host page's styles and ours never mix.
//
// Delivery: every message gets a client_id and waits in localStorage until the engine acknowledges
// it; on every (re)connect the unacknowledged ones are sent again (the engine stores each client_id
// once) and the socket resumes after the last seq shown. The token stays in localStorage, so a
// reload continues the same conversation.
import {Api, LiveSocket} from "./api.js";
import {clock, fill, h, newId, s, safeUrl} from "./dom.js";
import {attachmentList, clipIcon, dropZone, filesOf, readyChip, uploadFile, uploadRow} from "./files.js";
import {MAX_MESSAGE_CHARS, lengthCounter} from "./limits.js";

const TALK_TO_PERSON = "Talk to a person";
const LEAVE_MESSAGE = "Leave a message";  // offered after hours (engine.service.conversations.hold)
const ROLE_NAMES = {bot: "Assistant", operator: "Support team", system: "Baton"};
const CSAT_LABELS = ["Very poor", "Poor", "Okay", "Good", "Great"];
const BOT_STATES = new Set(["bot", "offered"]);

class Store {
  constructor(origin) {
    this.key = `baton.widget:${origin}`;
    let saved = {};
    try {
      saved = JSON.parse(localStorage.getItem(this.key) || "{}") || {};
    } catch { /* a broken entry starts over */ }
    this.token = saved.token || null;
    this.pending = Array.isArray(saved.pending) ? saved.pending : [];  // [{client_id, text, attachments?}]
    this.rated = saved.rated || null;  // the seq at which the visitor rated the conversation
    this.open = Boolean(saved.open);
  }

  save() {
    const {token, pending, rated, open} = this;
    localStorage.setItem(this.key, JSON.stringify({token, pending, rated, open}));
  }

  forget() {
    this.token = null;
    this.rated = null;
    this.save();
  }
}

export function boot({origin}) {
  const host = h("div", {id: "baton-widget"});
  document.body.append(host);
  const root = host.attachShadow({mode: "open"});
  root.append(h("link", {rel: "stylesheet", href: `${origin}/ui/css/widget.css`}));
  const widget = new Widget(root, origin);
  widget.start();
  return widget;
}

class Widget {
  constructor(root, origin) {
    this.root = root;
    this.store = new Store(origin);
    this.api = new Api(origin, this.store.token);
    this.socket = null;
    this.lastSeq = 0;
    this.items = new Map();  // seq -> <li>
    this.sent = new Map();  // client_id -> <li> of the visitor's own message
    this.state = null;
    this.queue = null;
    this.readByTeam = 0;
    this.readSent = 0;
    this.unread = 0;
    this.lastMessage = null;
    this.typingTimer = null;
    this.thinkingTimer = null;
    this.typingSent = false;
    this.typingIdle = null;
    this.team = {agent: null, authors: [], typical_reply_seconds: null};  // GET /api/visitor/team
    this.hours = null;  // GET /api/visitor/hours: whether a person can answer now, else when
    this.build();
  }

  start() {
    this.setOpen(this.store.open);
    for (const item of this.store.pending) this.showPending(item);
    if (this.store.token) this.connect();
    this.renderQuickReplies();
    this.loadHours();
  }

  /** Open or closed, before the visitor writes: after hours the banner says when people are back. */
  async loadHours() {
    try {
      this.hours = await this.api.get("/api/visitor/hours");
    } catch {
      return;  // no banner: the notices after escalating still say it
    }
    if (!this.hours.open) {
      fill(this.hoursBanner, h("strong", {text: this.hours.holiday ? `Closed for ${this.hours.holiday}` : "After hours"}),
        h("span", {text: this.hours.notice}));
    }
    this.renderHours();
  }

  /** The banner shows while the assistant answers; once a person is involved the notice says it. */
  renderHours() {
    this.hoursBanner.hidden = !this.hours || this.hours.open || (this.state !== null && !BOT_STATES.has(this.state));
  }

  /** After hours: where to be answered (email or phone) and, if they like, the question. */
  showLeave() {
    if (!this.leave.hidden) return;
    const address = h("input", {id: "baton-leave-address", name: "address", maxlength: 320, autocomplete: "email",
      required: true, placeholder: "you@example.com or +49 30 901820"});
    const text = h("textarea", {id: "baton-leave-text", name: "text", rows: 2, maxlength: MAX_MESSAGE_CHARS,
      placeholder: "Your question (optional)"});
    const error = h("p", {class: "error", role: "alert", hidden: true});
    fill(this.leave, h("h3", {text: "Leave a message"}),
      h("label", {for: "baton-leave-address", text: "Email or phone number to answer you on"}), address,
      h("label", {for: "baton-leave-text", class: "visually-hidden", text: "Your question"}), text, error,
      h("button", {type: "submit", class: "primary", text: "Leave message"}));
    this.leave.onsubmit = async (event) => {
      event.preventDefault();
      const value = address.value.trim();
      const body = value.includes("@") ? {email: value} : {phone: value};
      if (text.value.trim()) body.text = text.value.trim();
      let left;
      try {
        await this.ensureConversation();
        left = await this.api.post("/api/visitor/leave-message", body);
      } catch (failure) {
        error.hidden = false;
        error.textContent = `Not saved: ${failure.message}`;
        return;
      }
      if (left.confirmation) this.askCode("email", left.confirmation.email);
      else if (left.phone_confirmation) this.askCode("phone", left.phone_confirmation.phone);
      else this.leaveDone(`Thank you. Our team will see your number, ${left.phone}.`);
    };
    this.leave.hidden = false;
    this.renderQuickReplies();
    address.focus();
    this.scrollDown();
  }

  /** The code mailed to the address (kind "email") or texted to the number (kind "phone"): confirmed,
   * a person's reply reaches the visitor there once gone. */
  askCode(kind, address) {
    const code = h("input", {id: "baton-leave-code", name: "code", inputmode: "numeric", maxlength: 6,
      pattern: "[0-9]{6}", required: true, autocomplete: "one-time-code"});
    const error = h("p", {class: "error", role: "alert", hidden: true});
    const how = kind === "phone" ? "texted" : "sent";
    fill(this.leave, h("label", {for: "baton-leave-code", text: `The 6-digit code we ${how} to ${address}`}), code,
      error, h("button", {type: "submit", class: "primary", text: "Confirm"}));
    this.leave.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await this.api.post(`/api/visitor/${kind}/confirm`, {code: code.value.trim()});
      } catch (failure) {
        error.hidden = false;
        error.textContent = `Not confirmed: ${failure.message}`;
        return;
      }
      const where = kind === "phone" ? `by SMS at ${address}` : `at ${address}`;
      this.leaveDone(`Thank you. We'll answer you ${where}, even if you have left this page.`);
    };
    code.focus();
  }

  leaveDone(text) {
    this.left = true;  // the offer is taken: no second form
    fill(this.leave, h("p", {class: "thanks", role: "status", text}));
    setTimeout(() => { this.leave.hidden = true; this.renderQuickReplies(); }, 4000);
  }

  // --- layout -----------------------------------------------------------------------------------

  build() {
    this.badge = h("span", {class: "unread", hidden: true, "aria-hidden": "true"});
    this.launcher = h("button", {class: "launcher", type: "button", "aria-expanded": "false",
      "aria-controls": "baton-panel", "aria-label": "Chat with us", onclick: () => this.setOpen(!this.isOpen)},
    chatIcon(), this.badge);
    this.status = h("p", {class: "subtitle", text: "Our assistant answers at once; a person is one tap away."});
    this.avatar = h("span", {class: "avatar", "aria-hidden": "true", hidden: true});
    this.connection = h("p", {class: "connection", role: "status", hidden: true});
    this.list = h("ol", {class: "messages", role: "log", "aria-live": "polite", "aria-label": "Messages"});
    this.empty = h("li", {class: "empty", text: "Hi! Ask us anything about your order, delivery or returns."});
    this.list.append(this.empty);
    this.typing = h("p", {class: "typing", hidden: true, "aria-live": "polite"});
    this.notice = h("div", {class: "notice", role: "status", "aria-live": "polite", hidden: true});
    this.hoursBanner = h("div", {class: "hours-banner", role: "status", hidden: true});
    this.leave = h("form", {class: "leave-message", hidden: true, "aria-label": "Leave a message"});
    this.quick = h("div", {class: "quick-replies", role: "group", "aria-label": "Suggested replies"});
    this.csat = h("section", {class: "csat", hidden: true, "aria-labelledby": "baton-csat-title"});
    this.input = h("textarea", {id: "baton-input", rows: 1, maxlength: MAX_MESSAGE_CHARS, autocomplete: "off",
      dir: "auto", placeholder: "Write a message…", onkeydown: (e) => this.onKey(e), oninput: () => this.onInput()});
    this.counter = lengthCounter(this.input);
    // files: the paperclip, a paste into the box (a screenshot) or a drop on the panel; each uploads
    // with its progress bar, then waits above the box (removable) to go with the next message, so
    // "this error shows when I pay" travels with its screenshot (a refusal says why, in its row)
    this.files = [];  // uploaded, waiting for the next message (attachment metadata)
    this.fileInput = h("input", {type: "file", multiple: true, hidden: true, id: "baton-file",
      "aria-label": "Attach files",
      onchange: () => { this.attach([...this.fileInput.files]); this.fileInput.value = ""; }});
    this.input.addEventListener("paste", (e) => {
      const files = filesOf(e.clipboardData);
      if (files.length) { e.preventDefault(); this.attach(files); }
    });
    this.uploads = h("ul", {class: "uploads", "aria-label": "Files to send", "aria-live": "polite"});
    this.form = h("form", {class: "composer", onsubmit: (e) => { e.preventDefault(); this.submit(); }},
      h("button", {type: "button", class: "attach", "aria-label": "Attach a file", title: "Attach a file (or paste, or drop it here)",
        onclick: () => this.fileInput.click()}, clipIcon()), this.fileInput,
      h("label", {for: "baton-input", class: "visually-hidden", text: "Your message"}), this.input,
      h("button", {type: "submit", class: "send", "aria-label": "Send"}, sendIcon()), this.counter);
    this.panel = h("section", {id: "baton-panel", class: "panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "baton-title", hidden: true, onkeydown: (e) => { if (e.key === "Escape") this.setOpen(false); }},
    h("header", {},
      h("div", {class: "who-helps"}, this.avatar, h("div", {}, h("h2", {id: "baton-title", text: "Chat with us"}), this.status)),
      h("button", {type: "button", class: "close", "aria-label": "Close chat", onclick: () => this.setOpen(false)}, "×")),
    this.connection, this.hoursBanner, this.notice, this.list, this.typing, this.csat, this.leave, this.quick,
    this.uploads, this.form);
    dropZone(this.panel, (files) => this.attach(files));
    this.root.append(h("div", {class: "baton"}, this.panel, this.launcher));
  }

  get isOpen() { return !this.panel.hidden; }

  setOpen(open) {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    this.launcher.classList.toggle("is-open", open);
    this.store.open = open;
    this.store.save();
    if (open) {
      this.unread = 0;
      this.renderBadge();
      this.scrollDown();
      this.input.focus();
      this.sendRead();
    } else if (this.root.activeElement && this.panel.contains(this.root.activeElement)) {
      this.launcher.focus();
    }
  }

  // --- connection -------------------------------------------------------------------------------

  async ensureConversation() {
    if (this.store.token) return;
    const started = await this.api.post("/api/visitor/conversations", {channel: "web"});
    this.store.token = started.token;
    this.store.rated = null;
    this.store.save();
    this.api.token = started.token;
    this.connect();
  }

  connect() {
    if (this.socket) return;
    this.socket = new LiveSocket(
      () => this.api.socketUrl(`/ws/visitor?token=${encodeURIComponent(this.store.token)}&after=${this.lastSeq}`),
      {
        onOpen: () => this.flush(),
        onEvent: (event) => this.onEvent(event),
        onStatus: (status) => this.showConnection(status),
        onUnauthorised: () => this.restart(),
      }).start();
  }

  /** The token no longer works (the conversation is gone): start a new one, keeping unsent text. */
  async restart() {
    this.socket = null;
    this.store.forget();
    this.api.token = null;
    this.lastSeq = 0;
    this.items.clear();
    fill(this.list, this.empty);
    for (const item of this.store.pending) this.showPending(item);
    if (this.store.pending.length) await this.ensureConversation();
  }

  showConnection(status) {
    const down = status === "closed";
    this.connection.hidden = !down;
    this.connection.textContent = down ? "Connection lost. Reconnecting… your messages are kept." : "";
  }

  /** Send every message the engine has not acknowledged yet, oldest first. */
  flush() {
    for (const item of this.store.pending) this.socket.send(frameOf(item));
  }

  // --- events -----------------------------------------------------------------------------------

  onEvent(event) {
    if (event.type === "message") this.onMessage(event.message);
    else if (event.type === "ack") this.onAck(event);
    else if (event.type === "state") this.onState(event);
    else if (event.type === "typing") this.onTyping(event.on);
    else if (event.type === "read") this.onRead(event.seq);
    else if (event.type === "error") this.onError(event);
  }

  onMessage(message) {
    if (message.seq <= this.lastSeq && this.items.has(message.seq)) return;
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    this.empty.remove();
    let item = message.client_id ? this.sent.get(message.client_id) : null;
    if (item && message.role === "visitor") {
      item.classList.remove("pending", "failed");
      item.dataset.seq = message.seq;
      this.forgetPending(message.client_id);
      this.placeBySeq(item, message.seq);
    } else {
      item = this.renderMessage(message);
      item.dataset.seq = message.seq;  // stored: replayed after a reload, it reads "Sent", never "Sending…"
      this.placeBySeq(item, message.seq);
      if (message.client_id && message.role === "visitor") this.sent.set(message.client_id, item);
    }
    this.items.set(message.seq, item);
    this.setMeta(item, message);
    if (message.role !== "visitor") {
      this.stopThinking();
      this.onTyping(false);
      if (!this.isOpen || document.hidden) {
        this.unread += 1;
        this.renderBadge();
      }
    }
    this.lastMessage = message;
    this.renderQuickReplies();
    this.scrollDown();
    this.sendRead();
  }

  onAck({client_id: clientId, seq}) {
    this.forgetPending(clientId);
    const item = this.sent.get(clientId);
    if (item) {
      item.classList.remove("pending");
      item.dataset.seq = seq;
      this.setMeta(item, null);
    }
  }

  onState({state, queue}) {
    const reopened = this.state === "resolved" && state !== "resolved";
    const changed = state !== this.state;
    this.state = state;
    this.queue = queue;
    if (changed && !BOT_STATES.has(state)) this.loadTeam();
    this.renderNotice();
    this.renderQuickReplies();
    this.renderHours();
    if (reopened) this.csat.hidden = true;
    if (state === "resolved" && this.store.rated !== this.lastSeq) this.showCsat();
    if (!BOT_STATES.has(state)) this.stopThinking();
  }

  /** Who is helping and how soon a person typically replies: the header, the notice and names. */
  async loadTeam() {
    try {
      this.team = await this.api.get("/api/visitor/team");
    } catch {
      return;  // "Support team" stands in
    }
    for (const item of this.items.values()) {
      const who = item.querySelector(".who");
      if (who && item.dataset.author) who.textContent = this.authorName(Number(item.dataset.author));
    }
    this.renderNotice();
  }

  authorName(id) {
    return this.team.authors.find((a) => a.id === id)?.name || ROLE_NAMES.operator;
  }

  onTyping(on) {
    clearTimeout(this.typingTimer);
    if (!on) {
      if (!this.thinkingTimer) this.typing.hidden = true;
      return;
    }
    this.typing.hidden = false;
    fill(this.typing, dots(), " Someone from our team is typing…");
    this.typingTimer = setTimeout(() => this.onTyping(false), 8000);
  }

  onRead(seq) {
    this.readByTeam = Math.max(this.readByTeam, seq);
    for (const item of this.sent.values()) this.setMeta(item, null);
  }

  onError(event) {
    const item = event.client_id ? this.sent.get(event.client_id) : null;
    if (!item) return;
    this.forgetPending(event.client_id);
    item.classList.remove("pending");
    item.classList.add("failed");
    item.querySelector(".meta").textContent = `Not sent: ${event.detail}`;
    this.stopThinking();
  }

  // --- sending ----------------------------------------------------------------------------------

  /** Send the box's words (or a quick reply's ``text``) with the files waiting above it; files alone
   * go too (the bot reads words only, so it does not start thinking for them). */
  async submit(text = this.input.value) {
    const clean = text.trim();
    const typed = text === this.input.value;
    const attachments = typed ? this.files : [];
    if (!clean && !attachments.length) return;
    if (typed) {
      this.input.value = "";
      this.files = [];
      for (const chip of this.uploads.querySelectorAll(".ready")) chip.remove();
    }
    this.counter.update();
    this.autosize();
    this.stopTyping();
    const item = {client_id: newId(), text: clean};
    if (attachments.length) item.attachments = attachments;
    this.store.pending.push(item);
    this.store.save();
    this.showPending(item);
    const botAnswers = !this.state || BOT_STATES.has(this.state) || this.state === "resolved";
    if (clean && botAnswers) this.startThinking();
    try {
      await this.ensureConversation();
    } catch {
      this.showConnection("closed");
      setTimeout(() => this.retryStart(), 3000);
      return;
    }
    if (this.socket.isOpen) this.socket.send(frameOf(item));
  }

  /** Upload each file (progress in its row); it then waits above the box for the next message. A
   * refusal stays in its row with the engine's reason (type, size) until dismissed. */
  async attach(files) {
    if (!files.length) return;
    try {
      await this.ensureConversation();
    } catch {
      this.showConnection("closed");
      return;
    }
    await Promise.all(files.map(async (file) => {
      const row = uploadRow(file.name || "pasted image");
      this.uploads.append(row);
      try {
        const meta = await uploadFile(this.api, "/api/visitor/attachments", file, row.progress);
        row.replaceWith(readyChip(meta, () => { this.files = this.files.filter((f) => f.id !== meta.id); }));
        this.files.push(meta);
      } catch (failure) {
        row.fail(failure.message);
      }
    }));
  }

  async retryStart() {
    if (this.store.token || !this.store.pending.length) return;
    try {
      await this.ensureConversation();
    } catch {
      setTimeout(() => this.retryStart(), 5000);
    }
  }

  forgetPending(clientId) {
    const before = this.store.pending.length;
    this.store.pending = this.store.pending.filter((p) => p.client_id !== clientId);
    if (this.store.pending.length !== before) this.store.save();
  }

  showPending(item) {
    this.empty.remove();
    const li = this.renderMessage({role: "visitor", text: item.text, citations: [], created_at: null,
      attachments: item.attachments || []});
    li.classList.add("pending");
    this.sent.set(item.client_id, li);
    this.list.append(li);
    this.setMeta(li, null);
    this.scrollDown();
  }

  onKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  onInput() {
    this.autosize();
    if (!this.socket?.isOpen) return;
    if (!this.typingSent) {
      this.typingSent = true;
      this.socket.send({type: "typing", on: true});
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), 3000);
  }

  stopTyping() {
    clearTimeout(this.typingIdle);
    if (this.typingSent && this.socket?.isOpen) this.socket.send({type: "typing", on: false});
    this.typingSent = false;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 140)}px`;
  }

  startThinking() {
    clearTimeout(this.thinkingTimer);
    this.typing.hidden = false;
    fill(this.typing, dots(), " Assistant is writing…");
    this.thinkingTimer = setTimeout(() => this.stopThinking(), 20000);
  }

  stopThinking() {
    clearTimeout(this.thinkingTimer);
    this.thinkingTimer = null;
    this.typing.hidden = true;
  }

  sendRead() {
    if (!this.isOpen || document.hidden || !this.socket?.isOpen || this.lastSeq <= this.readSent) return;
    this.readSent = this.lastSeq;
    this.socket.send({type: "read", seq: this.lastSeq});
  }

  // --- rendering --------------------------------------------------------------------------------

  renderMessage(message) {
    const li = h("li", {class: `msg ${message.role}`});
    const fromPerson = message.role === "operator" && message.author_id;
    if (fromPerson) {
      li.dataset.author = message.author_id;
      if (!this.team.authors.some((a) => a.id === message.author_id)) this.loadTeam();
    }
    if (message.role !== "visitor") {
      li.append(h("span", {class: "who", text: fromPerson ? this.authorName(message.author_id) : ROLE_NAMES[message.role] || message.role}));
    }
    if (message.text) li.append(h("p", {class: "text", dir: "auto", text: message.text}));
    li.append(attachmentList(this.api, message.attachments, (id) => ({file: `/api/visitor/attachments/${id}`,
      thumbnail: `/api/visitor/attachments/${id}/thumbnail`})) || "");
    const sources = (message.citations || []).map((c) => [safeUrl(c.url), c.title || c.doc_id]).filter(([url]) => url);
    if (sources.length) {
      li.append(h("div", {class: "sources"}, h("span", {text: "Sources"}),
        h("ul", {}, sources.map(([url, title]) => h("li", {}, h("a", {href: url, target: "_blank",
          rel: "noopener noreferrer", text: title}))))));
    }
    li.append(h("span", {class: "meta"}));
    return li;
  }

  setMeta(item, message) {
    const meta = item.querySelector(".meta");
    if (message?.created_at) item.dataset.time = clock(message.created_at);
    const time = item.dataset.time || "";
    if (!item.classList.contains("visitor")) {
      meta.textContent = time;
      return;
    }
    if (item.classList.contains("failed")) return;
    const seq = Number(item.dataset.seq || 0);
    let status = "Sending…";
    if (seq && seq <= this.readByTeam) status = "Seen";
    else if (seq) status = "Sent";
    meta.textContent = time ? `${time} · ${status}` : status;
  }

  placeBySeq(item, seq) {
    let before = null;
    for (const child of this.list.children) {
      const other = Number(child.dataset.seq || 0);
      if (child !== item && (child.classList.contains("pending") || other > seq)) {
        before = child;
        break;
      }
    }
    if (before) this.list.insertBefore(item, before);
    else if (item.parentNode !== this.list || item !== this.list.lastElementChild) this.list.append(item);
  }

  renderQuickReplies() {
    const offered = this.lastMessage?.quick_replies || [];
    const replies = [...offered];
    const canAsk = this.state === null || BOT_STATES.has(this.state);
    if (canAsk && !replies.some((r) => r.toLowerCase() === TALK_TO_PERSON.toLowerCase())) replies.push(TALK_TO_PERSON);
    if (!canAsk) replies.splice(0, replies.length, ...offered.filter((r) => r === LEAVE_MESSAGE && this.leave.hidden && !this.left));
    fill(this.quick, replies.map((text) => h("button", {type: "button", class: "chip", text,
      onclick: () => (text === LEAVE_MESSAGE ? this.showLeave() : this.submit(text))})));
  }

  renderNotice() {
    const {state, queue} = this;
    this.notice.classList.remove("waiting", "assigned", "closed");
    if (state === "queued" && queue?.opens_at) {  // after hours: held for the team's opening
      this.notice.classList.add("waiting");
      const zone = this.hours?.timezone || undefined;
      const when = new Intl.DateTimeFormat(undefined, {weekday: "long", hour: "numeric", minute: "2-digit",
        timeZone: zone, timeZoneName: "short"}).format(new Date(queue.opens_at));
      fill(this.notice, h("strong", {text: "Waiting for our team to open"}),
        h("span", {text: `Your question is queued for ${when}. The assistant can still help meanwhile.`}));
      this.notice.hidden = false;
      this.status.textContent = "Our team is away right now";
      this.showAgent(null);
    } else if (state === "queued") {
      this.notice.classList.add("waiting");
      const parts = ["A person from our team will take over here."];
      if (queue?.position) parts.push(`You're number ${queue.position} in line`);
      if (queue?.wait_seconds !== null && queue?.wait_seconds !== undefined) {
        const minutes = Math.max(1, Math.round(queue.wait_seconds / 60));
        parts[parts.length - 1] += `, about ${minutes} minute${minutes === 1 ? "" : "s"}.`;
      } else if (queue?.position) {
        parts[parts.length - 1] += ". We can't estimate the wait right now.";
      }
      const typical = replyTime(this.team.typical_reply_seconds);
      fill(this.notice, h("strong", {text: "Waiting for a person"}), h("span", {text: parts.join(" ")}),
        typical ? h("span", {class: "typical", text: `We typically reply in ${typical}.`}) : null);
      this.notice.hidden = false;
      this.status.textContent = typical ? `Typically replies in ${typical}` : "Waiting for a person from our team";
      this.showAgent(null);
    } else if (state === "assigned") {
      const agent = this.team.agent;
      this.notice.classList.add("assigned");
      fill(this.notice, h("span", {text: agent ? `You're chatting with ${agent.name} from our team.`
        : "You're chatting with a person from our team."}));
      this.notice.hidden = false;
      this.status.textContent = agent ? `${agent.name} is helping you` : "A person from our team is here";
      this.showAgent(agent);
    } else if (state === "resolved") {
      this.showAgent(null);
      this.notice.classList.add("closed");
      fill(this.notice, h("span", {text: "This conversation is closed. Write again any time to reopen it."}));
      this.notice.hidden = false;
      this.status.textContent = "Conversation closed";
    } else {
      this.showAgent(null);
      this.notice.hidden = true;
      this.status.textContent = "Our assistant answers at once; a person is one tap away.";
    }
    this.scrollDown();
  }

  /** The helping operator's picture (or initials) in the header; nothing while the bot answers. */
  showAgent(agent) {
    this.avatar.hidden = !agent;
    if (!agent) return;
    const picture = agent.avatar_url ? safeUrl(agent.avatar_url) : null;
    fill(this.avatar, picture ? h("img", {src: picture, alt: ""})
      : agent.name.split(/\s+/).slice(0, 2).map((part) => part[0]?.toUpperCase() || "").join(""));
  }

  showCsat() {
    const title = h("h3", {id: "baton-csat-title", text: "How did we do?"});
    const comment = h("textarea", {id: "baton-csat-comment", rows: 2, maxlength: 2000,
      placeholder: "Anything we could do better? (optional)"});
    const scores = h("div", {class: "scores", role: "group", "aria-labelledby": "baton-csat-title"},
      CSAT_LABELS.map((label, i) => h("button", {type: "button", class: "score", "aria-pressed": "false",
        "aria-label": `${i + 1} of 5: ${label}`, text: String(i + 1), onclick: (e) => {
          for (const b of scores.children) b.setAttribute("aria-pressed", String(b === e.currentTarget));
          send.disabled = false;
          send.dataset.score = String(i + 1);
        }})));
    const send = h("button", {type: "button", class: "primary", disabled: true, text: "Send rating",
      onclick: () => this.rate(Number(send.dataset.score), comment.value)});
    fill(this.csat, title, scores, h("div", {class: "scale"}, h("span", {text: "Very poor"}), h("span", {text: "Great"})),
      h("label", {for: "baton-csat-comment", class: "visually-hidden", text: "Comment"}), comment, send);
    this.csat.hidden = false;
    this.scrollDown();
  }

  async rate(score, comment) {
    try {
      await this.api.post("/api/visitor/csat", {score, comment: comment.trim() || null});
    } catch (error) {
      this.csat.append(h("p", {class: "error", text: `Could not send the rating: ${error.message}`}));
      return;
    }
    this.store.rated = this.lastSeq;
    this.store.save();
    fill(this.csat, h("p", {class: "thanks", role: "status", text: "Thank you for your rating!"}));
  }

  renderBadge() {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = String(this.unread);
    this.launcher.setAttribute("aria-label", this.unread ? `Chat with us (${this.unread} new)` : "Chat with us");
  }

  scrollDown() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

/** The socket frame of a message waiting to be sent: its text, and the files uploaded for it. */
function frameOf(item) {
  const frame = {type: "message", text: item.text, client_id: item.client_id};
  if (item.attachments?.length) frame.attachment_ids = item.attachments.map((a) => a.id);
  return frame;
}

/** "under a minute", "about 4 minutes", "about 2 hours" (null: nothing measured yet). */
function replyTime(seconds) {
  if (seconds === null || seconds === undefined) return null;
  if (seconds < 60) return "under a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `about ${Math.round(minutes / 60)} hours`;
}

function chatIcon() {
  return s("svg", {viewBox: "0 0 24 24", width: 28, height: 28, "aria-hidden": "true", focusable: "false"},
    s("path", {fill: "currentColor", d: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"}));
}

function sendIcon() {
  return s("svg", {viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true", focusable: "false"},
    s("path", {fill: "currentColor", d: "M3 20.5 21 12 3 3.5l2.5 7.2L15 12l-9.5 1.3z"}));
}

function dots() {
  return h("span", {class: "dots", "aria-hidden": "true"}, h("i"), h("i"), h("i"));
}
