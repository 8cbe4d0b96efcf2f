// The handoff packet, pinned above the transcript: why the bot handed over (reasons with their
// evidence), a summary, what the bot tried, the sentiment trend and what the visitor already gave.
// The packet comes from the handoff package as a dict; unknown fields are shown as plain text.
// Each reason's number is shown with what it measures ("answer confidence" or "strength"), so a weak
// answer never reads "score 0.96" beside its confidence 0.04; "what the bot tried" lists only answers
// the visitor saw.
import {sparkline} from "../charts.js";
import {h, reasonLabel} from "../dom.js";

const KNOWN = new Set(["summary", "reasons", "signals", "evidence", "tried", "bot_tried", "attempts", "sentiment",
  "sentiment_trend", "entities", "explanation", "scores", "action", "articles", "problem", "asked_for_person",
  "user_turns", "topics"]);

export function renderPacket(packet) {
  const body = h("div", {class: "packet-body"});
  const details = h("details", {class: "packet", open: true},
    h("summary", {}, h("span", {class: "packet-title", text: "Handoff packet"}),
      h("span", {class: "reasons"}, reasonsOf(packet).map((r) => h("span", {class: "badge reason", text: reasonLabel(r.name)})))),
    body);
  if (packet.summary) body.append(section("What the visitor needs", h("p", {text: String(packet.summary)})));
  const reasons = reasonsOf(packet);
  if (reasons.length) {
    body.append(section("Why a person", h("ul", {class: "evidence"}, reasons.map((r) => h("li", {},
      h("strong", {text: r.label || reasonLabel(r.name)}),
      r.value !== undefined && r.value !== null ? h("span", {class: "muted", text: ` · ${r.measure} ${Number(r.value).toFixed(2)}`}) : null,
      r.evidence.length ? h("ul", {}, r.evidence.map((e) => h("li", {text: String(e)}))) : null)))));
  }
  const tried = packet.bot_tried || packet.attempts || [];
  if (tried.length) body.append(section("What the bot told the visitor", h("ol", {class: "tried"}, tried.map(triedItem))));
  const trend = packet.sentiment_trend || packet.sentiment;
  const values = Array.isArray(trend) ? trend.map((v) => (typeof v === "object" ? v?.score : v)) : [];
  if (values.length) {
    body.append(section("Sentiment trend", h("div", {class: "trend"},
      sparkline(values, {label: "Visitor sentiment by turn, oldest first", min: -1, max: 1}),
      h("span", {class: "muted", text: describeTrend(values)}))));
  }
  const entities = packet.entities && typeof packet.entities === "object" ? Object.entries(packet.entities) : [];
  const given = entities.filter(([, v]) => (Array.isArray(v) ? v.length : v));
  if (given.length) {
    body.append(section("Already given", h("dl", {class: "entities"}, given.flatMap(([k, v]) => [
      h("dt", {text: k.replaceAll("_", " ")}), h("dd", {text: Array.isArray(v) ? v.join(", ") : String(v)})]))));
  }
  for (const [key, value] of Object.entries(packet)) {
    if (KNOWN.has(key) || value === null || value === "" || (Array.isArray(value) && !value.length)) continue;
    body.append(section(key.replaceAll("_", " "), h("p", {text: typeof value === "string" ? value : JSON.stringify(value)})));
  }
  if (packet.explanation && packet.explanation !== packet.summary) body.append(h("p", {class: "muted", text: packet.explanation}));
  return details;
}

/** Reasons as [{name, score, evidence}] whether the packet lists names, objects or signals. */
function reasonsOf(packet) {
  const signals = Array.isArray(packet.signals) ? packet.signals : [];
  const byName = new Map(signals.map((sig) => [sig.name, sig]));
  return (packet.reasons || []).map((reason) => {
    if (typeof reason === "object" && reason) {
      const name = reason.name || reason.reason || "reason";
      const value = reason.value ?? reason.score;
      return {name, label: reason.label, measure: reason.measure || "strength", value, evidence: asList(reason.evidence)};
    }
    const signal = byName.get(reason) || {};
    const evidence = packet.evidence && !Array.isArray(packet.evidence) ? packet.evidence[reason] : signal.evidence;
    return {name: reason, measure: "strength", value: signal.score ?? packet.scores?.[reason], evidence: asList(evidence)};
  });
}

function asList(value) {
  if (!value) return [];
  return Array.isArray(value) ? value : [value];
}

function triedItem(item) {
  if (typeof item !== "object" || !item) return h("li", {text: String(item)});
  const question = item.question || item.user || item.asked;
  const answer = item.answer || item.bot || item.text;
  const titles = (item.articles || item.titles || item.sources || []).map((t) => (typeof t === "object" ? t.title : t));
  const confidence = item.confidence;
  return h("li", {},
    question ? h("span", {class: "q", text: `“${question}” `}) : null,
    confidence !== undefined && confidence !== null
      ? h("span", {class: `conf-badge ${confidence < 0.5 ? "low" : ""}`, text: `confidence ${Number(confidence).toFixed(2)}`}) : null,
    answer ? h("span", {class: "a", text: ` ${answer}${answer.length >= 240 ? "…" : ""}`}) : null,
    titles.length ? h("span", {class: "muted", text: ` · from: ${titles.slice(0, 2).join(", ")}`}) : null);
}

function describeTrend(values) {
  const first = values[0];
  const last = values[values.length - 1];
  const mood = last < -0.3 ? "negative" : last > 0.3 ? "positive" : "neutral";
  const way = last < first - 0.2 ? "getting worse" : last > first + 0.2 ? "improving" : "steady";
  return `now ${mood}, ${way}`;
}

function section(title, content) {
  return h("section", {}, h("h3", {text: title}), content);
}
