"""Train the two shipped signal models from the phrases in ``handoff/data``:

    python -m handoff.train [--out DIR]

* ``explicit_request.npz``: softmax over the message embedding, classes human / contact / other;
* ``frustration.npz``: softmax over the embedding plus sentiment and cue features, classes calm /
  frustrated.

Every phrase is written for this project (none comes from an evaluation set). Each is also trained
in a lower-cased, punctuation-free copy with one typo, and with a greeting or "please" around it,
because that is how customers type. Deterministic: the same phrases and model give the same file.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

import numpy as np

from handoff.features import HAND_FEATURES, analyse, embedding_order, frustration_inputs
from handoff.linear import SoftmaxModel
from handoff.sentiment import SentimentScorer

DATA = Path(__file__).with_name("data")
REQUEST_CLASSES = ["human", "contact", "other"]
FRUSTRATION_CLASSES = ["calm", "frustrated"]
FILLERS = (("hi ", ""), ("hello, ", ""), ("", " please"), ("", " thanks"), ("hey ", "?"), ("", " asap"))
EMBEDDING_L2 = 1e-3
HAND_L2 = 1e-4


def phrases(name: str) -> list[str]:
    lines = (DATA / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def augment(text: str, rng: random.Random) -> list[str]:
    """The phrase, a sloppy copy (lower case, no punctuation, one typo) and one with a filler."""
    sloppy = re.sub(r"[^\w\s']", "", text.lower()).strip()
    words = sloppy.split()
    long_words = [i for i, word in enumerate(words) if len(word) >= 4]
    if long_words:
        i = rng.choice(long_words)
        word, j = words[i], rng.randrange(1, len(words[i]) - 1)
        edit = rng.choice(("swap", "drop", "double"))
        if edit == "swap":
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif edit == "drop":
            word = word[:j] + word[j + 1 :]
        else:
            word = word[:j] + word[j] + word[j:]
        words[i] = word
    prefix, suffix = rng.choice(FILLERS)
    return [text, " ".join(words) or text, f"{prefix}{text}{suffix}"]


def request_dataset(rng: random.Random) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for name, label in (
        ("human_requests.txt", "human"),
        ("contact_requests.txt", "contact"),
        ("other_messages.txt", "other"),
        ("frustrated.txt", "other"),
        ("calm.txt", "other"),
    ):
        for phrase in phrases(name):
            variants = augment(phrase, rng)
            texts += variants
            labels += [label] * len(variants)
    return texts, labels


def frustration_dataset(rng: random.Random) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for name, label in (
        ("frustrated.txt", "frustrated"),
        ("calm.txt", "calm"),
        ("other_messages.txt", "calm"),
        ("contact_requests.txt", "calm"),
        ("human_requests.txt", "calm"),
    ):
        for phrase in phrases(name):
            variants = augment(phrase, rng)
            texts += variants
            labels += [label] * len(variants)
    return texts, labels


def train(embedder, out: Path = DATA) -> tuple[SoftmaxModel, SoftmaxModel]:
    rng = random.Random(13)
    request_texts, request_labels = request_dataset(rng)
    frustration_texts, frustration_labels = frustration_dataset(rng)
    unique = sorted(set(request_texts) | set(frustration_texts), key=embedding_order)
    vectors = dict(zip(unique, embedder.encode(unique, batch_size=32), strict=True))
    requests = SoftmaxModel.fit(
        np.stack([vectors[text] for text in request_texts]), request_labels, REQUEST_CLASSES, l2=EMBEDDING_L2
    )
    scorer = SentimentScorer()
    inputs = frustration_inputs(
        analyse(frustration_texts, scorer), np.stack([vectors[text] for text in frustration_texts])
    )
    dim = inputs.shape[1] - len(HAND_FEATURES)
    l2 = np.concatenate([np.full(dim, EMBEDDING_L2), np.full(len(HAND_FEATURES), HAND_L2)])
    frustration = SoftmaxModel.fit(inputs, frustration_labels, FRUSTRATION_CLASSES, l2=l2)
    out.mkdir(parents=True, exist_ok=True)
    requests.save(out / "explicit_request.npz")
    frustration.save(out / "frustration.npz")
    return requests, frustration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DATA, help="folder for the .npz files (default: shipped)")
    parser.add_argument("--model", default=None, help="embedding model (default: the bundled MiniLM)")
    args = parser.parse_args(argv)
    from knowledge import Embedder

    requests, frustration = train(Embedder(args.model), args.out)
    print(
        f"wrote {args.out}/explicit_request.npz {requests.weights.shape} and "
        f"{args.out}/frustration.npz {frustration.weights.shape}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
