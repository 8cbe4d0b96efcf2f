"""The account integration over HTTP (httpx): one configured base URL, one auth header, timeouts.

Lookups are cached briefly (``integration_cache_seconds``) so an operator flicking between
conversations does not hammer the shop; an action clears the cache, since it changed an order.
Failures come back as two errors the console can word honestly: :class:`IntegrationUnavailable`
(down, slow past the timeout, a 5xx: the operator carries on without it) and
:class:`IntegrationRefused` (a 4xx: the shop said no, and why).
"""

from __future__ import annotations

import time
from typing import Protocol, TypeVar

import httpx
from cachetools import TTLCache
from pydantic import ValidationError

from engine.integrations.types import Account, ActionCall, ActionOutcome, LookupQuery
from engine.settings import Settings

Shape = TypeVar("Shape", Account, ActionOutcome)


class IntegrationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IntegrationUnavailable(IntegrationError):
    """Not reachable, too slow, or broken (5xx, a body that is not the documented shape)."""


class IntegrationRefused(IntegrationError):
    """The integration answered 4xx: the request was understood and refused."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class Integration(Protocol):
    """The one small interface lookups and actions go through (a fake for tests would implement
    it too; the tests here run the real sample shop instead)."""

    async def lookup(self, query: LookupQuery) -> tuple[Account | None, float | None]:
        """The account (None when nobody matches) and, when it came from the cache, its age in seconds."""
        ...

    async def perform(self, kind: str, call: ActionCall, idempotency_key: str) -> ActionOutcome: ...

    async def close(self) -> None: ...


class HttpIntegration:
    def __init__(
        self,
        base_url: str,
        *,
        auth_header: str = "Authorization",
        auth_value: str = "",
        timeout: float = 3.0,
        cache_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {auth_header: auth_value} if auth_value else {}
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        self.cache: TTLCache[LookupQuery, tuple[Account | None, float]] | None = (
            TTLCache(maxsize=1024, ttl=cache_seconds) if cache_seconds > 0 else None
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpIntegration | None:
        if not settings.integration_url:
            return None
        return cls(
            settings.integration_url,
            auth_header=settings.integration_auth_header,
            auth_value=settings.integration_auth_value,
            timeout=settings.integration_timeout_seconds,
            cache_seconds=settings.integration_cache_seconds,
        )

    async def lookup(self, query: LookupQuery) -> tuple[Account | None, float | None]:
        if self.cache is not None and query in self.cache:
            account, fetched = self.cache[query]
            return account, time.monotonic() - fetched
        response = await self._send("GET", "/accounts/lookup", params=query.params())
        if response.status_code == 404:
            account = None
        else:
            self._raise_for(response)
            account = self._parse(Account, response)
        if self.cache is not None:
            self.cache[query] = (account, time.monotonic())
        return account, None

    async def perform(self, kind: str, call: ActionCall, idempotency_key: str) -> ActionOutcome:
        response = await self._send(
            "POST",
            f"/actions/{kind}",
            json=call.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )
        if self.cache is not None:
            self.cache.clear()  # the order changed (or may have): look it up afresh
        self._raise_for(response)
        return self._parse(ActionOutcome, response)

    async def close(self) -> None:
        await self.client.aclose()

    async def _send(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            return await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise IntegrationUnavailable(
                f"the account system did not answer within {self.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise IntegrationUnavailable(
                f"the account system is unreachable ({type(exc).__name__})"
            ) from None

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.status_code >= 500:
            raise IntegrationUnavailable(f"the account system failed (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise IntegrationRefused(_detail(response), response.status_code)

    @staticmethod
    def _parse(shape: type[Shape], response: httpx.Response) -> Shape:
        try:
            return shape.model_validate_json(response.content)
        except ValidationError as exc:
            raise IntegrationUnavailable(
                f"the account system answered an unexpected {shape.__name__} shape: {exc.errors()[0]['msg']}"
            ) from None


def _detail(response: httpx.Response) -> str:
    """The refusal's reason as the integration worded it."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail else f"HTTP {response.status_code}"
