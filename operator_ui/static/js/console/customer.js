// The customer beside an open conversation: one timeline across channels and time, where the next
// reply leaves (the channel the customer last used unless the operator picks another), the
// identities that name them, and merging with another contact or undoing a merge. Everything goes
// through the engine's REST API (GET /api/operator/contacts/{id}/timeline, .../route, POST
// .../merge, /api/operator/merges/{id}/unmerge); the engine audits each merge.
import {dateTime, fill, h} from "../dom.js";

const CHANNELS = {web: "Web chat", email: "Email", sms: "SMS", messenger: "Messenger", instagram: "Instagram"};
const label = (channel) => CHANNELS[channel] || channel;
const SHOWN = 40;  // the latest entries in the panel; the engine keeps and sends up to 500

export class CustomerPanel {
  constructor(app, detail) {
    this.app = app;
    this.conversationId = detail.conversation.id;
    this.contactId = detail.contact.id;
    this.chosen = "";  // "" = the engine's choice (the channel the customer last used)
    this.conversationIds = new Set([this.conversationId]);  // the customer's, once the timeline is loaded
    this.routeBox = h("div", {class: "reply-route"});  // the side column keeps it in view above its tabs
    this.body = h("div", {class: "customer-body"}, h("p", {class: "muted", text: "Loading the customer's timeline…"}));
    this.status = h("p", {class: "customer-status", role: "status"});
    this.element = h("section", {class: "panel customer", "aria-labelledby": "customer-title"},
      h("h2", {id: "customer-title", text: "One thread"}), this.status, this.body);
    this.load();
  }

  /** Whether a conversation's messages belong in this customer's timeline. */
  follows(conversationId) {
    return conversationId === this.conversationId || this.conversationIds.has(conversationId);
  }

  /** Load again shortly: a burst of messages and deliveries redraws the timeline once. */
  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), 400);
  }

  /** Whether an engine event concerns this customer (a merge into or out of them). */
  concerns(event) {
    return event.target_id === this.contactId || event.source_id === this.contactId
      || (event.conversations || []).includes(this.conversationId);
  }

  async load() {
    try {
      const [detail, route] = await Promise.all([
        this.app.api.get(`/api/operator/conversations/${this.conversationId}`),
        this.app.api.get(`/api/operator/conversations/${this.conversationId}/route`)]);
      this.contactId = detail.contact.id;  // a merge may have moved this conversation to another contact
      const timeline = await this.app.api.get(`/api/operator/contacts/${this.contactId}/timeline`);
      this.renderRoute(route);
      this.render(timeline);
    } catch (failure) {
      fill(this.body, h("p", {class: "problem", text: `The customer's timeline could not be loaded: ${failure.message}`}));
    }
  }

  renderRoute(route) {
    const options = route.options.filter((o) => o.channel !== route.default.channel || o.to !== route.default.to);
    const auto = `${label(route.default.channel)}${route.default.to ? ` to ${route.default.to}` : ""} (${route.default.reason})`;
    const select = h("select", {id: "reply-channel", autocomplete: "off", onchange: () => { this.chosen = select.value; }},
      h("option", {value: "", text: `Automatic: ${auto}`}),
      options.map((o) => h("option", {value: o.channel, text: `${label(o.channel)}${o.to ? ` to ${o.to}` : ""}`})));
    if ([...select.options].some((o) => o.value === this.chosen)) select.value = this.chosen;
    else this.chosen = "";
    fill(this.routeBox, h("label", {for: "reply-channel", text: "Replies leave on"}), select);
  }

  render(timeline) {
    this.conversationIds = new Set(timeline.conversations.map((c) => c.id));
    const entries = timeline.entries.slice(-SHOWN);
    const channels = [...new Set(timeline.entries.map((e) => e.channel))];
    fill(this.body,
      timeline.merged_into ? h("p", {class: "problem", text: `This contact was merged into contact #${timeline.merged_into}.`}) : null,
      h("p", {class: "muted", text: `Contact #${timeline.contact.id} · ${timeline.conversations.length} conversation(s) on ${channels.map(label).join(", ") || "no channel yet"}`}),
      timeline.identities.length ? h("ul", {class: "identities", "aria-label": "Identities"}, timeline.identities.map((i) => h("li", {},
        h("span", {class: "badge channel", text: label(i.channel)}), ` ${i.external_id}`,
        i.verified_at ? h("span", {class: "verified", title: `confirmed ${dateTime(i.verified_at)}`, text: " ✓ confirmed"}) : null)))
        : h("p", {class: "muted", text: "No channel identity yet: replies stay in the chat."}),
      h("h3", {text: `Timeline (${timeline.entries.length} messages)`}),
      h("ol", {class: "timeline", "aria-label": "Customer timeline"}, entries.map((e) => this.entry(e))),
      this.mergesBox(timeline.merges),
      this.suggestionsBox(timeline.suggestions),
      this.finder());
  }

  entry(e) {
    const m = e.message;
    const who = {visitor: "Customer", bot: "Bot", operator: "Agent", system: "System"}[m.role] || m.role;
    const outgoing = e.delivery_status ? ` · ${e.delivery_status}${e.to ? ` to ${e.to}` : ""}` : "";
    return h("li", {class: `entry role-${m.role}${m.visibility === "internal" ? " internal" : ""}`, dataset: {channel: e.channel, conversation: String(e.conversation_id)}},
      h("div", {class: "entry-head"}, h("span", {class: "badge channel", text: label(e.channel)}),
        h("span", {class: "muted", text: ` ${who} · ${dateTime(m.created_at)}${outgoing}`}),
        e.conversation_id !== this.conversationId ? h("button", {type: "button", class: "quiet", text: `#${e.conversation_id}`,
          "aria-label": `Open conversation ${e.conversation_id}`, onclick: () => this.app.open(e.conversation_id)}) : null),
      h("p", {class: "entry-text", dir: "auto", text: m.text}));
  }

  mergesBox(merges) {
    if (!merges.length) return null;
    return h("div", {class: "merges"}, h("h3", {text: "Merge history"}), h("ul", {}, merges.map((m) => h("li", {class: m.undone_at ? "undone" : ""},
      h("span", {text: `#${m.source_id} into #${m.target_id} · ${m.actor_id ? `operator ${m.actor_id}` : "automatic"} · ${dateTime(m.created_at)}`}),
      m.reason ? h("span", {class: "muted", text: ` · ${m.reason}`}) : null,
      m.undone_at ? h("span", {class: "muted", text: ` · undone ${dateTime(m.undone_at)}`})
        : h("button", {type: "button", class: "secondary unmerge", text: "Unmerge", onclick: () => this.unmerge(m)})))));
  }

  suggestionsBox(suggestions) {
    if (!suggestions.length) return null;
    return h("div", {class: "maybe"}, h("h3", {text: "Maybe the same person"}),
      h("p", {class: "muted", text: "They share an email or a phone nobody confirmed: merge only if you are sure."}),
      h("ul", {}, suggestions.map((c) => this.candidate(c))));
  }

  finder() {
    const input = h("input", {id: "merge-q", type: "search", maxlength: 200, autocomplete: "off", placeholder: "Name, email, phone or #id"});
    const results = h("ul", {class: "merge-results", "aria-label": "Contacts found"});
    const form = h("form", {class: "merge-find", role: "search", onsubmit: async (event) => {
      event.preventDefault();
      const q = input.value.trim().replace(/^#/, "");
      if (!q) return;
      try {
        const found = (await this.app.api.get(`/api/operator/contacts?q=${encodeURIComponent(q)}`))
          .filter((c) => c.id !== this.contactId && c.merged_into === null);
        fill(results, found.length ? found.map((c) => this.candidate(c)) : h("li", {class: "muted", text: "No other contact matches."}));
      } catch (failure) {
        fill(results, h("li", {class: "problem", text: failure.message}));
      }
    }}, h("label", {for: "merge-q", text: "Merge another contact into this customer"}),
    h("div", {class: "merge-row"}, input, h("button", {type: "submit", class: "secondary", text: "Find"})));
    return h("div", {class: "merge-box"}, form, results);
  }

  candidate(contact) {
    const names = [contact.name, contact.email, contact.phone, ...contact.identities.map((i) => `${label(i.channel)} ${i.external_id}`)]
      .filter(Boolean);
    const reason = h("input", {class: "merge-reason", maxlength: 2000, placeholder: "Why (kept in the audit)", "aria-label": `Why merge contact ${contact.id}`});
    const confirmBox = h("div", {class: "merge-confirm", hidden: true}, reason,
      h("button", {type: "button", class: "primary", text: `Merge #${contact.id} into #${this.contactId}`,
        onclick: () => this.merge(contact, reason.value)}));
    return h("li", {class: "candidate", dataset: {contact: String(contact.id)}},
      h("span", {text: `#${contact.id} ${names.join(" · ") || "anonymous"} (${contact.conversations} conversation(s))`}),
      h("button", {type: "button", class: "secondary", text: "Merge…", onclick: () => { confirmBox.hidden = false; reason.focus(); }}),
      confirmBox);
  }

  async merge(contact, reason) {
    try {
      await this.app.api.post(`/api/operator/contacts/${this.contactId}/merge`, {source_id: contact.id, reason});
      this.say(`Contact #${contact.id} merged into this customer.`);
      await this.load();
    } catch (failure) {
      this.say(`Not merged: ${failure.message}`, true);
    }
  }

  async unmerge(merge) {
    try {
      await this.app.api.post(`/api/operator/merges/${merge.id}/unmerge`, {reason: "undone in the console"});
      this.say(`Merge undone: contact #${merge.source_id} has its conversations back.`);
      await this.load();
    } catch (failure) {
      this.say(`Not undone: ${failure.message}`, true);
    }
  }

  say(text, problem = false) {
    this.status.textContent = text;
    this.status.classList.toggle("problem", problem);
    this.app.announce(text);
  }
}
