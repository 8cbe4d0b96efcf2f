"""Text normalisation shared by both retrievers, and the tokens the lexical one counts.

Customer text carries order numbers, e-mail addresses, links and template placeholders that say
nothing about *what* is asked but pull embeddings and word matches toward whatever entry happens
to contain a similar number. They are removed on both sides (queries and indexed text) alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import Stemmer

PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\[[A-Z][A-Z _]{1,30}\]")
URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
EMAIL = re.compile(r"\S+@\S+\.\w+")
# Any token that holds a digit and is long enough to be an id: 12345, #A-1234, ORD_77X9, +1 555 0100.
IDENTIFIER = re.compile(r"[#+]?\b(?=[\w-]*\d)[\w-]{4,}\b|\+?\d[\d ()-]{6,}\d")
REPEATS = re.compile(r"([^\W\d_])\1{2,}")  # "pleeeease" -> "pleease"; digits stay
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

STOPWORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "i",
    "me", "my", "we", "our", "you", "your", "he", "she", "it", "its", "they", "them", "their", "this",
    "that", "these", "those", "there", "here", "can", "could", "would", "should", "will", "shall",
    "may", "might", "must", "have", "has", "had", "not", "no", "so", "than", "too", "very", "just",
    "what", "which", "who", "whom", "how", "when", "where", "why", "please", "hi", "hello", "hey",
    "thanks", "thank",
))
_STEMMERS = threading.local()  # a PyStemmer instance is for one thread at a time


def normalize(text: str) -> str:
    """Text without ids, links, addresses and placeholders; unicode and whitespace tidied.

    Case is left alone for the model (MiniLM's tokenizer is uncased); the lexical side lowers it.
    """
    text = unicodedata.normalize("NFKC", text)
    for pattern in (PLACEHOLDER, URL, EMAIL, IDENTIFIER):
        text = pattern.sub(" ", text)
    text = REPEATS.sub(r"\1\1", text)
    return " ".join(text.split())


def stem(word: str) -> str:
    """The Snowball English stem ("cancelling", "cancellation" -> "cancel"; "takes", "take" ->
    "take"), so that a question meets the words of its answer in whatever form either uses."""
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """The lexical retriever's terms: lower-cased, accents kept, stop words dropped, stemmed."""
    words = (word.split("'")[0] for word in WORD.findall(normalize(text).lower().replace("\u2019", "'")))
    return [stem(word) for word in words if word not in STOPWORDS and len(word) > 1]
