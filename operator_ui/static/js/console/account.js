// The customer's account beside the conversation: who they are in the shop's system, their orders
// (real status and dates), the actions the conversation calls for (the AI's suggestion, with its
// evidence), the form to refund, waive a fee or extend a deadline within your limit (or ask for
// approval above it), and the audit of every action in this conversation with approve, reject and
// retry. Loaded on its own, after the conversation is shown: a slow or absent shop system never holds
// the console up, and says so when it does not answer.
import {dateTime, fill, h, newId} from "../dom.js";

const STATUS_LABELS = {awaiting_approval: "Awaiting approval", running: "Sending…", completed: "Done", failed: "Failed",
  rejected: "Rejected"};

/** "£24.00" or "14 days", from an amount string and its unit (a currency code or "days"). */
export function amountText(amount, unit) {
  const value = Number(amount);
  if (unit === "days") return `${value} day${value === 1 ? "" : "s"}`;
  try {
    return new Intl.NumberFormat("en-GB", {style: "currency", currency: unit}).format(value);
  } catch {
    return `${value.toFixed(2)} ${unit}`;
  }
}

function day(iso, year = false) {
  return iso ? new Date(iso).toLocaleDateString([], {day: "numeric", month: "short", year: year ? "numeric" : undefined}) : "";
}

function detailText(failure) {
  const detail = failure.detail ?? failure.message;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return String(detail);
}

export class AccountPanel {
  /** ``onWaiting(n)``: told how many of this conversation's actions await approval, whenever it changes. */
  constructor(app, conversationId, onWaiting = () => {}) {
    this.app = app;
    this.id = conversationId;
    this.onWaiting = onWaiting;
    this.view = null;  // the engine's AccountView
    this.actions = [];
    this.specs = [];
    this.key = newId();  // the idempotency key of the form as filled now: a second click repeats it
    this.evidence = [];
    this.suggested = false;
    this.element = h("section", {class: "panel account", id: "account", "aria-labelledby": "account-title", "aria-busy": "true"},
      h("h2", {id: "account-title", class: "visually-hidden", text: "Account"}), h("p", {class: "account-status muted", role: "status", text: "Looking up the customer…"}));
    this.load();
  }

  get base() { return `/api/operator/conversations/${this.id}`; }

  async load(search = null) {
    this.search = search;
    this.element.setAttribute("aria-busy", "true");
    const query = search ? `?search=${encodeURIComponent(search)}` : "";
    const [view, listed] = await Promise.all([
      this.app.api.get(`${this.base}/account${query}`).catch((failure) => ({status: "unavailable", detail: detailText(failure)})),
      this.app.api.get(`${this.base}/actions`).catch(() => null)]);
    if (this.app.currentId !== this.id) return;
    this.view = view;
    if (listed) {
      this.actions = listed.actions;
      this.specs = listed.specs;
    }
    this.element.setAttribute("aria-busy", "false");
    this.render();
  }

  render() {
    const view = this.view;
    this.audit = h("ol", {class: "audit", "aria-label": "Actions in this conversation"});
    // what to do first (the AI's suggestion, the action form), then what it is done on: a long list
    // of orders never pushes the actions out of reach
    fill(this.element,
      h("h2", {id: "account-title", class: "visually-hidden", text: "Account"}),  // the tab shows the name
      this.statusLine(view),
      this.searchForm(),
      view.suggestions?.length ? this.suggestionList(view.suggestions) : null,
      this.specs.length ? this.actionForm() : null,
      view.account ? this.accountFacts(view.account) : null,
      h("h3", {text: "Actions and audit"}), this.audit);
    this.renderAudit();
  }

  statusLine(view) {
    const searched = Object.entries(view.searched || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    if (view.status === "found") {
      const age = view.cached_seconds != null ? ` · from the last ${Math.max(1, Math.round(view.cached_seconds))} s` : "";
      return h("p", {class: "account-status muted", role: "status", text: `Found by ${searched}${age}`});
    }
    if (view.status === "unavailable") {
      return h("div", {class: "account-status problem", role: "alert"},
        h("p", {text: `The shop system is not answering: ${view.detail}. Carry on with the conversation; actions will wait.`}),
        h("button", {type: "button", class: "secondary", text: "Try again", onclick: () => this.load()}));
    }
    return h("p", {class: "account-status muted", role: "status", text: view.detail || "No account found."});
  }

  searchForm() {
    const input = h("input", {id: "account-search", placeholder: "Email, phone or order number", autocomplete: "off",
      minlength: 3, maxlength: 320});
    return h("form", {class: "account-search", role: "search", onsubmit: (e) => {
      e.preventDefault();
      if (input.value.trim().length >= 3) this.load(input.value.trim());
    }}, h("label", {for: "account-search", class: "visually-hidden", text: "Look up a customer by email, phone or order number"}),
    input, h("button", {type: "submit", class: "secondary", text: "Look up"}));
  }

  accountFacts(account) {
    const facts = [["Customer", account.name], ["Email", account.email], ["Plan", account.plan],
      ["Customer since", account.since ? day(account.since, true) : null]].filter(([, v]) => v);
    return h("div", {class: "account-facts"}, h("h3", {text: "Customer and orders"}),
      h("dl", {class: "facts"}, facts.flatMap(([k, v]) => [h("dt", {text: k}), h("dd", {text: v})])),
      h("ol", {class: "orders", "aria-label": "Orders"}, account.orders.map((o) => this.orderItem(o))));
  }

  orderItem(order) {
    const when = [`placed ${day(order.placed_at)}`];
    if (order.delivered_at) when.push(`delivered ${day(order.delivered_at)}`);
    else if (order.dispatched_at) when.push(`dispatched ${day(order.dispatched_at)}`);
    if (!order.delivered_at && order.estimated_delivery) when.push(`due ${day(order.estimated_delivery)}`);
    if (order.return_deadline) when.push(`return by ${day(order.return_deadline)}`);
    const money = [`total ${amountText(order.total, order.currency)}`];
    if (Number(order.refunded) > 0) money.push(`refunded ${amountText(order.refunded, order.currency)}`);
    const fees = order.fees.filter((f) => !f.waived).map((f) => `${f.label} ${amountText(f.amount, order.currency)}`);
    return h("li", {class: "order", dataset: {order: order.number}},
      h("div", {class: "order-head"}, h("span", {class: "order-number", text: order.number}),
        h("span", {class: `badge order-status status-${order.status.replaceAll(" ", "-")}`, text: order.status})),
      h("p", {class: "order-items", text: order.items.map((i) => (i.quantity > 1 ? `${i.quantity} × ${i.name}` : i.name)).join(", ")}),
      h("p", {class: "muted", text: `${when.join(" · ")} · ${money.join(" · ")}`}),
      fees.length ? h("p", {class: "order-fees", text: `Fees: ${fees.join(", ")}`}) : null);
  }

  suggestionList(suggestions) {
    return h("div", {class: "suggestions"}, h("h3", {text: "Suggested by the AI"}),
      h("ul", {}, suggestions.map((s) => h("li", {class: "suggestion"},
        h("p", {}, h("strong", {text: `${s.label} ${amountText(s.amount, s.unit)}`}), ` on ${s.order_number}`),
        h("ul", {class: "evidence"}, s.evidence.map((e) => h("li", {text: e}))),
        h("button", {type: "button", class: "secondary review", text: "Review and edit",
          onclick: () => this.fillForm(s)})))));
  }

  actionForm() {
    const orders = this.view.account?.orders || [];
    this.kind = h("select", {id: "action-kind", onchange: () => this.updateHint()},
      this.specs.map((s) => h("option", {value: s.kind, text: s.label})));
    this.order = orders.length
      ? h("select", {id: "action-order"}, orders.map((o) => h("option", {value: o.number, text: `${o.number} (${o.status})`})))
      : h("input", {id: "action-order", placeholder: "Order number", maxlength: 64});
    this.amount = h("input", {id: "action-amount", type: "number", min: "0.01", step: "0.01", inputmode: "decimal",
      required: true, oninput: () => this.updateHint()});
    this.reason = h("textarea", {id: "action-reason", rows: 2, required: true, minlength: 5, maxlength: 2000,
      placeholder: "Why: it goes in the audit"});
    this.hint = h("p", {class: "limit-hint muted", id: "action-hint"});
    this.submit = h("button", {type: "submit", class: "primary", id: "action-submit", text: "Do it"});
    this.result = h("p", {class: `action-result ${this.lastResult?.kind || ""}`, role: "status", text: this.lastResult?.text || ""});
    const form = h("form", {class: "action-form", "aria-label": "Take an action", onsubmit: (e) => {
      e.preventDefault();
      this.send();
    }},
    h("label", {for: "action-kind", text: "Action"}), this.kind,
    h("label", {for: "action-order", text: "Order"}), this.order,
    h("label", {for: "action-amount", id: "action-amount-label", text: "Amount"}), this.amount,
    h("label", {for: "action-reason", text: "Reason (required)"}), this.reason,
    this.hint, this.submit);
    for (const field of [this.kind, this.order, this.amount, this.reason]) field.addEventListener("input", () => this.edited());
    // folded until wanted: the orders and the audit stay in view
    this.box = h("details", {class: "action-box", id: "action-box"}, h("summary", {text: "Take an action…"}), form);
    this.updateHint();
    return h("div", {class: "action-slot"}, this.box, this.result);
  }

  showResult(text, kind) {
    this.lastResult = {text, kind};
    this.result.textContent = text;
    this.result.className = `action-result ${kind}`;
  }

  /** The form changed after a request was answered: the next send is a new action. */
  edited() {
    if (this.answered) {
      this.key = newId();
      this.answered = false;
    }
  }

  spec() {
    return this.specs.find((s) => s.kind === this.kind.value);
  }

  updateHint() {
    const spec = this.spec();
    if (!spec) return;
    document.getElementById("action-amount-label")?.replaceChildren(spec.unit === "days" ? "Days" : `Amount (${spec.unit})`);
    this.amount.step = spec.unit === "days" ? "1" : "0.01";
    const over = Number(this.amount.value) > Number(spec.limit);
    const limit = amountText(spec.limit, spec.unit);
    this.hint.textContent = over
      ? `Over your limit of ${limit}: this asks a supervisor or an admin to approve it. Nothing is done until they do.`
      : `Your limit without approval: ${limit}.`;
    this.hint.classList.toggle("over", over);
    this.submit.textContent = over ? "Ask for approval" : "Do it";
  }

  fillForm(suggestion) {
    if (!this.kind) return;
    this.kind.value = suggestion.kind;
    this.order.value = suggestion.order_number;
    this.amount.value = Number(suggestion.amount);
    this.reason.value = suggestion.reason;
    this.evidence = suggestion.evidence;
    this.suggested = true;
    this.key = newId();
    this.answered = false;
    this.box.open = true;
    this.updateHint();
    this.reason.focus();
  }

  async send() {
    if (this.sending) return;  // a second click while the first is on its way repeats nothing
    this.sending = true;
    this.submit.disabled = true;
    this.showResult("Sending…", "");
    const body = {kind: this.kind.value, order_number: this.order.value.trim(), amount: this.amount.value,
      reason: this.reason.value, idempotency_key: this.key, suggested: this.suggested, evidence: this.evidence};
    try {
      const action = await this.app.api.post(`${this.base}/actions`, body);
      this.answered = true;
      this.showResult(this.outcomeText(action), action.status === "failed" ? "problem" : "ok");
      if (action.status !== "failed") this.box.open = false;
      this.onAction(action);
    } catch (failure) {
      this.answered = failure.status !== undefined;  // a network failure keeps the key: sending again is safe
      this.showResult(`Not done: ${detailText(failure)}`, "problem");
    } finally {
      this.sending = false;
      this.submit.disabled = false;
    }
  }

  outcomeText(action) {
    const what = `${action.label} ${amountText(action.amount, action.unit)} on ${action.order_number}`;
    if (action.status === "completed") return `Done: ${what} (${action.result.reference}).`;
    if (action.status === "awaiting_approval") {
      const who = action.approvers.length ? action.approvers.join(", ") : "nobody: it is over every role's limit";
      return `Over your limit, so not done: ${what} waits for approval. Ask ${who}.`;
    }
    if (action.status === "failed") return `Failed: ${action.error}`;
    return `${what}: ${STATUS_LABELS[action.status] || action.status}`;
  }

  /** After an action changed an order: show the order as the shop has it now. */
  async reload() {
    const query = this.search ? `?search=${encodeURIComponent(this.search)}` : "";
    const view = await this.app.api.get(`${this.base}/account${query}`).catch(() => null);
    if (!view || this.app.currentId !== this.id) return;
    this.view = view;
    const open = this.box?.open;
    this.render();  // the orders and what they still call for, as the shop has them now
    if (this.box) this.box.open = Boolean(open);
  }

  /** An action of this conversation was asked for or changed (the engine's action.updated event). */
  onAction(action) {
    const at = this.actions.findIndex((a) => a.id === action.id);
    const before = at === -1 ? null : this.actions[at].status;
    if (at === -1) this.actions.push(action);
    else this.actions[at] = action;
    this.renderAudit();
    if (action.status === "completed" && before !== "completed") this.reload();  // the order changed
  }

  canApprove(action) {
    const spec = this.specs.find((s) => s.kind === action.kind);
    return spec && Number(action.amount) <= Number(spec.limit) && action.requested_by !== this.app.me.id;
  }

  renderAudit() {
    this.onWaiting(this.actions.filter((a) => a.status === "awaiting_approval").length);
    if (!this.audit) return;
    if (!this.actions.length) {
      fill(this.audit, h("li", {class: "muted", text: "No actions yet."}));
      return;
    }
    fill(this.audit, [...this.actions].reverse().map((a) => h("li", {class: `audit-item status-${a.status}`, dataset: {action: a.id}},
      h("div", {class: "audit-head"}, h("strong", {text: `${a.label} ${amountText(a.amount, a.unit)}`}),
        h("span", {text: ` on ${a.order_number}`}),
        h("span", {class: `badge action-status ${a.status}`, text: STATUS_LABELS[a.status] || a.status})),
      h("p", {class: "muted", text: [`asked by ${a.requested_by_name} ${dateTime(a.created_at)}`,
        a.approved_by_name ? `${a.status === "rejected" ? "rejected" : "approved"} by ${a.approved_by_name}` : null,
        a.suggested ? "suggested by the AI" : null].filter(Boolean).join(" · ")}),
      h("p", {class: "audit-reason", text: `Reason: ${a.reason}`}),
      a.result?.reference ? h("p", {class: "audit-result", text: `${a.result.message} · ref ${a.result.reference}`}) : null,
      a.error ? h("p", {class: "audit-result problem", text: a.error}) : null,
      a.decision_note ? h("p", {class: "muted", text: `Note: ${a.decision_note}`}) : null,
      a.status === "awaiting_approval"
        ? h("p", {class: "muted", text: `Approvers: ${a.approvers.join(", ") || "nobody (over every role's limit)"}`}) : null,
      this.buttons(a))));
  }

  buttons(action) {
    const row = [];
    if (action.status === "awaiting_approval" && this.canApprove(action)) {
      row.push(h("button", {type: "button", class: "primary approve", text: "Approve", onclick: () => this.decide(action, "approve")}),
        h("button", {type: "button", class: "danger reject", text: "Reject", onclick: () => this.decide(action, "reject")}));
    }
    if (action.status === "failed") {
      row.push(h("button", {type: "button", class: "secondary retry", text: "Try again", onclick: () => this.decide(action, "retry")}));
    }
    if (action.status === "completed" && action.visitor_text && this.app.view.composer) {
      row.push(h("button", {type: "button", class: "secondary tell", text: "Tell the visitor…",
        title: "Puts a sentence in the reply box: edit it, send it, or not", onclick: () =>
          this.app.view.composer.insertDraft({id: null, text: action.visitor_text, kind: null})}));
    }
    return row.length ? h("div", {class: "audit-buttons"}, row) : null;
  }

  async decide(action, how) {
    let body;
    if (how === "reject") {
      const note = prompt("Why is it rejected? The asker reads this.");
      if (!note) return;
      body = {note};
    } else if (how === "approve") {
      body = {note: ""};
    }
    try {
      const done = await this.app.api.post(`/api/actions/${action.id}/${how}`, body);
      this.onAction(done);
      this.app.announce(this.outcomeText(done));
    } catch (failure) {
      this.app.announce(`${how} failed: ${detailText(failure)}`);
    }
  }
}
