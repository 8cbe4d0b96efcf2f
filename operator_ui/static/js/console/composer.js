// The reply box: replies or internal notes, canned replies on "/", drafts inserted for editing,
// typing sent to the visitor. Unsent text is kept per conversation in sessionStorage, so a reload
// loses nothing.
//
// The mode never carries over silently: a sent note puts the box back to "reply", and a conversation
// opens in "reply" unless an unsent note is waiting in it (then the note banner says so). What is
// sent goes out in order, one request at a time: Enter clears the box at once (with a fresh client
// id per message), so a fast second message is its own message, never merged into or deduplicated
// with the first. A canned reply's placeholders that have no value here stay in the text, and
// sending is blocked until each is filled.
import {fill, h, newId} from "../dom.js";
import {clipIcon, dropZone, filesOf, readyChip, uploadFile, uploadRow} from "../files.js";
import {MAX_MESSAGE_CHARS, lengthCounter} from "../limits.js";

const TYPING_IDLE_MS = 3000;
// {contact.name}, {order.number}, ... as canned replies write them (engine.service.canned.PLACEHOLDERS)
const PLACEHOLDER = /\{(?:contact|operator|conversation|order)\.[a-z_]+\}/g;

/** The placeholders still in ``text``, each once, in order. */
export function unfilled(text) {
  return [...new Set(text.match(PLACEHOLDER) || [])];
}

export class Composer {
  constructor(app, conversationId) {
    this.app = app;
    this.conversationId = conversationId;
    this.key = `baton.console.compose:${conversationId}`;
    const saved = JSON.parse(sessionStorage.getItem(this.key) || "{}");
    // a note is restored only together with its unsent text, never as an empty box's mode
    this.mode = saved.mode === "note" && saved.text?.trim() ? "note" : "reply";
    this.draftId = saved.draftId ?? null;
    this.clientId = saved.clientId || newId();  // kept until sent, so a retry is never a second reply
    this.canned = [];
    this.cannedIndex = 0;
    this.typingOn = false;
    this.typingTimer = null;
    this.sending = Promise.resolve();  // the chain of sends: each waits for the one before
    this.files = [];  // uploaded, waiting to go with the next reply or note (attachment metadata)
    this.build(saved.text || "");
  }

  build(text) {
    this.modeButtons = ["reply", "note"].map((mode) => h("button", {type: "button", class: "mode", dataset: {mode},
      "aria-pressed": String(this.mode === mode), onclick: () => this.setMode(mode)},
    mode === "reply" ? "Reply" : "Internal note"));
    this.input = h("textarea", {id: "composer-input", rows: 3, maxlength: MAX_MESSAGE_CHARS, dir: "auto",
      "aria-describedby": "composer-help composer-banner",
      role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "canned-list",
      oninput: () => this.onInput(), onkeydown: (e) => this.onKey(e)});
    this.input.value = text;
    this.popup = h("ul", {id: "canned-list", class: "canned", role: "listbox", "aria-label": "Canned replies", hidden: true});
    this.draftNote = h("p", {class: "draft-note", hidden: true});
    this.banner = h("p", {id: "composer-banner", class: "mode-banner", role: "status"});
    this.counter = lengthCounter(this.input);
    this.error = h("p", {class: "error", role: "alert"});
    this.send = h("button", {type: "submit", class: "primary send"});
    this.label = h("label", {for: "composer-input", class: "visually-hidden"});
    // files: the paperclip, a paste (a screenshot) or a drop on the box; uploaded at once with a
    // progress bar, then sent with the next reply or note (a note's files stay internal)
    this.fileInput = h("input", {type: "file", multiple: true, hidden: true, id: "composer-file",
      "aria-label": "Attach files",
      onchange: () => { this.attach([...this.fileInput.files]); this.fileInput.value = ""; }});
    this.input.addEventListener("paste", (e) => {
      const files = filesOf(e.clipboardData);
      if (files.length) { e.preventDefault(); this.attach(files); }
    });
    this.tray = h("ul", {class: "uploads", "aria-label": "Files to send", "aria-live": "polite"});
    this.element = h("form", {class: "composer", onsubmit: (e) => { e.preventDefault(); this.submit(); }},
      h("div", {class: "modes", role: "group", "aria-label": "Write a"}, this.modeButtons, this.banner),
      this.label, this.popup, this.input, this.draftNote, this.tray,
      h("div", {class: "composer-foot"},
        h("button", {type: "button", class: "attach", "aria-label": "Attach a file", title: "Attach a file (or paste, or drop it on the box)",
          onclick: () => this.fileInput.click()}, clipIcon()), this.fileInput,
        h("p", {id: "composer-help", class: "muted hint", text: "Enter sends · Shift+Enter new line · / canned replies"}),
        this.counter, this.error, this.send));
    dropZone(this.element, (files) => this.attach(files));
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
    this.banner.textContent = mode === "note" ? "Internal note: the visitor will not see this"
      : "Reply: the visitor sees this";
    if (mode === "note") this.stopTyping();
    this.checkPlaceholders(false);
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
    if (this.error.dataset.kind === "placeholders") this.checkPlaceholders(false);
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

  /** Insert a canned reply with what this conversation has filled in; any placeholder left (no value
   * here) is named and selected, and sending waits until it is replaced. */
  async pickCanned(canned) {
    this.closeCanned();
    try {
      const rendered = await this.app.api.get(`/api/operator/conversations/${this.conversationId}/canned/${canned.id}`);
      this.input.value = rendered.text;
      this.setError("");
    } catch (failure) {
      this.input.value = "";
      this.setError(`Canned reply not inserted: ${failure.message}`);
      return;
    }
    this.save();
    this.input.focus();
    if (!this.checkPlaceholders(true)) this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  /** True (and the missing ones shown, the first selected when ``select``) if placeholders remain. */
  checkPlaceholders(select) {
    const missing = this.mode === "reply" ? unfilled(this.input.value) : [];
    this.input.setAttribute("aria-invalid", String(missing.length > 0));
    if (!missing.length) {
      if (this.error.dataset.kind === "placeholders") this.setError("");
      return false;
    }
    this.setError(`Fill in before sending: ${missing.join(", ")}`, "placeholders");
    if (select) {
      const at = this.input.value.indexOf(missing[0]);
      this.input.setSelectionRange(at, at + missing[0].length);
    }
    return true;
  }

  setError(text, kind = "") {
    this.error.textContent = text;
    this.error.dataset.kind = kind;
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

  /** Upload each file to this conversation (a row with its progress); it waits in the tray for the
   * next reply or note. A refusal (type, size) stays in its row with the engine's reason. */
  async attach(files) {
    await Promise.all(files.map(async (file) => {
      const row = uploadRow(file.name || "pasted image");
      this.tray.append(row);
      try {
        const meta = await uploadFile(this.app.api, `/api/operator/conversations/${this.conversationId}/attachments`,
          file, row.progress);
        row.replaceWith(readyChip(meta, () => { this.files = this.files.filter((f) => f.id !== meta.id); }));
        this.files.push(meta);
      } catch (failure) {
        row.fail(failure.message);
      }
    }));
  }

  /** Send what is in the box: it leaves the box at once and goes out after anything still sending. */
  submit() {
    const text = this.input.value.trim();
    if (!text && !this.files.length) return;
    if (this.checkPlaceholders(true)) return;
    const item = {mode: this.mode, text, clientId: this.clientId, draftId: this.draftId, attachments: this.files};
    this.files = [];
    for (const chip of this.tray.querySelectorAll(".ready")) chip.remove();
    this.input.value = "";
    this.draftId = null;
    this.clientId = newId();
    this.showDraft();
    if (item.mode === "note") this.setMode("reply");  // the next message is a reply unless chosen again
    else this.stopTyping();
    this.setError("");
    this.save();
    this.input.focus();
    const shown = this.app.view.addPending(item);
    this.sending = this.sending.then(() => this.deliver(item, shown));
  }

  async deliver(item, shown) {
    const path = `/api/operator/conversations/${this.conversationId}/${item.mode === "note" ? "note" : "reply"}`;
    const body = item.mode === "note" ? {text: item.text}
      : {text: item.text, client_id: item.clientId, draft_id: item.draftId};
    if (item.attachments.length) body.attachment_ids = item.attachments.map((a) => a.id);
    const channel = item.mode === "note" ? "" : this.app.side.customer?.chosen;  // "" = the last channel used
    if (channel) body.channel = channel;
    try {
      const message = await this.app.api.post(path, body);
      shown.remove();
      this.app.view.add(message);
    } catch (failure) {
      shown.remove();
      this.setError(`Not sent: ${failure.message}`);
      for (const meta of item.attachments) {  // the files wait in the tray again
        this.files.push(meta);
        this.tray.append(this.chip(meta));
      }
      if (!this.input.value.trim()) {  // give the text back, in the mode it was written in
        this.input.value = item.text;
        this.clientId = item.clientId;
        this.draftId = item.draftId;
        this.setMode(item.mode);
        this.save();
      }
    }
  }
}
