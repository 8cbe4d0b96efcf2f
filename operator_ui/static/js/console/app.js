// The operator console: sign-in, the live socket, and the wiring between the list, the open
// conversation and its side panel. Everything on screen follows the engine's events (the lists too:
// inbox.js says how, and what a slow fallback fetch is kept for); an open
// conversation resumes from its last seq after any reconnect, and the socket from its last event id
// on each stream (what the engine still holds is sent again; a "resync" reloads the rest).
import {Api, LiveSocket} from "../api.js";
import {DEMO_HINT, clearSession, loadSession, saveSession, signIn} from "../auth.js";
import {h} from "../dom.js";
import {summary} from "../files.js";
import {ConversationView} from "./conversation.js";
import {Inbox} from "./inbox.js";
import {bindShortcuts} from "./shortcuts.js";
import {Side} from "./side.js";
import {askTransfer} from "./transfer.js";

const CONVERSATION_HASH = /^#\/conversation\/(\d+)$/;
const VIEWING_AGAIN_MS = 20000;

class Console {
  constructor(session) {
    this.session = session;
    this.me = session.operator;
    this.api = new Api("", session.token, () => this.signOut());
    this.names = new Map([[this.me.id, this.me.name]]);
    this.inbox = new Inbox(this);
    this.view = new ConversationView(this);
    this.side = new Side(this);
    this.socket = null;
    this.opening = null;
  }

  get currentId() { return this.view.id; }

  async start() {
    document.getElementById("app").hidden = false;
    document.getElementById("me").hidden = false;
    document.getElementById("me-name").textContent = this.me.name;
    document.getElementById("logout").addEventListener("click", () => this.signOut(true));
    document.getElementById("help-button").addEventListener("click", () => this.showHelp());
    const presence = document.getElementById("presence");
    presence.value = this.me.status;
    presence.addEventListener("change", () => this.setPresence(presence.value));
    await this.loadMe();  // the engine's word on our status, not what this tab last saved
    bindShortcuts(this);
    if (this.session.fresh) {  // signing in means being ready for conversations
      this.session.fresh = false;
      saveSession(this.session);
      await this.setPresence("online");
    }
    this.loadNames();
    await this.inbox.refresh();
    this.socket = new LiveSocket(() => this.api.socketUrl(`/ws/operator?token=${encodeURIComponent(this.session.token)}`), {
      onOpen: () => this.resync(),
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => {
        if (status !== "open") this.inbox.disconnected();
        this.showConnection(status);
      },
      onUnauthorised: () => this.signOut(),
      onResync: () => this.reload(),
      resumable: true,
    }).start();
    setInterval(() => this.inbox.tick(), 1000);
    this.inbox.startFallback();
    window.addEventListener("hashchange", () => this.followHash());
    setInterval(() => {  // still here: colleagues forget a viewer they stop hearing from
      if (this.currentId !== null) this.sayViewing(this.currentId, true);
      this.view.forgetQuietColleagues();
    }, VIEWING_AGAIN_MS);
    window.addEventListener("pagehide", () => { if (this.currentId !== null) this.sayViewing(this.currentId, false); });
    window.addEventListener("focus", () => this.markRead());
    this.followHash();
  }

  // --- engine events ------------------------------------------------------------------------------

  onEvent(event) {
    const current = event.conversation_id !== undefined && event.conversation_id === this.currentId;
    switch (event.type) {
      case "message.created":
        if (current) {
          this.view.add(event.message);
          this.markRead();
          if (event.message.role === "visitor") this.requestDrafts(event.conversation_id);
        } else if (event.message.role === "visitor" && !this.inbox.quiet(event.conversation_id)) {
          this.newElsewhere(event.message);
        }
        if (this.side.customer?.follows(event.conversation_id)) this.side.customer.soon();
        this.inbox.onMessage(event.message);
        break;
      case "message.delivered":  // a reply left by SMS, email...: the timeline shows it sent
        if (this.side.customer?.follows(event.conversation_id)) this.side.customer.soon();
        break;
      case "conversation.queued":
      case "conversation.assigned":
      case "conversation.resolved":
      case "conversation.updated":
        if (current) this.view.update({state: event.state, assignee_id: event.assignee_id, team_id: event.team_id, tags: event.tags});
        if (current) this.side.renderTags(event.tags);
        if (event.type === "conversation.assigned" && event.assignee_id === this.me.id && !current) {
          this.announce(`Conversation #${event.conversation_id} was assigned to you`);
          if (this.currentId === null && this.opening === null) this.open(event.conversation_id);
        }
        this.inbox.soon();
        break;
      case "typing":
        if (current && event.role === "visitor") this.view.setTyping(event.on);
        if (current && event.role === "operator" && event.operator_id !== this.me.id) {
          this.view.colleagueTyping(event.operator_id, event.on);
        }
        break;
      case "viewing":
        if (current && event.operator_id !== this.me.id) {
          const news = this.view.colleagueViewing(event.operator_id, event.on);
          if (news && event.on) this.sayViewing(this.currentId, true);  // so the newcomer knows of us too
        }
        break;
      case "read":
        if (current && event.role === "visitor") this.view.onRead(event.seq);
        this.inbox.onRead(event);  // an operator's reading: unread counts fall
        break;
      case "draft.created":
        if (current) {
          this.side.addDraft({id: event.draft_id, conversation_id: event.conversation_id, text: event.text,
            kind: event.meta?.kind, message_id: event.meta?.message_id, citations: event.meta?.citations || [],
            confidence: event.meta?.confidence ?? null, weak: Boolean(event.meta?.weak)});
        }
        break;
      case "action.updated":
        if (current) this.side.account?.onAction(event.action);
        else if (event.action.status === "awaiting_approval" && event.action.requested_by !== this.me.id) {
          this.announce(`Approval asked in conversation #${event.conversation_id}: ${event.action.label} on ${event.action.order_number}`);
        }
        break;
      case "queue.updated":
        this.inbox.setPositions(event.positions);  // who waits comes with conversation.* (above)
        break;
      case "contact.merged":
      case "contact.unmerged":
        if (this.side.customer?.concerns(event)) this.side.customer.load();
        this.inbox.soon();
        break;
      case "presence.updated":
        if (event.operator_id === this.me.id) this.showStatus(event.status);
        break;
      case "hello":  // (re)connected: what the socket follows by itself; the lists' other rows are asked for
        this.inbox.connected(this.currentId === null ? event.watching : [...event.watching, this.currentId]);
        break;
      case "error":
        this.announce(`The engine said: ${event.detail}`);
        break;
      default:
        break;
    }
  }

  /** After (re)connecting: get what the open conversation missed (a second subscribe sends only what
   * the resume did not), and refresh the lists unless the engine replays what this console missed. */
  resync() {
    if (!this.socket.resumed) this.inbox.refresh();
    if (this.currentId !== null) this.socket.send({type: "subscribe", conversation_id: this.currentId, after: this.view.lastSeq});
  }

  /** The engine no longer holds all this console missed ("resync"): load the lists and the open
   * conversation again over REST. */
  reload() {
    this.inbox.refresh();
    if (this.currentId !== null) this.open(this.currentId);
  }

  showConnection(status) {
    const el = document.getElementById("connection");
    el.hidden = status === "connecting" && el.hidden;
    el.dataset.state = status === "open" ? "open" : "closed";
    el.textContent = status === "open" ? "Live" : "Reconnecting…";
  }

  connectionProblem() {
    this.showConnection("closed");
  }

  // --- the open conversation ------------------------------------------------------------------------

  followHash() {
    const match = CONVERSATION_HASH.exec(location.hash);
    if (match && Number(match[1]) !== this.currentId) this.open(Number(match[1]));
  }

  async open(id) {
    this.opening = id;
    const base = `/api/operator/conversations/${id}`;
    let detail, drafts, context;
    try {
      [detail, drafts, context] = await Promise.all([this.api.get(base), this.api.get(`${base}/drafts`),
        this.api.get(`${base}/context`).catch(() => null)]);
    } catch (failure) {
      this.announce(`Could not open conversation #${id}: ${failure.message}`);
      return;
    }
    if (this.opening !== id) return;  // another one was picked meanwhile
    if (this.currentId !== null && this.currentId !== id) this.sayViewing(this.currentId, false);
    if (location.hash !== `#/conversation/${id}`) history.replaceState(null, "", `#/conversation/${id}`);
    this.view.show(detail);
    this.side.show(detail, drafts, context);
    this.inbox.markCurrent(id);
    document.body.classList.add("has-conversation");
    if (this.socket?.send({type: "subscribe", conversation_id: id, after: this.view.lastSeq})) this.inbox.following(id);
    this.sayViewing(id, true);
    this.markRead();
    this.requestDrafts(id);
  }

  /** Drafts for the visitor's latest message, if it has none: the engine drafts for an owned
   *  conversation only when a console asks. They arrive as draft.created. */
  requestDrafts(id) {
    this.api.post(`/api/operator/conversations/${id}/drafts`).catch(() => {});
  }

  /** Tell colleagues following the conversation that we have it open (or left it). */
  sayViewing(id, on) {
    this.api.request("POST", `/api/operator/conversations/${id}/viewing`, {on}, {keepalive: !on}).catch(() => {});
  }

  closeConversation() {
    if (this.currentId !== null) this.sayViewing(this.currentId, false);
    this.view.close();
    this.side.clear();
    document.body.classList.remove("has-conversation");
    history.replaceState(null, "", location.pathname);
    this.inbox.markCurrent(null);
    document.getElementById("list").querySelector(".row")?.focus();
  }

  async refreshOpen() {
    if (this.currentId === null) return;
    const detail = await this.api.get(`/api/operator/conversations/${this.currentId}`);
    this.view.show(detail);
  }

  markRead() {
    if (this.currentId === null || !document.hasFocus()) return;
    const seq = this.view.lastVisitorSeq();
    if (seq) this.socket?.send({type: "read", conversation_id: this.currentId, seq});
  }

  /** Run one conversation action (claim, transfer, handback, resolve, reopen) on the open conversation. */
  async act(name) {
    if (this.currentId === null) return;
    const button = document.querySelector(`[data-action="${name}"]`);
    if (!button) return;  // not available in this state
    let body = {};
    if (name === "transfer") {
      body = await askTransfer(this);
      if (!body) return;
    }
    try {
      const after = await this.api.post(`/api/operator/conversations/${this.currentId}/${name}`, body);
      const done = {claim: "Assigned to you", takeover: "You took it over", transfer: "Transferred",
        handback: "Handed back to the bot", resolve: "Resolved", reopen: "Reopened"};
      const landedOnNobody = name === "transfer" && body.operator_id && after.state === "queued";
      this.announce(landedOnNobody ? `${this.nameOf(body.operator_id)} is not available: it went back to the queue`
        : done[name]);
      await this.refreshOpen();
      this.inbox.soon();
    } catch (failure) {
      this.announce(`${name} failed: ${failure.message}`);
    }
  }

  async tag(change) {
    try {
      const conversation = await this.api.post(`/api/operator/conversations/${this.currentId}/tags`,
        {add: change.add || [], remove: change.remove || []});
      this.view.update({tags: conversation.tags});
      this.side.renderTags(conversation.tags);
      document.getElementById("tag-input")?.focus();
    } catch (failure) {
      this.announce(`Tags not saved: ${failure.message}`);
    }
  }

  compose(mode) {
    if (!this.view.composer) return;
    this.view.composer.setMode(mode);
    this.view.composer.focus();
  }

  insertDraft(n) {
    this.side.draftAt(n)?.click();
  }

  step(delta) {
    const ids = this.inbox.ids();
    if (!ids.length) return;
    const at = ids.indexOf(this.currentId);
    const next = at === -1 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta));
    this.open(ids[next]);
  }

  // --- people ---------------------------------------------------------------------------------------

  async loadNames() {
    try {
      const roster = await this.api.get("/api/operators");
      for (const o of roster.operators) this.names.set(o.id, o.name);
      this.inbox.setTeams(roster.teams);
    } catch { /* names are a nicety: ids stand in */ }
  }

  nameOf(id) {
    return this.names.get(id) || `operator #${id}`;
  }

  /** The status the engine has for us (another tab, the grace expiry or a supervisor may have changed it). */
  async loadMe() {
    try {
      this.showStatus((await this.api.get("/api/operator/me")).status);
    } catch { /* the socket's presence events still correct it */ }
  }

  showStatus(status) {
    this.me.status = status;
    document.getElementById("presence").value = status;
    this.session.operator = this.me;
    saveSession(this.session);
  }

  async setPresence(status) {
    try {
      const me = await this.api.post("/api/operator/presence", {status});
      this.showStatus(me.status);
    } catch (failure) {
      this.announce(`Status not changed: ${failure.message}`);
    }
  }

  async signOut(byChoice = false) {
    if (byChoice) await this.setPresence("offline");
    this.socket?.stop();
    clearSession();
    location.reload();
  }

  showHelp() {
    document.getElementById("help").showModal();
  }

  /** A visitor wrote in a conversation that is not open: say who and what, with a way there. */
  newElsewhere(message) {
    const row = this.inbox.rowOf(message.conversation_id);
    const contact = row?.contact;
    const who = contact?.name || contact?.email || contact?.phone || `conversation #${message.conversation_id}`;
    const said = summary(message);
    const excerpt = said.length > 80 ? `${said.slice(0, 80)}…` : said;
    this.announce(`New message from ${who}: “${excerpt}”`, {label: `Open ${who}`, run: () => this.open(message.conversation_id)});
  }

  announce(text, action = null) {
    const el = document.getElementById("announcer");
    el.textContent = "";
    setTimeout(() => { el.textContent = text; }, 30);
    const toast = h("div", {class: "toast", role: action ? "status" : null}, h("span", {text}),
      action ? h("button", {type: "button", class: "quiet", text: action.label, onclick: () => {
        toast.remove();
        action.run();
      }}) : null);
    let shelf = document.getElementById("toasts");
    if (!shelf) {
      shelf = h("div", {id: "toasts", class: "toasts"});
      document.body.append(shelf);
    }
    shelf.append(toast);
    setTimeout(() => toast.remove(), action ? 8000 : 4000);
  }
}

async function main() {
  const session = loadSession() || await signIn(document.getElementById("login"), {title: "Operator console", hint: DEMO_HINT});
  await new Console(session).start();
}

main();
