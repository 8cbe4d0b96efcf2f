// The side panel of an open conversation: AI drafts (insert, then edit and send), tags, and the
// contact with their conversations on every channel; the customer's one thread (customer.js).
import {dateTime, fill, h, safeUrl} from "../dom.js";
import {AccountPanel} from "./account.js";
import {CustomerPanel} from "./customer.js";

const KIND_LABELS = {answer: "From the knowledge base", canned: "Canned reply", continuation: "Follow-up",
  account: "Order status"};

export class Side {
  constructor(app) {
    this.app = app;
    this.element = document.getElementById("side");
    this.drafts = [];
  }

  clear() {
    this.account = null;
    this.customer = null;
    this.element.hidden = true;
    this.element.replaceChildren();
  }

  show(detail, drafts, context) {
    this.detail = detail;
    this.drafts = drafts;
    this.draftList = h("ol", {class: "drafts", "aria-label": "Drafts"});
    this.tagBox = h("div", {class: "tags"});
    this.account = new AccountPanel(this.app, detail.conversation.id);  // loads on its own: never holds the rest up
    this.customer = new CustomerPanel(this.app, detail);  // the timeline, the reply channel, merges
    fill(this.element, this.customer.element, this.account.element,
      h("section", {class: "panel", "aria-labelledby": "drafts-title"},
        h("h2", {id: "drafts-title", text: "AI drafts"}), this.draftList),
      h("section", {class: "panel", "aria-labelledby": "tags-title"}, h("h2", {id: "tags-title", text: "Tags"}), this.tagBox),
      this.contactPanel(detail, context));
    this.element.hidden = false;
    this.renderDrafts();
    this.renderTags(detail.conversation.tags);
  }

  addDraft(draft) {
    if (this.drafts.some((d) => d.id === draft.id)) return;
    this.drafts.push(draft);
    this.renderDrafts();
    this.app.announce(`New AI draft: ${KIND_LABELS[draft.kind] || draft.kind}`);
  }

  /** Newest visitor message's drafts first; each can be inserted with its number key. */
  renderDrafts() {
    const latest = Math.max(0, ...this.drafts.map((d) => d.message_id));
    const shown = this.drafts.filter((d) => d.message_id === latest && d.used_message_id == null);
    if (!shown.length) {
      fill(this.draftList, h("li", {class: "muted", text: "No drafts yet. They appear here as the visitor writes."}));
      return;
    }
    fill(this.draftList, shown.map((draft, i) => h("li", {class: "draft"},
      h("div", {class: "draft-head"}, h("span", {class: "badge", text: KIND_LABELS[draft.kind] || draft.kind}),
        draft.confidence != null ? h("span", {class: "muted conf", text: `confidence ${Number(draft.confidence).toFixed(2)}`}) : null,
        h("kbd", {text: String(i + 1), title: `Press ${i + 1} to insert`})),
      draft.weak ? h("p", {class: "draft-weak", role: "note",
        text: "The bot judged this answer too weak to send: check it against the sources before using it."}) : null,
      h("p", {class: "text", text: draft.text}),
      draft.citations?.length ? h("ul", {class: "cites"}, draft.citations.map((c) => h("li", {},
        safeUrl(c.url) ? h("a", {href: safeUrl(c.url), target: "_blank", rel: "noopener noreferrer", text: c.title || c.url})
          : h("span", {text: c.title || c.doc_id})))) : null,
      h("button", {type: "button", class: "secondary insert", "aria-keyshortcuts": String(i + 1),
        onclick: () => this.app.view.composer.insertDraft(draft)}, "Insert to edit"))));
  }

  /** The draft shown at position ``n`` (1-based), for the number shortcuts. */
  draftAt(n) {
    return this.draftList.querySelectorAll("button.insert")[n - 1] || null;
  }

  renderTags(tags) {
    const input = h("input", {id: "tag-input", placeholder: "Add a tag", maxlength: 64, autocomplete: "off"});
    const add = h("form", {class: "tag-form", onsubmit: (e) => {
      e.preventDefault();
      const tag = input.value.trim();
      if (tag) this.app.tag({add: [tag]});
    }}, h("label", {for: "tag-input", class: "visually-hidden", text: "New tag"}), input,
    h("button", {type: "submit", class: "secondary", text: "Add"}));
    fill(this.tagBox,
      h("ul", {class: "chips"}, tags.length ? tags.map((tag) => h("li", {class: "chip"}, h("span", {text: tag}),
        h("button", {type: "button", class: "quiet", "aria-label": `Remove tag ${tag}`, text: "×",
          onclick: () => this.app.tag({remove: [tag]})}))) : h("li", {class: "muted", text: "No tags"})),
      add);
  }

  contactPanel(detail, context) {
    const contact = context?.contact || detail.contact;
    const facts = [["Name", contact.name], ["Email", contact.email], ["Phone", contact.phone],
      ["VIP", contact.vip ? "yes" : null]].filter(([, v]) => v);
    const identities = context?.identities || [];
    const past = context?.conversations || [];
    return h("section", {class: "panel", "aria-labelledby": "contact-title"},
      h("h2", {id: "contact-title", text: "Contact"}),
      facts.length ? h("dl", {class: "facts"}, facts.flatMap(([k, v]) => [h("dt", {text: k}), h("dd", {text: v})]))
        : h("p", {class: "muted", text: "Anonymous visitor: no name or email given."}),
      identities.length ? h("p", {class: "muted", text: `Known on: ${identities.map((i) => `${i.channel} ${i.external_id}`).join(", ")}`}) : null,
      h("h3", {text: `History on every channel (${past.length})`}),
      past.length ? h("ol", {class: "history"}, past.map((c) => h("li", {},
        h("button", {type: "button", class: "quiet history-item", onclick: () => this.app.open(c.id)},
          h("span", {class: "badge channel", text: c.channel}), h("span", {class: `badge state-${c.state}`, text: c.state}),
          h("span", {class: "muted", text: ` ${dateTime(c.created_at)} · ${c.messages} messages`}),
          c.csat_score ? h("span", {class: "muted", text: ` · CSAT ${c.csat_score}/5`}) : null),
        c.summary ? h("p", {class: "summary", text: c.summary}) : null)))
        : h("p", {class: "muted", text: "No earlier conversations."}));
  }
}
