// One open conversation: header with actions, the pinned handoff packet, the transcript (bot turns
// and internal notes marked), the visitor's typing indicator and the composer.
import {clock, dateTime, fill, h, safeUrl} from "../dom.js";
import {attachmentList} from "../files.js";
import {Composer} from "./composer.js";
import {renderPacket} from "./packet.js";

const PACKET_KEY = "baton.console.packet";
const PACKET_OPEN_FROM_PX = 1000;  // screens shorter than this start with the packet folded

export class ConversationView {
  constructor(app) {
    this.app = app;
    this.main = document.getElementById("main");
    this.placeholder = this.main.firstElementChild;
    this.detail = null;
    this.items = new Map();  // seq -> <li>
    this.readByVisitor = 0;
    this.typingTimer = null;
    this.viewers = new Map();  // colleague id -> when last heard (ms): who else has it open
    this.typers = new Map();  // colleague id -> timer that clears their typing
  }

  get id() { return this.detail?.conversation.id ?? null; }
  get lastSeq() { return Math.max(0, ...this.items.keys()); }

  close() {
    this.forgetColleagues();
    this.others = null;
    this.detail = null;
    this.items.clear();
    this.composer?.dispose();
    this.composer = null;
    fill(this.main, this.placeholder);
  }

  /** Show ``detail``; shown again (after an action), the conversation keeps what the socket brought
   * after the engine read it, and the replies still on their way. */
  show(detail) {
    const sameConversation = this.id === detail.conversation.id;
    const keep = sameConversation ? this.composer : null;
    if (!sameConversation) this.forgetColleagues();
    const read = Math.max(0, ...detail.messages.map((message) => message.seq));
    const later = sameConversation ? [...this.items].filter(([seq]) => seq > read).sort(([a], [b]) => a - b) : [];
    const pending = sameConversation ? [...this.transcript.querySelectorAll(".msg.pending")] : [];
    this.detail = detail;
    this.items.clear();
    this.header = h("header", {class: "conv-head"});
    this.others = h("p", {class: "others", role: "status", hidden: true});
    this.packet = h("div", {class: "packet-slot"});
    this.transcript = h("ol", {class: "transcript", role: "log", "aria-live": "polite", "aria-label": "Transcript"});
    this.typing = h("p", {class: "typing", hidden: true, "aria-live": "polite"});
    if (!keep) this.composer?.dispose();
    this.composer = keep || new Composer(this.app, detail.conversation.id);
    fill(this.main, this.header, this.others, this.packet, this.transcript, this.typing, this.composer.element);
    this.renderOthers();
    this.renderHeader();
    if (detail.packet) this.packet.append(this.pinPacket(renderPacket(detail.packet)));
    for (const message of detail.messages) this.add(message, {scroll: false});
    for (const [seq, item] of later) this.items.set(seq, item);
    this.transcript.append(...later.map(([, item]) => item), ...pending);
    this.scrollDown();
  }

  /** The packet opens by itself only where it leaves the transcript room (a tall screen); on a laptop
   * it starts as its one-line summary with the reasons. The operator's last choice wins after that. */
  pinPacket(details) {
    const chosen = sessionStorage.getItem(PACKET_KEY);
    details.open = chosen ? chosen === "open" : window.innerHeight >= PACKET_OPEN_FROM_PX;
    details.addEventListener("toggle", () => sessionStorage.setItem(PACKET_KEY, details.open ? "open" : "closed"));
    return details;
  }

  /** Apply a change the engine announced (state, owner, tags) without asking again. */
  update(changes) {
    if (!this.detail) return;
    Object.assign(this.detail.conversation, changes);
    this.renderHeader();
  }

  renderHeader() {
    const {conversation, contact} = this.detail;
    const me = this.app.me.id;
    const owner = conversation.assignee_id;
    const who = contact.name || contact.email || contact.phone || `Visitor #${contact.id}`;
    const action = (label, name, key, extra = {}) => h("button", {type: "button", class: extra.class || "secondary",
      "aria-keyshortcuts": key || null, title: key ? `${label} (${key})` : label, onclick: () => this.app.act(name),
      dataset: {action: name}}, label, key ? h("kbd", {class: "key-hint", "aria-hidden": "true", text: key}) : null);
    const actions = [];
    if (["queued", "bot", "offered"].includes(conversation.state)) {
      actions.push(action("Assign to me", "claim", "c", {class: "primary"}));
    }
    if (conversation.state === "assigned" && owner !== me) actions.push(action("Take over", "takeover", null));
    if (conversation.state === "assigned" && owner === me) {
      actions.push(action("Transfer", "transfer", "t"), action("Hand back to bot", "handback", "b"),
        action("Resolve", "resolve", "e", {class: "primary"}));
    }
    if (conversation.state === "resolved") actions.push(action("Reopen", "reopen", "o"));
    const ownerText = owner ? (owner === me ? "You own this" : `Owned by ${this.app.nameOf(owner)}`) : "Nobody owns this yet";
    const back = h("button", {type: "button", class: "quiet back", onclick: () => this.app.closeConversation(),
      "aria-label": "Back to the list"}, "←");
    fill(this.header,
      h("div", {class: "conv-title"}, back,
        h("div", {},
          h("h1", {id: "conv-title"}, who, contact.vip ? h("span", {class: "badge vip", text: "VIP"}) : null),
          h("p", {class: "muted meta"},
            h("span", {class: `badge state-${conversation.state}`, text: conversation.state}),
            ` ${conversation.channel} · #${conversation.id} · started ${dateTime(conversation.created_at)} · ${ownerText}`,
            conversation.csat_score ? h("span", {class: "badge csat", title: conversation.csat_comment || "No comment",
              text: `CSAT ${conversation.csat_score}/5${conversation.csat_comment ? ` · “${conversation.csat_comment}”` : ""}`}) : null))),
      h("div", {class: "actions", role: "group", "aria-label": "Conversation actions"}, actions));
  }

  // --- colleagues on the same conversation (the collision warning) ---------------------------------

  /** A colleague opened or left this conversation; true when they were not known to be here. */
  colleagueViewing(operatorId, on) {
    const news = on && !this.viewers.has(operatorId);
    if (on) this.viewers.set(operatorId, Date.now());
    else {
      this.viewers.delete(operatorId);
      this.colleagueTyping(operatorId, false);
    }
    this.renderOthers();
    return news;
  }

  colleagueTyping(operatorId, on) {
    clearTimeout(this.typers.get(operatorId));
    this.typers.delete(operatorId);
    if (on) {
      this.viewers.set(operatorId, Date.now());
      this.typers.set(operatorId, setTimeout(() => this.colleagueTyping(operatorId, false), 8000));
    }
    this.renderOthers();
  }

  forgetQuietColleagues(now = Date.now()) {
    for (const [id, heard] of this.viewers) if (now - heard > 60000 && !this.typers.has(id)) this.viewers.delete(id);
    this.renderOthers();
  }

  forgetColleagues() {
    for (const timer of this.typers.values()) clearTimeout(timer);
    this.typers.clear();
    this.viewers.clear();
  }

  renderOthers() {
    if (!this.others) return;
    const names = (ids) => ids.map((id) => this.app.nameOf(id));
    const typing = names([...this.typers.keys()]);
    const viewing = names([...this.viewers.keys()].filter((id) => !this.typers.has(id)));
    const parts = [];
    if (typing.length) parts.push(`${typing.join(" and ")} ${typing.length > 1 ? "are" : "is"} typing a reply`);
    if (viewing.length) parts.push(`${viewing.join(" and ")} ${viewing.length > 1 ? "are" : "is"} also viewing`);
    this.others.hidden = !parts.length;
    this.others.classList.toggle("typing-collision", typing.length > 0);
    this.others.textContent = parts.length ? `${parts.join("; ")}.` : "";
  }

  /** Add a message (ignored if its seq is already shown). */
  add(message, {scroll = true} = {}) {
    if (this.items.has(message.seq)) return;
    this.settlePending(message);
    const item = this.render(message);
    this.items.set(message.seq, item);
    let before = null;
    for (const [seq, other] of this.items) if (seq > message.seq && (!before || seq < Number(before.dataset.seq))) before = other;
    this.transcript.insertBefore(item, before);
    if (message.role === "visitor") this.setTyping(false);
    if (scroll) this.scrollDown();
  }

  /** My stored message arrived (its live event can come before the answer to my request): the
   * row that showed it on its way goes, so it is never shown twice. */
  settlePending(message) {
    if (message.role !== "operator" || message.author_id !== this.app.me.id) return;
    const internal = message.visibility === "internal";
    const row = [...this.transcript.querySelectorAll(".msg.pending")].find((li) =>
      li.classList.contains("internal") === internal && li.dataset.text === (message.text || ""));
    if (row) row.remove();
  }

  /** A message on its way (replaced by the stored one once the engine has it). */
  addPending(item) {
    const note = item.mode === "note";
    const li = h("li", {class: `msg operator pending${note ? " internal" : ""}`, dataset: {text: item.text}},
      h("div", {class: "msg-head"}, h("span", {class: "who", text: "You"}),
        note ? h("span", {class: "badge note", text: "Internal note"}) : null,
        h("span", {class: "muted", text: "Sending…"})),
      item.text ? h("p", {class: "text", dir: "auto", text: item.text}) : null,
      item.attachments?.length ? h("p", {class: "muted", text: `Files: ${item.attachments.map((a) => a.filename).join(", ")}`}) : null);
    this.transcript.append(li);
    this.scrollDown();
    return li;
  }

  render(message) {
    const internal = message.visibility === "internal";
    const names = {visitor: this.detail.contact.name || "Visitor", bot: "Bot", system: "System"};
    let who = names[message.role];
    if (message.role === "operator") who = message.author_id === this.app.me.id ? "You" : this.app.nameOf(message.author_id);
    const head = h("div", {class: "msg-head"},
      h("span", {class: "who", text: who}),
      message.role === "bot" ? h("span", {class: "badge bot", text: "Bot"}) : null,
      message.role === "bot" && message.confidence !== null && message.confidence !== undefined
        ? h("span", {class: "muted conf", text: `confidence ${Number(message.confidence).toFixed(2)}`}) : null,
      internal ? h("span", {class: "badge note", text: "Internal note"}) : null,
      h("time", {datetime: message.created_at, text: clock(message.created_at)}),
      message.role === "operator" && !internal ? h("span", {class: "seen muted"}) : null);
    const item = h("li", {class: `msg ${message.role}${internal ? " internal" : ""}`, dataset: {seq: message.seq}},
      head, message.text ? h("p", {class: "text", dir: "auto", text: message.text}) : null,
      attachmentList(this.app.api, message.attachments, (id) => ({file: `/api/operator/attachments/${id}`,
        thumbnail: `/api/operator/attachments/${id}/thumbnail`})));
    const sources = (message.citations || []).filter((c) => safeUrl(c.url) || c.title);
    if (sources.length) {
      item.append(h("ul", {class: "cites", "aria-label": "Sources"}, sources.map((c) => h("li", {},
        safeUrl(c.url) ? h("a", {href: safeUrl(c.url), target: "_blank", rel: "noopener noreferrer", text: c.title || c.url})
          : h("span", {text: c.title})))));
    }
    if (message.quick_replies?.length) item.append(h("p", {class: "muted quick", text: `Offered: ${message.quick_replies.join(", ")}`}));
    this.markSeen(item);
    return item;
  }

  onRead(seq) {
    this.readByVisitor = Math.max(this.readByVisitor, seq);
    for (const item of this.items.values()) this.markSeen(item);
  }

  markSeen(item) {
    const seen = item.querySelector(".seen");
    if (seen) seen.textContent = Number(item.dataset.seq) <= this.readByVisitor ? "Seen" : "";
  }

  setTyping(on) {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    if (on) {
      fill(this.typing, h("span", {class: "dots", "aria-hidden": "true"}, h("i"), h("i"), h("i")), " Visitor is typing…");
      this.typingTimer = setTimeout(() => this.setTyping(false), 8000);
    }
  }

  lastVisitorSeq() {
    let last = 0;
    for (const [seq, item] of this.items) if (item.classList.contains("visitor")) last = Math.max(last, seq);
    return last;
  }

  scrollDown() {
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }
}
