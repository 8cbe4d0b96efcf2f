"""Error answers in the shapes the OpenAPI document promises, and that document's list of them.

* 422 always has FastAPI's ``HTTPValidationError`` shape, ``{"detail": [{"loc", "msg", "type"}]}``,
  whether pydantic, a channel parser (``InputError``) or the service (``Invalid``) refused the input;
* every other 4xx is ``{"detail": "<what is wrong>"}`` (:class:`Problem`), documented on each router
  through :func:`responses`;
* a 429 carries ``Retry-After`` (seconds).

FastAPI's own 422 handler echoes the input, and an input holding a lone surrogate cannot be encoded
as UTF-8, so the handler itself failed with a 500: here echoed strings are made encodable first.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engine.api.limits import RateLimited
from engine.service.errors import ServiceError
from knowledge.errors import InputError

_SURROGATE = re.compile("[\ud800-\udfff]")


class Problem(BaseModel):
    """A refusal: ``detail`` says what is wrong and, where it helps, what to do instead."""

    detail: str


DESCRIPTIONS = {
    400: "The request could not be read (a malformed body or frame)",
    401: "No valid token (Authorization: Bearer <token>)",
    403: "The token is valid but may not do this (an admin route, a bad webhook signature)",
    404: "No such conversation, operator, team or canned response",
    409: "The action does not fit the current state (claimed by someone else, resolved)",
    413: "The request body is over the size limit (max_request_bytes), or a file over its type's limit",
    415: "A file of a type not accepted, or whose name disagrees with its bytes",
    422: "The input is not usable: each entry names the field (loc) and what is wrong (msg)",
    429: "Too many requests: try again after Retry-After seconds",
    503: "This webhook is not configured on this server, or the SMTP server did not take a mail",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds until the limit lets this through again",
                               "schema": {"type": "integer", "minimum": 1}}}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a router: each code with :class:`Problem` as its body (422 with
    FastAPI's ``HTTPValidationError``, the shape every 422 here has)."""
    documented: dict[int | str, dict[str, Any]] = {}
    problem = {"application/json": {"schema": Problem.model_json_schema()}}  # JSON whatever the route sends
    for code in codes:
        documented[code] = {"description": DESCRIPTIONS[code], "content": problem}
        if code == 422:
            documented[code] = {"description": DESCRIPTIONS[code], "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
        if code == 429:
            documented[code]["headers"] = RETRY_AFTER
    return documented


def _encodable(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    return value


def validation_body(loc: list[str | int], message: str, kind: str = "value_error") -> dict[str, Any]:
    return {"detail": [{"loc": loc, "msg": message, "type": kind}]}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{key: value for key, value in error.items() if key != "url"} for error in exc.errors()]
        return JSONResponse(status_code=422, content=_encodable(jsonable_encoder({"detail": errors})))

    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status_code == 422:
            return JSONResponse(status_code=422, content=validation_body(["body"], exc.message))
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message})

    @app.exception_handler(InputError)
    async def input_error(_request: Request, exc: InputError) -> JSONResponse:
        loc: list[str | int] = [exc.field] if exc.field else ["body"]
        return JSONResponse(status_code=422, content=validation_body(loc, str(exc)))

    @app.exception_handler(RateLimited)
    async def rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(status_code=429, content={"detail": exc.detail},
                            headers={"Retry-After": str(exc.retry_after)})
