"""The one error type for unusable input, shared by every package (they may all import knowledge)."""

from __future__ import annotations


class InputError(ValueError):
    """Unusable input: names the file, the line and the field where it can.

    The CLI prints it as one line and exits with status 2; the API turns it into a 4xx.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path, self.line, self.field = path, line, field
        where = ":".join(str(part) for part in (path, line) if part is not None)
        prefix = f"{where}: " if where else ""
        suffix = f" (field {field!r})" if field else ""
        super().__init__(f"{prefix}{message}{suffix}")
