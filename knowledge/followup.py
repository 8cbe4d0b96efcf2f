"""A visitor's follow-up question, read with the question it follows.

"and how long?" after "do you ship to Canada?" asks how long shipping to Canada takes; retrieved
alone it matched the warranty article (confidence 0.20), so the bot answered the wrong question and
then handed a question its knowledge base answers to a person. Read as "do you ship to Canada? and
how long?" it finds the international shipping entry (0.65).

Joining is not done on every message: a joined reading is surer of almost anything, out-of-scope
questions included ("what is the meaning of life" after a question about Klarna: 0.08 alone, 0.64
joined; "thanks" after one about shipping: 0.08 and 0.76), which would hide from the handoff
detector exactly the questions it must see. So only a message that is a question and leans on what
came before is read with its anchor (the last earlier message that stands on its own): one that
opens with "and", "what about", "how about"; one that refers back ("is it free?", "do they
expire?"); or one with no subject of its own ("how long do I have?"). The caller keeps the joined
reading only where the message's own retrieval is too unsure to answer it (below the offer level)
and the joined one is surer (:func:`read_in_context` gives the reading, :func:`joined_is_better`
the rule, which the bot and the evaluation's replay both apply): "what about klarna" after "can I
pay with paypal" finds the Klarna entry on its own (0.63), and its anchor would pull it back to the
payment methods (0.72), as "what about 2fa?" after a password reset (0.74 alone, 0.82 joined).
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.text import WORD, tokens

MAX_WORDS = 8  # longer messages say what they are about
LOOKBACK = 3  # earlier visitor messages searched for the anchor
# A retrieval this sure stands on its own as the answer (the low-confidence signal's offer level: an
# answer the bot would send without offering a person). A follow-up this sure keeps its own reading;
# a passage that says a person takes over hands the visitor over only from here (knowledge.answers).
STANDS_ON_ITS_OWN = 0.5
LEADS = (("and",), ("also",), ("what", "about"), ("how", "about"), ("what", "if"), ("same", "for"))
ASKING = frozenset((
    "how", "what", "when", "where", "which", "who", "why", "is", "are", "was", "do", "does", "did",
    "can", "could", "will", "would", "should", "shall", "may", "any", "has", "have",
))
REFERRING = frozenset(("it", "its", "they", "them", "their", "those", "these", "one", "ones"))
# words a fragment asks with that name no subject: "how long", "how much does it take"
SUBJECTLESS = frozenset(tokens(
    "long much many soon often else more take takes get need work cost costs mean apply happen"))


def _words(text: str) -> list[str]:
    return [word.split("'")[0] for word in WORD.findall(text.lower().replace("\u2019", "'"))]


def _lead(words: list[str]) -> tuple[str, ...] | None:
    return next((lead for lead in LEADS if tuple(words[: len(lead)]) == lead), None)


def leans_on_earlier(message: str) -> bool:
    """Whether ``message`` is a question that cannot be read without the one before it."""
    words = _words(message)
    if not 2 <= len(words) <= MAX_WORDS:  # "why?", "what?" alone say the last answer was not clear
        return False
    lead = _lead(words)
    if lead is not None:
        rest = words[len(lead):]
        # "what about Australia", "and how long"; not "and it still doesn't work"
        return bool(rest) and (lead not in (("and",), ("also",)) or rest[0] in ASKING)
    if words[0] not in ASKING and not message.rstrip().endswith("?"):
        return False  # "it didn't help" is not a question about the last answer
    if any(word in REFERRING for word in words):
        return True
    return not [term for term in tokens(message) if term not in SUBJECTLESS]


def _stands_alone(text: str) -> bool:
    """Not a follow-up, nor a short statement that refers back ("it's unused", "and the other")."""
    words = _words(text)
    if not words or leans_on_earlier(text):
        return False
    return len(words) > MAX_WORDS or not (_lead(words) or any(word in REFERRING for word in words))


def anchor(earlier: Sequence[str]) -> str | None:
    """The newest of the ``earlier`` visitor messages (oldest first) that stands on its own."""
    for text in list(earlier)[::-1][:LOOKBACK]:
        if _stands_alone(text):
            return text.strip()
    return None


def read_in_context(message: str, earlier: Sequence[str]) -> str | None:
    """The reading of ``message`` with its anchor, or None when it stands on its own (or has none)."""
    if not leans_on_earlier(message):
        return None
    found = anchor(earlier)
    if found is None:
        return None
    joiner = " " if found.endswith(("?", ".", "!")) else "? "
    return f"{found}{joiner}{message.strip()}"


def may_join(alone: float | None) -> bool:
    """Whether a follow-up answered with confidence ``alone`` is unsure enough for its joined reading
    to be worth retrieving at all."""
    return (alone or 0.0) < STANDS_ON_ITS_OWN


def joined_is_better(alone: float | None, joined: float | None) -> bool:
    """Whether a follow-up's joined reading (confidence ``joined``) replaces its own (``alone``):
    only where the message alone is too unsure to be answered and the joined reading is surer."""
    return may_join(alone) and (joined or 0.0) > (alone or 0.0)
