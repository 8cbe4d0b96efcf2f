"""Many knowledge bases at once (EVAL_FORMAT.md, ``baton eval cross DIR --out OUT``).

Each bot of a folder (``NAME_kb.jsonl`` with ``NAME_handoff.jsonl``, optionally
``NAME_retrieval.jsonl``) is replayed through the project's detector with its own knowledge base,
and beside it through the one-line baseline a support lead would otherwise write: escalate when the
closest knowledge-base phrasing is less similar than ``BASELINE_SIMILARITY``, or when the message
names a person (``BASELINE_REQUEST``), on the message as typed (the typo correction is Baton's).
Both are computed in the same run on the same index, so the table says how much the detector adds
on a knowledge base it was never tuned on.

Beside the figures, a diagnostic that is never a figure: the low-confidence threshold that would
have done best on each bot *in hindsight*, chosen on that bot's own labels (``hindsight``). Where
even that threshold misses a target, the answer confidence does not rank the bot's questions well
enough and no threshold will; where it meets it, the shipped threshold is what stands in the way.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from eval.metrics import SIGNAL_REASONS, Outcome, outcomes, summary
from eval.replay import Replay
from eval.sweep import set_value
from knowledge import InputError

BASELINE_SIMILARITY = 0.54
BASELINE_REQUEST = re.compile(r"\b(?:human|person|agent|representative|operator)s?\b", re.IGNORECASE)
HEADLINE = ("n", "precision", "recall", "f1", "false_escalation_rate")
KB_SUFFIX, HANDOFF_SUFFIX, RETRIEVAL_SUFFIX = "_kb.jsonl", "_handoff.jsonl", "_retrieval.jsonl"
# The hindsight diagnostic: low_confidence.escalate_at on this grid, the best F1 whose false
# escalations stay within the cap (the CLINC target, 6%, by default).
HINDSIGHT_GRID = tuple(round(0.5 + 0.02 * step, 2) for step in range(24))  # 0.50 .. 0.96
HINDSIGHT_MAX_FER = 0.06


@dataclass(frozen=True)
class Bot:
    name: str
    kb: Path
    handoff: Path
    retrieval: Path | None


def discover(directory: str | Path) -> list[Bot]:
    """The bots of ``directory`` in name order; a knowledge base without its handoff set (or the
    reverse) is an input error, not a bot silently left out."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError("not a folder of bots (NAME_kb.jsonl with NAME_handoff.jsonl)", path=str(folder))
    kbs = {path.name[: -len(KB_SUFFIX)]: path for path in folder.glob(f"*{KB_SUFFIX}")}
    handoffs = {path.name[: -len(HANDOFF_SUFFIX)]: path for path in folder.glob(f"*{HANDOFF_SUFFIX}")}
    for name in sorted(set(kbs) ^ set(handoffs)):
        have, missing = (kbs[name], HANDOFF_SUFFIX) if name in kbs else (handoffs[name], KB_SUFFIX)
        raise InputError(f"no {name}{missing} beside it", path=str(have))
    if not kbs:
        raise InputError("no bots: expected NAME_kb.jsonl with NAME_handoff.jsonl", path=str(folder))
    bots = []
    for name in sorted(kbs):
        retrieval = folder / f"{name}{RETRIEVAL_SUFFIX}"
        bots.append(Bot(name, kbs[name], handoffs[name], retrieval if retrieval.exists() else None))
    return bots


def baseline_request(text: str) -> bool:
    return bool(BASELINE_REQUEST.search(text))


def typed_similarity(replay: Replay, index_dir: Path, embedder) -> dict[str, float]:
    """The baseline's reading of every user message of ``replay``: the cosine of the closest
    knowledge-base vector to the message as typed (normalised as retrieval does, but without the
    typo correction of ``knowledge.spelling``: the baseline is the line a support lead would write,
    not Baton's retrieval). One batch; most vectors are in the embedder's cache already."""
    from knowledge import KnowledgeIndex
    from knowledge.text import normalize

    vectors = KnowledgeIndex.open(index_dir).vectors
    every = (text for i in range(len(replay.conversations)) for text in replay.user_texts(i))
    texts = list(dict.fromkeys(every))
    if not texts or not len(vectors):
        return dict.fromkeys(texts, 0.0)
    queries = embedder.encode([normalize(text) or text for text in texts])
    return dict(zip(texts, (queries @ vectors.T).max(axis=1).astype(float).tolist(), strict=True))


def baseline_outcomes(replay: Replay, similarities: dict[str, float] | None = None) -> list[Outcome]:
    """The baseline's decision on every conversation of a replay that has a knowledge base: the
    first user turn that names a person (explicit request) or whose closest knowledge-base vector
    has a cosine below ``BASELINE_SIMILARITY`` (low confidence) escalates. ``similarities``: that
    cosine per message (``typed_similarity``); by default, the one the replay's answer reports."""
    out = []
    for index, conversation in enumerate(replay.conversations):
        turn, reason = None, None
        for k, text in enumerate(replay.user_texts(index)):
            answer = replay.answer(text)
            if similarities is not None:
                similarity = similarities[text]
            else:
                similarity = answer.meta["similarity"] if answer is not None else 1.0
            if baseline_request(text):
                turn, reason = k, "explicit_request"
            elif similarity < BASELINE_SIMILARITY:
                turn, reason = k, "low_confidence"
            if turn is not None:
                break
        out.append(
            Outcome(
                conversation.escalate,
                turn is not None,
                conversation.reason,
                reason,
                conversation.escalate_turn,
                turn,
                conversation.label_strength,
                conversation.source,
            )
        )
    return out


def hindsight(replay: Replay, max_fer: float = HINDSIGHT_MAX_FER, grid=HINDSIGHT_GRID) -> dict | None:
    """The ``low_confidence.escalate_at`` of ``grid`` with the best F1 on this replay's own labels
    among those whose false-escalation rate is at most ``max_fer`` (the lowest such value on a tie),
    with its figures; None when no value keeps false escalations within the cap.

    Fitted on the set it is computed on: it says whether a bot is held back by the threshold or by
    the ranking of its answer confidence, and must never be reported as the detector's figure.
    Only thresholds change, so the replay's signals are reused (no embedding, no retrieval).
    """
    config = replay.detector.config
    best: dict | None = None
    for value in grid:
        candidate = set_value(config, "low_confidence", "escalate_at", value)
        if candidate is None:  # below the offer threshold
            continue
        figures = summary(outcomes(replay.run(candidate)))
        if figures["false_escalation_rate"] > max_fer + 1e-12:
            continue
        if best is None or figures["f1"] > best["f1"] + 1e-12:
            best = {"escalate_at": value, **{key: figures[key] for key in HEADLINE}}
    if best is not None:
        best["max_fer"] = max_fer
        best["shipped_escalate_at"] = config.low_confidence.escalate_at
    return best


def row(figures: dict) -> dict:
    """The cross table's figures of one system on one bot."""
    out = {key: figures[key] for key in HEADLINE}
    out["per_reason"] = {
        reason: {"n": value["n"], "recall": value["recall"]}
        for reason, value in figures["per_reason"].items()
    }
    return out


def aggregate(bots: list[dict]) -> dict:
    """The mean over bots (each bot counts once, whatever its size) and the worst bot by F1, for
    Baton and the baseline alike."""
    result: dict = {"mean": {}, "worst": {}}
    for system in ("baton", "baseline"):
        mean = {key: sum(bot[system][key] for bot in bots) / len(bots) for key in HEADLINE if key != "n"}
        mean["per_reason"] = {}
        for reason in SIGNAL_REASONS:
            having = [
                bot[system]["per_reason"][reason]["recall"]
                for bot in bots
                if bot[system]["per_reason"][reason]["n"]
            ]
            if having:
                mean["per_reason"][reason] = {"bots": len(having), "recall": sum(having) / len(having)}
        result["mean"][system] = mean
        worst = min(bots, key=lambda bot: bot[system]["f1"])
        result["worst"][system] = {"bot": worst["bot"], **{k: worst[system][k] for k in HEADLINE}}
    result["ahead"] = sum(bot["baton"]["f1"] > bot["baseline"]["f1"] for bot in bots)
    return result


def run_cross(
    directory: str | Path,
    out: str | Path,
    config: str | None = None,
    model: str | None = None,
    backend: str = "auto",
    hindsight_fer: float = HINDSIGHT_MAX_FER,
    typos: float = 0.0,
) -> dict:
    """Evaluate every bot of ``directory``; write ``out``/cross.json, cross.md, report.html and
    ``out``/NAME/ (metrics.json, predictions.jsonl, report.html, baseline.json, retrieval/).
    ``hindsight_fer``: the false-escalation cap of the hindsight diagnostic; ``typos``: the share of
    words of every user message given a typo (``eval.typos``), for both Baton and the baseline."""
    from eval.build import build_replay
    from eval.cached_embedder import CachedEmbedder
    from eval.evaluation import evaluate
    from eval.report import write_cross_report
    from knowledge import Embedder

    started = time.perf_counter()
    bots = discover(directory)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inner = Embedder(model, backend=backend)
    table = []
    for bot in tqdm(bots, desc="bots", unit="bot"):
        bot_started = time.perf_counter()
        bot_out = out / bot.name
        bot_out.mkdir(parents=True, exist_ok=True)
        # A fresh cache per bot: one bot's vectors never leak into another's batches.
        embedder = CachedEmbedder(inner)
        replay = build_replay(
            str(bot.handoff), str(bot.kb), bot_out, config, embedder=embedder, progress=False, typos=typos
        )
        baton = evaluate(replay, bot_out, bot_started, data=str(bot.handoff), kb=str(bot.kb))
        baseline = summary(baseline_outcomes(replay, typed_similarity(replay, bot_out / "index", embedder)))
        (bot_out / "baseline.json").write_text(json.dumps(baseline, indent=2) + "\n")
        entry = {
            "bot": bot.name,
            "baton": row(baton),
            "baseline": row(baseline),
            "hindsight": hindsight(replay, hindsight_fer),
        }
        if bot.retrieval is not None:
            entry["retrieval"] = _retrieval(bot, bot_out, embedder)
        table.append(entry)
    result = {
        "data": str(directory),
        "bots": table,
        **aggregate(table),
        "baseline": {"similarity_below": BASELINE_SIMILARITY, "request_pattern": BASELINE_REQUEST.pattern},
        "typos": typos,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "cross.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "cross.md").write_text(markdown(result))
    write_cross_report(out / "report.html", result)
    return result


def _retrieval(bot: Bot, bot_out: Path, embedder) -> dict:
    """Recall@1 and answerable AUROC of the bot's retrieval set, on the index the replay built."""
    from eval.retrieval import load_queries, metrics, prediction_rows, run
    from knowledge import KnowledgeBase, load_path

    queries = load_queries(bot.retrieval, known_ids={doc.id for doc in load_path(bot.kb)})
    found = run(queries, KnowledgeBase(bot_out / "index", embedder), progress=False)
    figures = metrics(found)
    target = bot_out / "retrieval"
    target.mkdir(exist_ok=True)
    (target / "metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    with open(target / "predictions.jsonl", "w") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in prediction_rows(found))
    return {key: figures[key] for key in ("n", "recall_at_1", "auroc_answerable") if key in figures}


def markdown(result: dict) -> str:
    """cross.md: the headline table (Baton beside the baseline), then recall per reason."""
    head = (
        "| bot | n | Baton P | Baton R | Baton F1 | Baton FER | baseline P | baseline R | baseline F1 "
        "| baseline FER | ΔF1 |"
    )
    lines = [
        "# Cross-domain evaluation",
        "",
        f"Data: `{result['data']}`. Baseline: escalate when the closest knowledge-base vector has "
        f"cosine < {result['baseline']['similarity_below']} or the message names a person. "
        "FER: false-escalation rate."
        + (
            f" Every user message with typos in {result['typos']:.0%} of its words (`--typos`)."
            if result.get("typos")
            else ""
        ),
        "",
        head,
        "|" + "---|" * 11,
    ]

    def cells(figures: dict) -> str:
        return " | ".join(f"{figures[key]:.3f}" for key in HEADLINE[1:])

    for bot in result["bots"]:
        delta = bot["baton"]["f1"] - bot["baseline"]["f1"]
        lines.append(
            f"| {bot['bot']} | {bot['baton']['n']} | {cells(bot['baton'])} | {cells(bot['baseline'])} "
            f"| {delta:+.3f} |"
        )
    mean = result["mean"]
    lines.append(
        f"| **mean** | | {cells(mean['baton'])} | {cells(mean['baseline'])} "
        f"| {mean['baton']['f1'] - mean['baseline']['f1']:+.3f} |"
    )
    worst = result["worst"]
    lines += [
        "",
        f"Worst bot: Baton {worst['baton']['bot']} (F1 {worst['baton']['f1']:.3f}), baseline "
        f"{worst['baseline']['bot']} (F1 {worst['baseline']['f1']:.3f}). Baton ahead of the baseline on "
        f"{result['ahead']} of {len(result['bots'])} bots.",
        "",
        "## Recall per reason (Baton / baseline)",
        "",
        "| bot | " + " | ".join(SIGNAL_REASONS) + " |",
        "|" + "---|" * (len(SIGNAL_REASONS) + 1),
    ]
    for bot in result["bots"]:
        parts = []
        for reason in SIGNAL_REASONS:
            ours, theirs = bot["baton"]["per_reason"][reason], bot["baseline"]["per_reason"][reason]
            parts.append(
                f"{ours['recall']:.3f} / {theirs['recall']:.3f} (n={ours['n']})" if ours["n"] else ""
            )
        lines.append(f"| {bot['bot']} | " + " | ".join(parts) + " |")
    lines += _hindsight_lines(result["bots"])
    with_retrieval = [bot for bot in result["bots"] if "retrieval" in bot]
    if with_retrieval:
        lines += [
            "",
            "## Retrieval",
            "",
            "| bot | answerable | recall@1 | AUROC answerable |",
            "|---|---|---|---|",
        ]
        for bot in with_retrieval:
            figures = bot["retrieval"]
            auroc = f"{figures['auroc_answerable']:.3f}" if "auroc_answerable" in figures else ""
            lines.append(f"| {bot['bot']} | {figures['n']} | {figures['recall_at_1']:.3f} | {auroc} |")
    return "\n".join(lines) + "\n"


def _hindsight_lines(bots: list[dict]) -> list[str]:
    """cross.md's diagnostic section: each bot's best threshold in hindsight, said to be one."""
    having = [bot for bot in bots if "hindsight" in bot]
    if not having:
        return []
    caps = {bot["hindsight"]["max_fer"] for bot in having if bot["hindsight"]}
    cap = f" within {max(caps):.0%} false escalations" if caps else ""
    lines = [
        "",
        "## In hindsight (fitted on each bot's own labels: a diagnostic, not a figure)",
        "",
        f"The low-confidence threshold (`escalate_at`) with the best F1{cap}, chosen on the bot itself. "
        "Where it misses a target too, the answer confidence does not rank that bot's questions well "
        "enough for any threshold.",
        "",
        "| bot | shipped F1 | shipped FER | escalate_at in hindsight | F1 | FER | F1 gain |",
        "|---|---|---|---|---|---|---|",
    ]
    for bot in having:
        best, baton = bot["hindsight"], bot["baton"]
        shipped = f"| {bot['bot']} | {baton['f1']:.3f} | {baton['false_escalation_rate']:.3f} "
        if best is None:
            lines.append(shipped + "| none within the cap | | | |")
        else:
            fer = best["false_escalation_rate"]
            lines.append(
                shipped + f"| {best['escalate_at']:.2f} | {best['f1']:.3f} | {fer:.3f} "
                f"| {best['f1'] - baton['f1']:+.3f} |"
            )
    return lines
