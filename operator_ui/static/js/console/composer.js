// The reply box: replies or internal notes, canned replies on "/", drafts inserted for editing,
// typing sent to the visitor. Unsent text is kept per conversation in sessionStorage, so a reload
// loses nothing.
import {fill, h, newId} from "../dom.js";

const TYPING_IDLE_MS = 3000;

export class Composer {
  constructor(app, conversationId) {
    this.app = app;
    this.conversationId = conversationId;
    this.key = `baton.console.compose:${conversationId}`;
    const saved = JSON.parse(sessionStorage.getItem(this.key) || "{}");
    this.mode = saved.mode || "reply";
    this.draftId = saved.draftId ?? null;
    this.clientId = saved.clientId || newId();  // kept until sent, so a retry is never a second reply
    this.canned = [];
    this.cannedIndex = 0;
    this.typingOn = false;
    this.typingTimer = null;
    this.build(saved.text || "");
  }

  build(text) {
    this.modeButtons = ["reply", "note"].map((mode) => h("button", {type: "button", class: "mode", dataset: {mode},
      "aria-pressed": String(this.mode === mode), onclick: () => this.setMode(mode)},
    mode === "reply" ? "Reply" : "Internal note"));
    this.input = h("textarea", {id: "composer-input", rows: 3, maxlength: 20000, "aria-describedby": "composer-help",
      role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "canned-list",
      oninput: () => this.onInput(), onkeydown: (e) => this.onKey(e)});
    this.input.value = text;
    this.popup = h("ul", {id: "canned-list", class: "canned", role: "listbox", "aria-label": "Canned replies", hidden: true});
    this.draftNote = h("p", {class: "draft-note", hidden: true});
    this.error = h("p", {class: "error", role: "alert"});
    this.send = h("button", {type: "submit", class: "primary send"});
    this.label = h("label", {for: "composer-input", class: "visually-hidden"});
    this.element = h("form", {class: "composer", onsubmit: (e) => { e.preventDefault(); this.submit(); }},
      h("div", {class: "modes", role: "group", "aria-label": "Write a"}, this.modeButtons),
      this.label, this.popup, this.input, this.draftNote,
      h("div", {class: "composer-foot"},
        h("p", {id: "composer-help", class: "muted", text: "Enter sends · Shift+Enter new line · / canned replies"}),
        this.error, this.send));
    this.setMode(this.mode);
    this.showDraft();
  }

  dispose() {
    this.stopTyping();
  }

  focus() {
    this.input.focus();
  }

  setMode(mode) {
    this.mode = mode;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    this.element.classList.toggle("note-mode", mode === "note");
    this.send.textContent = mode === "note" ? "Add note" : "Send";
    this.label.textContent = mode === "note" ? "Internal note (never shown to the visitor)" : "Reply to the visitor";
    this.input.placeholder = mode === "note" ? "Internal note: only your team sees this" : "Reply to the visitor…";
    if (mode === "note") this.stopTyping();
    this.save();
  }

  /** Put a draft in the box for editing; sending then records which draft it came from. */
  insertDraft(draft) {
    this.setMode("reply");
    this.input.value = draft.text;
    this.draftId = draft.id;
    this.showDraft(draft.kind);
    this.save();
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  showDraft(kind) {
    this.draftNote.hidden = this.draftId === null;
    if (this.draftId === null) return;
    fill(this.draftNote, `Started from an AI draft${kind ? ` (${kind})` : ""}: edit it freely before sending. `,
      h("button", {type: "button", class: "quiet", text: "Discard draft", onclick: () => {
        this.draftId = null;
        this.input.value = "";
        this.showDraft();
        this.save();
        this.input.focus();
      }}));
  }

  save() {
    sessionStorage.setItem(this.key, JSON.stringify({text: this.input.value, mode: this.mode, draftId: this.draftId,
      clientId: this.clientId}));
  }

  onInput() {
    this.save();
    if (this.mode === "reply") this.typing();
    const match = /^\/(\S*)$/.exec(this.input.value);
    if (match) this.searchCanned(match[1]);
    else this.closeCanned();
  }

  onKey(event) {
    if (!this.popup.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.highlight((this.cannedIndex + step + this.canned.length) % this.canned.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        if (this.canned.length) {
          event.preventDefault();
          this.pickCanned(this.canned[this.cannedIndex]);
        }
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.closeCanned();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    } else if (event.key === "Escape") {
      this.input.blur();
    }
  }

  async searchCanned(query) {
    let found = [];
    try {
      found = await this.app.api.get(`/api/operator/canned?q=${encodeURIComponent(query)}`);
    } catch {
      return;
    }
    if (!/^\/\S*$/.test(this.input.value)) return;  // the text changed meanwhile
    this.canned = found.slice(0, 8);
    this.cannedIndex = 0;
    fill(this.popup, this.canned.length ? this.canned.map((c, i) => h("li", {id: `canned-${c.id}`, role: "option",
      "aria-selected": String(i === 0), onmousedown: (e) => { e.preventDefault(); this.pickCanned(c); }},
    h("strong", {text: `/${c.shortcut}`}), h("span", {text: ` ${c.title}`}), h("span", {class: "muted snippet", text: c.text})))
      : h("li", {class: "muted", role: "option", "aria-disabled": "true", text: "No canned reply matches"}));
    this.popup.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight(0);
  }

  highlight(index) {
    this.cannedIndex = index;
    [...this.popup.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const active = this.canned[index];
    if (active) this.input.setAttribute("aria-activedescendant", `canned-${active.id}`);
  }

  closeCanned() {
    this.popup.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  async pickCanned(canned) {
    this.closeCanned();
    try {
      const rendered = await this.app.api.get(`/api/operator/conversations/${this.conversationId}/canned/${canned.id}`);
      this.input.value = rendered.text;
      this.error.textContent = "";
    } catch (failure) {
      this.input.value = canned.text;
      this.error.textContent = `Fill in the placeholders: ${failure.message}`;
    }
    this.save();
    this.input.focus();
  }

  typing() {
    if (!this.typingOn) {
      this.typingOn = true;
      this.app.socket.send({type: "typing", on: true, conversation_id: this.conversationId});
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingOn) this.app.socket?.send({type: "typing", on: false, conversation_id: this.conversationId});
    this.typingOn = false;
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.send.disabled = true;
    this.error.textContent = "";
    const path = `/api/operator/conversations/${this.conversationId}/${this.mode === "note" ? "note" : "reply"}`;
    const body = this.mode === "note" ? {text} : {text, client_id: this.clientId, draft_id: this.draftId};
    try {
      const message = await this.app.api.post(path, body);
      this.input.value = "";
      this.draftId = null;
      this.clientId = newId();
      this.showDraft();
      this.stopTyping();
      this.save();
      this.app.view.add(message);
    } catch (failure) {
      this.error.textContent = `Not sent: ${failure.message}`;
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }
}
