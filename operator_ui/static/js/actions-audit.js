// The supervisor's audit of account actions: every refund, fee waiver and deadline extension asked
// for in any conversation, newest first, with who asked, who approved, the amount and the result.
import {amountText} from "./console/account.js";
import {dateTime, fill, h} from "./dom.js";

const STATUS = {awaiting_approval: "Awaiting approval", running: "Sending", completed: "Done", failed: "Failed",
  rejected: "Rejected"};

/** The "Account actions" tile of the day's figures (``metrics.actions`` of /api/metrics). */
export function actionsKpi(stats) {
  const amounts = Object.entries(stats.completed_amounts || {}).map(([unit, amount]) => amountText(amount, unit));
  const detail = [amounts.length ? `${amounts.join(" + ")} done` : "none done yet",
    stats.needed_approval ? `${stats.needed_approval} needed approval` : null].filter(Boolean).join(" · ");
  return {label: "Account actions", value: String(stats.asked), detail};
}

export async function renderActionAudit(api, element) {
  let rows;
  try {
    rows = await api.get("/api/actions?limit=20");
  } catch (failure) {
    fill(element, h("p", {class: "muted", text: `The audit could not be loaded: ${failure.message}`}));
    return;
  }
  if (!rows.length) {
    fill(element, h("p", {class: "muted", text: "No account actions yet."}));
    return;
  }
  fill(element, h("table", {class: "table audit-table"},
    h("caption", {class: "visually-hidden", text: "Account actions, newest first"}),
    h("thead", {}, h("tr", {}, ["When", "Conversation", "Action", "Amount", "Asked by", "Approved by", "Result"].map(
      (t) => h("th", {scope: "col", text: t})))),
    h("tbody", {}, rows.map((a) => h("tr", {dataset: {action: a.id}},
      h("td", {text: dateTime(a.created_at)}),
      h("td", {}, h("a", {href: `/operator#/conversation/${a.conversation_id}`, text: `#${a.conversation_id}`})),
      h("td", {text: `${a.label} on ${a.order_number}`}),
      h("td", {text: amountText(a.amount, a.unit)}),
      h("td", {text: a.requested_by_name}),
      h("td", {text: a.approved_by_name || "–"}),
      h("td", {text: `${STATUS[a.status] || a.status}${a.result?.reference ? ` · ${a.result.reference}` : ""}${a.error ? ` · ${a.error}` : ""}`}))))));
}
