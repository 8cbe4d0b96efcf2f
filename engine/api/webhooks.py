"""Provider webhooks: SMS (Twilio's form), Messenger and Instagram direct messages (Graph's signed
JSON, one route: the notification's ``object`` names the channel) and inbound email (the JSON of
inbound-parse services). Each route checks the provider's signature, parses the body into
``IncomingMessage`` and hands it to the inbox; the provider gets its answer as soon as the message
is stored, and the bot's turn runs after it (its reply goes out through ``engine.channels.outbound``).

Refusals name what is wrong: 403 for a bad signature or token, 422 for a missing or malformed field
(a NUL character or a lone surrogate in any field included), 429 when one sender writes faster than
``limit_messages``, 503 when the channel's secret is not configured outside development.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from engine.api import errors, limits
from engine.api.deps import Ctx
from engine.channels import email, messenger, sms
from engine.channels.base import IncomingMessage
from engine.channels.inbox import Inbound, receive_incoming
from engine.service import workflow
from engine.service.runtime import ServiceContext
from engine.validation import problem
from knowledge.errors import InputError

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=errors.responses(400, 403, 413, 429, 503))


class Received(BaseModel):
    """What the inbox did with one message: stored it (``message_id``) or took it as the rating of
    the resolved conversation (``rated``)."""

    conversation_id: int
    message_id: int | None = None
    duplicate: bool = False
    rated: int | None = None


class Ignored(BaseModel):
    """A mail that a machine sent (out-of-office, bounce): acknowledged, not taken into the inbox."""

    ignored: str


def _received(inbound: Inbound) -> Received:
    if inbound.accepted is None:
        return Received(conversation_id=inbound.conversation_id, rated=inbound.rated)
    return Received(conversation_id=inbound.conversation_id, message_id=inbound.accepted.message.id,
                    duplicate=inbound.accepted.duplicate)


def _secret(ctx: ServiceContext, value: str, setting: str) -> str | None:
    """The configured secret; None means "skip the check", allowed in development only."""
    if value:
        return value
    if ctx.settings.environment == "development":
        return None
    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                        detail=f"this webhook is not configured: set BATON_{setting.upper()}")


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def _signed_url(ctx: ServiceContext, request: Request) -> str:
    """The URL the provider signed: as seen from outside when ``public_url`` is set (behind a proxy)."""
    if not ctx.settings.public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{ctx.settings.public_url.rstrip('/')}{request.url.path}{query}"


async def _take(request: Request, ctx: ServiceContext, incoming: IncomingMessage) -> Inbound:
    """Store the message, follow its conversation for replies, and queue the bot's turn."""
    for name, value in dataclasses.asdict(incoming).items():
        found = problem(value)
        if found is not None:
            raise InputError(f"{name} {found}", field=name)
    await limits.of(request.app).hit("messages", f"{incoming.channel.value}:{incoming.external_id}")
    inbound = await receive_incoming(ctx, incoming)
    dispatcher = getattr(request.app.state, "outbound", None)
    if dispatcher is not None:
        dispatcher.watch(inbound.conversation_id)
    if inbound.new:
        workflow.answer_later(ctx, inbound.accepted)  # the widget's pipeline; durable
    return inbound


@router.post("/sms", response_class=Response, summary="Inbound SMS (Twilio's form fields)")
async def sms_webhook(request: Request, ctx: Ctx,
                      x_twilio_signature: Annotated[str | None, Header()] = None) -> Response:
    form = await request.form()
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    token = _secret(ctx, ctx.settings.sms_auth_token, "sms_auth_token")
    if token is not None and not sms.signature_valid(token, _signed_url(ctx, request), fields,
                                                     x_twilio_signature):
        raise _forbidden("X-Twilio-Signature is missing or does not match this request")
    await _take(request, ctx, sms.parse(dict(fields), ctx.settings))
    return Response(sms.EMPTY_TWIML, media_type="text/xml")


@router.get("/messenger", response_class=PlainTextResponse,
            summary="Messenger and Instagram subscription check")
async def messenger_verify(ctx: Ctx, mode: Annotated[str, Query(alias="hub.mode")],
                           verify_token: Annotated[str, Query(alias="hub.verify_token")],
                           challenge: Annotated[str, Query(alias="hub.challenge")]) -> str:
    expected = ctx.settings.messenger_verify_token
    if not expected:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail="this webhook is not configured: set BATON_MESSENGER_VERIFY_TOKEN")
    if mode != "subscribe":
        raise InputError(f"hub.mode is {mode!r}; only 'subscribe' is answered", field="hub.mode")
    if not hmac.compare_digest(verify_token, expected):
        raise _forbidden("hub.verify_token does not match BATON_MESSENGER_VERIFY_TOKEN")
    return challenge


@router.post("/messenger", summary="Messenger and Instagram events (X-Hub-Signature-256)")
async def messenger_webhook(request: Request, ctx: Ctx,
                            x_hub_signature_256: Annotated[str | None, Header()] = None) -> list[Received]:
    body = await request.body()
    secret = _secret(ctx, ctx.settings.messenger_app_secret, "messenger_app_secret")
    if secret is not None and not messenger.signature_valid(secret, body, x_hub_signature_256):
        raise _forbidden("X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of this body")
    incoming = messenger.parse(body, ctx.settings)
    return [_received(await _take(request, ctx, message)) for message in incoming]


@router.post("/email", summary="Inbound email (JSON of an inbound-parse service)")
async def email_webhook(request: Request, ctx: Ctx, mail: email.InboundEmail,
                        token: str | None = None) -> Received | Ignored:
    expected = _secret(ctx, ctx.settings.email_webhook_token, "email_webhook_token")
    given = token or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if expected is not None and not hmac.compare_digest(given.encode(), expected.encode()):
        raise _forbidden("the email webhook token is missing or wrong (?token= or Authorization: Bearer)")
    reason = email.automatic(mail)
    if reason is not None:
        return Ignored(ignored=f"an automatic reply ({reason}); answering it could start a loop")
    return _received(await _take(request, ctx, email.parse(mail)))
