"""report.html: the page a support lead reads after ``baton eval handoff``. One self-contained file:
figures are inline SVG drawn by matplotlib (Agg backend), tables are plain HTML."""

from __future__ import annotations

import copy
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from eval.metrics import SIGNAL_REASONS, outcomes, summary  # noqa: E402
from eval.replay import Replay, Result  # noqa: E402

CURVE_POINTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
WORST = 15
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;
text-align:right}th{background:#f3f3f3}td.text{text-align:left;max-width:520px}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.figs>div{flex:1 1 320px}h2{margin-top:2rem}
.note{color:#666;font-size:.9rem}"""


def write_report(path: Path, results: list[Result], result: dict, replay: Replay) -> None:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Handoff evaluation</title>"
        f"<style>{STYLE}</style></head><body><h1>Handoff evaluation</h1>",
        f"<p class='note'>data: {_e(result.get('data', ''))}; "
        f"knowledge base: {_e(result.get('kb') or 'none')}"
        f"; {result['n']} conversations; {result.get('seconds', 0)} s</p>",
        "<h2>Headline</h2>",
        _headline_table({"all": result, **result["by_label_strength"]}),
        "<p class='note'>Gold labels are a person's judgement; soft labels map a neighbouring label "
        "(a complaint, an offensive wording, a low satisfaction rating) onto a handoff.</p>",
        "<div class='figs'>",
        f"<div>{_confusion_svg(result['confusion'])}</div>",
        f"<div>{_recall_svg(result['per_reason'])}</div></div>",
        "<h2>Recall per reason (95% Wilson interval)</h2>",
        _reason_table(result["per_reason"]),
        "<h2>Timing of correct escalations</h2>",
        _dict_table(result["timing"]),
        "<h2>By source</h2>",
        _headline_table(result["by_source"]),
        "<h2>Threshold curves</h2><p class='note'>Each signal's escalation threshold moved alone, the "
        "others at their configured values (dashed line: configured).</p>",
        "<div class='figs'>",
        *(f"<div>{svg}</div>" for svg in _curves(replay)),
        "</div>",
        "<h2>Worst misses</h2><p class='note'>Handoffs the detector missed, lowest scores first.</p>",
        _examples(_worst(results, missed=True)),
        "<h2>Worst false escalations</h2><p class='note'>Unneeded handoffs, highest scores first.</p>",
        _examples(_worst(results, missed=False)),
        "</body></html>",
    ]
    path.write_text("\n".join(parts))


def _e(text: object) -> str:
    return html.escape(str(text))


def _f(value: float) -> str:
    return f"{value:.3f}"


def _headline_table(groups: dict[str, dict]) -> str:
    rows = [
        "<table><tr><th>group</th><th>n</th><th>precision</th><th>recall</th><th>F1</th>"
        "<th>false escalation rate</th><th>accuracy</th><th>reason accuracy</th></tr>"
    ]
    for name, m in groups.items():
        rows.append(
            f"<tr><td class='text'>{_e(name)}</td><td>{m['n']}</td><td>{_f(m['precision'])}</td>"
            f"<td>{_f(m['recall'])}</td><td>{_f(m['f1'])}</td><td>{_f(m['false_escalation_rate'])}</td>"
            f"<td>{_f(m['accuracy'])}</td><td>{_f(m['reason_accuracy'])}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _reason_table(per_reason: dict) -> str:
    rows = ["<table><tr><th>reason</th><th>n</th><th>recall</th><th>95% interval</th></tr>"]
    for name, m in per_reason.items():
        rows.append(
            f"<tr><td class='text'>{name}</td><td>{m['n']}</td><td>{_f(m['recall'])}</td>"
            f"<td>{_f(m['recall_low'])} – {_f(m['recall_high'])}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _dict_table(values: dict) -> str:
    head = "".join(f"<th>{_e(key)}</th>" for key in values)
    cells = "".join(f"<td>{value}</td>" for value in values.values())
    return f"<table><tr>{head}</tr><tr>{cells}</tr></table>"


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _confusion_svg(confusion: dict) -> str:
    figure, axes = plt.subplots(figsize=(3.6, 3.2))
    cells = [[confusion["tn"], confusion["fp"]], [confusion["fn"], confusion["tp"]]]
    axes.imshow(cells, cmap="Blues")
    for row in range(2):
        for column in range(2):
            axes.text(column, row, str(cells[row][column]), ha="center", va="center", fontsize=12)
    axes.set_xticks([0, 1], ["continue", "escalate"])
    axes.set_yticks([0, 1], ["no handoff", "handoff"])
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title("Confusion matrix")
    return _svg(figure)


def _recall_svg(per_reason: dict) -> str:
    figure, axes = plt.subplots(figsize=(4.2, 3.2))
    names = [name for name in per_reason if per_reason[name]["n"]]
    recalls = [per_reason[name]["recall"] for name in names]
    low = [recall - per_reason[name]["recall_low"] for name, recall in zip(names, recalls, strict=True)]
    high = [per_reason[name]["recall_high"] - recall for name, recall in zip(names, recalls, strict=True)]
    axes.bar(range(len(names)), recalls, yerr=[low, high], capsize=4, color="#4c78a8")
    axes.set_xticks(range(len(names)), [name.replace("_", "\n") for name in names])
    axes.set_ylim(0, 1.05)
    axes.set_title("Recall per reason (95% Wilson)")
    return _svg(figure)


def _curves(replay: Replay) -> list[str]:
    """One figure per signal: precision, recall, F1 and false escalation rate against its threshold."""
    base = replay.detector.config
    figures = []
    for name in SIGNAL_REASONS:
        series: dict[str, list[float]] = {
            "precision": [],
            "recall": [],
            "f1": [],
            "false_escalation_rate": [],
        }
        for value in CURVE_POINTS:
            config = copy.deepcopy(base)
            section = getattr(config, name)
            section.escalate_at = value
            section.offer_at = min(section.offer_at, value)
            m = summary(outcomes(replay.run(config)))
            for key, values in series.items():
                values.append(m[key])
        figure, axes = plt.subplots(figsize=(4.2, 3.2))
        for key, values in series.items():
            axes.plot(CURVE_POINTS, values, marker=".", label=key.replace("_", " "))
        axes.axvline(getattr(base, name).escalate_at, color="#888", linestyle="--")
        axes.set_xlabel(f"{name} escalate_at")
        axes.set_ylim(0, 1.02)
        axes.legend(fontsize=7)
        axes.set_title(name.replace("_", " "))
        figures.append(_svg(figure))
    return figures


def _worst(results: list[Result], missed: bool) -> list[Result]:
    def top(result: Result) -> float:
        peaks = result.peak_scores()
        return max(peaks.values(), default=0.0)

    if missed:
        chosen = [r for r in results if r.conversation.escalate and not r.predicted]
        return sorted(chosen, key=top)[:WORST]
    chosen = [r for r in results if not r.conversation.escalate and r.predicted]
    return sorted(chosen, key=top, reverse=True)[:WORST]


def _examples(results: list[Result]) -> str:
    if not results:
        return "<p>None.</p>"
    rows = [
        "<table><tr><th>id</th><th>gold</th><th>user turns</th><th>peak scores</th><th>decision</th></tr>"
    ]
    for result in results:
        conversation = result.conversation
        users = [turn.text for turn in conversation.turns if turn.role == "user"][:4]
        scores = ", ".join(f"{k} {v:.2f}" for k, v in result.peak_scores().items() if v > 0)
        last = result.escalated or (result.decisions[-1] if result.decisions else None)
        rows.append(
            f"<tr><td class='text'>{_e(conversation.id)}</td><td class='text'>{_e(conversation.reason)}</td>"
            f"<td class='text'>{'<br>'.join(_e(u[:200]) for u in users)}</td>"
            f"<td class='text'>{_e(scores)}</td><td "
            f"class='text'>{_e(last.explanation if last else '')}</td></tr>"
        )
    return "".join(rows) + "</table>"


def write_cross_report(path: Path, result: dict) -> None:
    """report.html of ``baton eval cross``: the table of every bot, Baton beside the baseline, the
    mean and the worst bot, and F1 per bot as a picture; each bot's own report is linked."""
    columns = ("precision", "recall", "f1", "false_escalation_rate")
    head = "".join(f"<th>Baton {c.replace('_', ' ')}</th>" for c in columns) + "".join(
        f"<th>baseline {c.replace('_', ' ')}</th>" for c in columns
    )
    rows = [f"<table><tr><th>bot</th><th>n</th>{head}<th>ΔF1</th></tr>"]

    def cells(figures: dict) -> str:
        return "".join(f"<td>{_f(figures[c])}</td>" for c in columns)

    for bot in result["bots"]:
        name = _e(bot["bot"])
        delta = bot["baton"]["f1"] - bot["baseline"]["f1"]
        rows.append(
            f"<tr><td class='text'><a href='{name}/report.html'>{name}</a></td><td>{bot['baton']['n']}</td>"
            f"{cells(bot['baton'])}{cells(bot['baseline'])}<td>{delta:+.3f}</td></tr>"
        )
    mean = result["mean"]
    rows.append(
        f"<tr><th>mean</th><td></td>{cells(mean['baton'])}{cells(mean['baseline'])}"
        f"<td>{mean['baton']['f1'] - mean['baseline']['f1']:+.3f}</td></tr></table>"
    )
    worst = result["worst"]
    baseline = result["baseline"]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Cross-domain evaluation</title>"
        f"<style>{STYLE}</style></head><body><h1>Cross-domain evaluation</h1>",
        f"<p class='note'>data: {_e(result['data'])}; {len(result['bots'])} bots; {result['seconds']} s. "
        f"Baseline: closest knowledge-base vector below cosine {baseline['similarity_below']}, or a message "
        f"naming a person.</p>",
        "<h2>Every bot</h2>",
        "".join(rows),
        f"<p>Worst bot: Baton {_e(worst['baton']['bot'])} (F1 {_f(worst['baton']['f1'])}); baseline "
        f"{_e(worst['baseline']['bot'])} (F1 {_f(worst['baseline']['f1'])}). Baton ahead on "
        f"{result['ahead']} of {len(result['bots'])} bots.</p>",
        f"<div class='figs'><div>{_cross_svg(result['bots'])}</div></div>",
        "<h2>Recall per reason (Baton / baseline)</h2>",
        _cross_reason_table(result["bots"]),
        _cross_hindsight(result["bots"]),
        "</body></html>",
    ]
    path.write_text("\n".join(parts))


def _cross_svg(bots: list[dict]) -> str:
    figure, axes = plt.subplots(figsize=(max(4.5, 0.8 * len(bots)), 3.4))
    positions = range(len(bots))
    axes.bar([p - 0.2 for p in positions], [b["baton"]["f1"] for b in bots], width=0.4, label="Baton")
    axes.bar([p + 0.2 for p in positions], [b["baseline"]["f1"] for b in bots], width=0.4, label="baseline",
             color="#bbb")
    labels = [b["bot"].replace("clinc_", "").replace("_", "\n") for b in bots]
    axes.set_xticks(list(positions), labels, fontsize=7)
    axes.set_ylim(0, 1.02)
    axes.set_ylabel("F1")
    axes.legend(fontsize=7)
    axes.set_title("F1 per bot")
    return _svg(figure)


def _cross_hindsight(bots: list[dict]) -> str:
    """The hindsight diagnostic (eval/cross.py ``hindsight``), headed as what it is: fitted on each bot."""
    having = [bot for bot in bots if "hindsight" in bot]
    if not having:
        return ""
    rows = ["<h2>In hindsight (fitted on each bot's own labels: a diagnostic, not a figure)</h2>",
            "<p class='note'>The low-confidence threshold with the best F1 within the false-escalation cap, "
            "chosen on the bot itself. Where it misses a target too, no threshold reaches it.</p>",
            "<table><tr><th>bot</th><th>shipped F1</th><th>escalate_at in hindsight</th><th>F1</th>"
            "<th>false escalation rate</th></tr>"]
    for bot in having:
        best = bot["hindsight"]
        cells = ("<td colspan='3'>none within the cap</td>" if best is None else
                 f"<td>{best['escalate_at']:.2f}</td><td>{_f(best['f1'])}</td>"
                 f"<td>{_f(best['false_escalation_rate'])}</td>")
        name, shipped = _e(bot["bot"]), _f(bot["baton"]["f1"])
        rows.append(f"<tr><td class='text'>{name}</td><td>{shipped}</td>{cells}</tr>")
    return "".join(rows) + "</table>"


def _cross_reason_table(bots: list[dict]) -> str:
    rows = ["<table><tr><th>bot</th>" + "".join(f"<th>{r}</th>" for r in SIGNAL_REASONS) + "</tr>"]
    for bot in bots:
        cells = []
        for reason in SIGNAL_REASONS:
            ours, theirs = bot["baton"]["per_reason"][reason], bot["baseline"]["per_reason"][reason]
            text = f"{_f(ours['recall'])} / {_f(theirs['recall'])} (n={ours['n']})" if ours["n"] else ""
            cells.append(f"<td>{text}</td>")
        rows.append(f"<tr><td class='text'>{_e(bot['bot'])}</td>{''.join(cells)}</tr>")
    return "".join(rows) + "</table>"
