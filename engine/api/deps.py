"""Dependencies as named aliases: the service context, the visitor's conversation, the operator.

Visitors authenticate with the conversation token returned at start; operators with the signed
token returned at login. Both arrive as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.api import limits
from engine.models import Conversation, Operator, OperatorRole
from engine.service import conversations, operators
from engine.service.runtime import ServiceContext
from engine.validation import INT_MAX

_bearer = HTTPBearer(auto_error=False)


def get_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]
IdPath = Annotated[int, Path(ge=0, le=INT_MAX, description="a database id")]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def visitor_conversation_for(ctx: ServiceContext, token: str | None) -> Conversation | None:
    if not token:
        return None
    return await ctx.read(conversations.by_token, token)


async def operator_for(ctx: ServiceContext, token: str | None) -> Operator | None:
    if not token:
        return None
    operator_id = operators.read_token(ctx.settings.secret_key, token)
    if operator_id is None or operator_id > INT_MAX:  # a signed id always fits; this one was not ours
        return None
    operator = await ctx.read(lambda session: session.get(Operator, operator_id))
    return operator if operator is not None and operator.active else None  # deactivated: signed out


async def get_visitor_conversation(ctx: Ctx, request: Request, credentials: Bearer) -> Conversation:
    """The token's conversation; each call counts against its visitor rate limit."""
    conversation = await visitor_conversation_for(ctx, credentials.credentials if credentials else None)
    if conversation is None:
        raise _unauthorised("a valid conversation token is required (Authorization: Bearer <token>)")
    await limits.of(request.app).hit("visitor", str(conversation.id))
    return conversation


async def get_operator(ctx: Ctx, credentials: Bearer) -> Operator:
    operator = await operator_for(ctx, credentials.credentials if credentials else None)
    if operator is None:
        raise _unauthorised("a valid operator token is required: log in at POST /api/operator/login")
    return operator


async def get_admin(operator: Annotated[Operator, Depends(get_operator)]) -> Operator:
    if operator.role != OperatorRole.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs an admin account")
    return operator


async def get_lead(operator: Annotated[Operator, Depends(get_operator)]) -> Operator:
    """A supervisor or an admin: the people who see reports and forecasts."""
    if operator.role not in (OperatorRole.supervisor, OperatorRole.admin):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs a supervisor or admin account")
    return operator


VisitorConversation = Annotated[Conversation, Depends(get_visitor_conversation)]
CurrentOperator = Annotated[Operator, Depends(get_operator)]
CurrentAdmin = Annotated[Operator, Depends(get_admin)]
CurrentLead = Annotated[Operator, Depends(get_lead)]
