"""What every value from outside must be before it is stored: text without NUL characters or lone
surrogates, integers that fit the database's integer columns, subjects on one line.

Why at the boundary: PostgreSQL refuses NUL in text, no database encodes a lone surrogate (JSON's
``"\\ud800"`` decodes to one), and an integer beyond what a column holds overflows the driver
(PostgreSQL's INTEGER is 32-bit, SQLite's 64; beyond 64 bits neither driver takes it). Each of these
used to reach the driver and come back as a 500; here it is a 422 that names the field.

:class:`CleanInput` checks every field of a request model (nested lists and dicts included), so a
new field is covered without remembering to annotate it; :func:`problem` is the same check for
values that do not come through a model (form fields, socket frames, the service's own checks).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER, the type of every id, seq and count column
INT_MIN = -(2**31)
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
        if not INT_MIN <= value <= INT_MAX:
            return f"is an integer too large for the database (the limit is {INT_MAX})"
        return None
    if isinstance(value, dict):
        return next((found for item in value.items() if (found := problem(item)) is not None), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next((found for item in value if (found := problem(item)) is not None), None)
    return None


def checked(value: Any) -> Any:
    """``value`` unchanged, or ValueError saying what is wrong with it (pydantic names the field)."""
    found = problem(value)
    if found is not None:
        raise ValueError(found)
    return value


Text = Annotated[str, AfterValidator(checked)]
"""A string parameter outside a :class:`CleanInput` model (a query string, say)."""


def _one_line(value: str | None) -> str | None:
    if value is not None and _LINE_BREAK.search(value):
        raise ValueError("must be on one line: CR, LF and other line breaks are not allowed in a subject")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""A header-like value (an email subject): a line break in it could start a header of its own."""

Id = Annotated[int, Field(ge=0, le=INT_MAX)]
"""A database id or sequence number as a request carries it: never negative, fits the column."""


def e164(value: str) -> str:
    """A phone number a visitor typed, in E.164 (``+4930901820``); ValueError saying why unless it
    is a real number (``is_valid_number``: a number we would text must exist, not only look
    possible). The one check of typed numbers (leave-a-message, the phone confirmation)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("write the phone number with + and the country code, e.g. +49 30 901820") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value.strip()} is not a valid phone number "
                         "(check the country code and the digits)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, AfterValidator(e164), Field(max_length=40, examples=["+49 30 901820"])]
"""A typed phone number, stored in E.164."""


def _text_or_files(value: str, info: ValidationInfo) -> str:
    if not value.strip() and not info.data.get("attachment_ids"):
        raise ValueError("text is empty: a message needs text, or files in attachment_ids")
    return value


MessageText = Annotated[str, AfterValidator(_text_or_files),
                        Field(default="", max_length=20_000, validate_default=True)]
"""A message's text, which may be empty only when the message carries files: the model declares
``attachment_ids`` before it (fields are validated in order)."""


class CleanInput(BaseModel):
    """Mixin for request models: every field's value must pass :func:`problem`."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return checked(value)
