"""What every value from outside must be before it is stored: text without NUL characters or lone
surrogates, integers that fit a 64-bit column, subjects on one line.

Why at the boundary: PostgreSQL refuses NUL in text, no database encodes a lone surrogate (JSON's
``"\\ud800"`` decodes to one), and an integer beyond 64 bits overflows both drivers. Each of these
used to reach the driver and come back as a 500; here it is a 422 that names the field.

:class:`CleanInput` checks every field of a request model (nested lists and dicts included), so a
new field is covered without remembering to annotate it; :func:`problem` is the same check for
values that do not come through a model (form fields, socket frames, the service's own checks).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")


def problem(value: Any) -> str | None:
    """What is wrong with ``value`` for storage (searched through lists and dicts), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character (\\u0000), which text may not hold"
        if _SURROGATE.search(value):
            return "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character"
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return f"is an integer beyond 64 bits (the limit is {INT64_MAX})"
        return None
    if isinstance(value, dict):
        return next((found for item in value.items() if (found := problem(item)) is not None), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next((found for item in value if (found := problem(item)) is not None), None)
    return None


def require_clean(value: Any, name: str) -> Any:
    """``value`` unchanged, or ValueError naming ``name`` and what is wrong with it."""
    found = problem(value)
    if found is not None:
        raise ValueError(f"{name} {found}")
    return value


def _text(value: str) -> str:
    found = problem(value)
    if found is not None:
        raise ValueError(found)
    return value


Text = Annotated[str, AfterValidator(_text)]
"""A string parameter outside a :class:`CleanInput` model (a query string, say)."""


def _one_line(value: str | None) -> str | None:
    if value is not None and _LINE_BREAK.search(value):
        raise ValueError("must be on one line: CR, LF and other line breaks are not allowed in a subject")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""A header-like value (an email subject): a line break in it could start a header of its own."""

Id = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A database id or sequence number as a request carries it: never negative, fits 64 bits."""


class CleanInput(BaseModel):
    """Mixin for request models: every field's value must pass :func:`problem`."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        found = problem(value)
        if found is not None:
            raise ValueError(found)
        return value
