// The side column of an open conversation. Above, always in view: where the next reply leaves
// (customer.js decides it). Below, one tab at a time (the WAI-ARIA tabs pattern: arrow keys, Home
// and End move between them): the AI drafts (insert, then edit and send) with the tags; the customer
// (the contact, their one thread across channels, merges); their account in the shop's system
// (account.js: orders, refunds and extensions within limits). Each tab scrolls on its own, so no
// panel pushes another out of reach, and the tab last chosen stays chosen (localStorage) from one
// conversation and one sign-in to the next.
import {dateTime, fill, h, safeUrl} from "../dom.js";
import {AccountPanel} from "./account.js";
import {CustomerPanel} from "./customer.js";

const KIND_LABELS = {answer: "From the knowledge base", canned: "Canned reply", continuation: "Follow-up",
  account: "Order status"};
const TAB_KEY = "baton.console.side";
const TABS = [["drafts", "Drafts & tags"], ["customer", "Customer"], ["account", "Account"]];

export class Side {
  constructor(app) {
    this.app = app;
    this.element = document.getElementById("side");
    this.drafts = [];
    const kept = localStorage.getItem(TAB_KEY);
    this.tab = TABS.some(([key]) => key === kept) ? kept : "drafts";
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
    this.customer = new CustomerPanel(this.app, detail);  // the timeline, the reply channel, merges
    this.account = new AccountPanel(this.app, detail.conversation.id,  // loads on its own: never holds the rest up
      (waiting) => this.badge("account", waiting, `${waiting} awaiting approval`));
    this.tabs = new Map();
    this.panels = new Map();
    const contents = {
      drafts: [h("section", {class: "panel", "aria-labelledby": "drafts-title"},
        h("h2", {id: "drafts-title", text: "AI drafts"}), this.draftList),
      h("section", {class: "panel", "aria-labelledby": "tags-title"}, h("h2", {id: "tags-title", text: "Tags"}), this.tagBox)],
      customer: [this.contactPanel(detail, context), this.customer.element],
      account: [this.account.element],
    };
    for (const [key, text] of TABS) {
      this.tabs.set(key, h("button", {type: "button", role: "tab", class: "side-tab", id: `side-tab-${key}`,
        "aria-controls": `side-panel-${key}`, dataset: {tab: key}, onclick: () => this.select(key)},
      h("span", {text}), h("span", {class: "count", hidden: true})));
      this.panels.set(key, h("div", {role: "tabpanel", class: "side-panel", id: `side-panel-${key}`,
        "aria-labelledby": `side-tab-${key}`, tabindex: "0"}, contents[key]));
    }
    const tablist = h("div", {role: "tablist", class: "side-tabs", "aria-label": "Beside the conversation",
      onkeydown: (event) => this.keyed(event)}, [...this.tabs.values()]);
    fill(this.element, h("div", {class: "side-head"}, this.customer.routeBox, tablist), [...this.panels.values()]);
    this.select(this.tab, {focus: false});
    this.element.hidden = false;
    this.renderDrafts();
    this.renderTags(detail.conversation.tags);
  }

  /** Show one tab's panel, and keep the choice for the next conversation. */
  select(key, {focus = true} = {}) {
    this.tab = key;
    localStorage.setItem(TAB_KEY, key);
    for (const [name, tab] of this.tabs) {
      const chosen = name === key;
      tab.setAttribute("aria-selected", String(chosen));
      tab.tabIndex = chosen ? 0 : -1;  // one stop in the Tab order; the arrows move within
      this.panels.get(name).hidden = !chosen;
    }
    if (focus) this.tabs.get(key).focus();
  }

  /** Arrow keys, Home and End move between the tabs (and show each at once). */
  keyed(event) {
    const keys = TABS.map(([key]) => key);
    const at = keys.indexOf(this.tab);
    const next = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: keys.length - 1}[event.key];
    if (next === undefined) return;
    event.preventDefault();
    this.select(keys[(next + keys.length) % keys.length]);
  }

  /** A count on a tab, so what waits in a hidden panel is seen: drafts to use, actions to approve. */
  badge(key, count, label) {
    const badge = this.tabs?.get(key)?.querySelector(".count");
    if (!badge) return;
    badge.hidden = !count;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", label);
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
    this.badge("drafts", shown.length, `${shown.length} draft${shown.length === 1 ? "" : "s"}`);
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
