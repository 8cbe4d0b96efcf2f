"""Signed links that expire, for channels that fetch a file or cannot carry one: Twilio and the
Messenger platform fetch an outgoing file from its link, and an SMS gets a link in its text for a
file MMS does not carry. The link names one attachment and an expiry, signed with HMAC-SHA256 over
a key derived from ``secret_key``; anything else, or a link past its time, is refused."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

PURPOSE = b"baton attachment link v1"


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), PURPOSE, hashlib.sha256).digest()


def signature(secret_key: str, attachment_id: int, expires: int) -> str:
    return hmac.new(_key(secret_key), f"{attachment_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def make(base_url: str, secret_key: str, attachment_id: int, filename: str, seconds: float,
         now: float | None = None) -> str:
    """``{base_url}/files/{id}/{filename}?expires=...&signature=...``"""
    expires = int((now if now is not None else time.time()) + seconds)
    return (f"{base_url.rstrip('/')}/files/{attachment_id}/{quote(filename)}?expires={expires}"
            f"&signature={signature(secret_key, attachment_id, expires)}")


def valid(secret_key: str, attachment_id: int, expires: int, given: str,
          now: float | None = None) -> str | None:
    """None when the link is good; otherwise why it is not."""
    if not hmac.compare_digest(signature(secret_key, attachment_id, expires).encode(), given.encode()):
        return "this link's signature does not match: it was not made by this server for this file"
    if expires < (now if now is not None else time.time()):
        return "this link has expired; ask for the file again"
    return None
