"""One settings class for the engine, read from ``BATON_*`` variables and an optional ``baton.toml``.

Reached through the cached :func:`get_settings` so that nothing builds settings at import time and
tests can pass their own :class:`Settings` to ``create_app`` instead.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "dev-secret-change-me", "secret"})
DEV_SECRET = "dev-secret-change-me"
VAR_DIR = Path("var")
MiB = 1024 * 1024
# bytes allowed per attachment category by default (engine.files.kinds sorts types into these)
ATTACHMENT_LIMITS = {"image": 10 * MiB, "pdf": 20 * MiB, "document": 20 * MiB, "text": 1 * MiB,
                     "audio": 16 * MiB, "video": 25 * MiB}


def _toml_path() -> Path:
    """``BATON_CONFIG`` names the TOML file; ``baton.toml`` in the working directory otherwise."""
    return Path(os.environ.get("BATON_CONFIG", "baton.toml"))


class ActionSpec(BaseModel):
    """One action operators may take on a customer's account through the integration
    (``POST {integration_url}/actions/{kind}``; docs/integrations.md). ``limits`` is, per operator
    role, the most that role may do without someone's approval, in the action's unit (the shop's
    currency, or days); a role it does not name needs approval for any amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    label: str = Field(min_length=1, max_length=60)
    unit: Literal["money", "days"] = "money"
    limits: dict[str, Decimal] = Field(default_factory=dict)
    visitor_text: str = ""  # what the operator may tell the visitor: {amount}, {order} filled


DEFAULT_ACTIONS = [
    ActionSpec(kind="refund", label="Refund", unit="money",
               limits={"operator": 50, "supervisor": 500, "admin": 5000},
               visitor_text="I've refunded {amount} for order {order}; it goes back to your original payment "
                            "method within 3 working days."),
    ActionSpec(kind="waive_fee", label="Fee waiver", unit="money",
               limits={"operator": 25, "supervisor": 200, "admin": 1000},
               visitor_text="I've waived the {amount} fee on order {order}."),
    ActionSpec(kind="extend_deadline", label="Deadline extension", unit="days",
               limits={"operator": 14, "supervisor": 60, "admin": 365},
               visitor_text="I've extended the return deadline for order {order} by {amount}."),
]


class Settings(BaseSettings):
    """Everything the engine can be told. Validated once at start-up."""

    model_config = SettingsConfigDict(env_prefix="BATON_", extra="forbid")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{VAR_DIR / 'baton.db'}"
    redis_url: str | None = None  # set for several workers: the bus and routing lock go through Redis
    redis_prefix: str = "baton"  # channel and key prefix, so deployments can share one Redis
    # events each bus stream keeps for operator consoles that reconnect with their last event id
    # (docs/scaling.md); an older gap gets a "resync" frame and the console reloads over REST
    event_replay: int = Field(default=500, ge=1, le=100_000)
    index_dir: Path = VAR_DIR / "index"
    embedding_model: str | None = None
    embedding_backend: Literal["auto", "onnx", "torch"] = "auto"
    llm_model: str = "baton/extractive"  # knowledge.BUILTIN_MODEL, spelled out so settings stay torch-free
    llm_timeout_seconds: float = 20.0
    handoff_config: Path | None = None
    secret_key: str = DEV_SECRET
    operator_token_ttl_seconds: int = 12 * 3600
    max_message_chars: int = Field(default=4000, ge=1)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    history_turns: int = Field(default=12, ge=1)
    # operator workflow (engine.service.routing, presence, queue)
    # the language the whole desk reads (ISO 639-1): never a routing requirement, only another one is
    desk_language: str = Field(default="en", pattern=r"^(en|de|fr|es|it|nl|pt|pl|sv|da|tr)$")
    presence_grace_seconds: float = Field(default=60.0, ge=0)
    routing_interval_seconds: float = Field(default=5.0, gt=0)
    priority_step_seconds: float = Field(default=300.0, gt=0)
    # a contact whose customer value (``Contact.value``) reaches this ranks one priority level ahead
    high_value_threshold: float = Field(default=1000.0, ge=0, allow_inf_nan=False)
    handle_time_samples: int = Field(default=50, ge=1)
    # a visitor who writes within this long of a resolution goes back to the operator who resolved it
    # (or to the queue when they are not available), not to the bot; 0 turns it off
    reopen_to_operator_seconds: float = Field(default=1800.0, ge=0)
    # durable bot turns (engine.service.turns): a claimed turn is renewed while it runs; a worker that
    # died leaves it to be claimed again once this lease has run out
    turn_lease_seconds: float = Field(default=15.0, gt=0)
    # tests only: each bot turn touches ``parked-<message id>`` in this folder and waits for ``open``
    # there, so a test can kill the server deterministically between the acknowledgement and the turn
    turn_gate_dir: Path | None = None
    # channels (engine.channels; docs/channels.md): a secret left empty skips its signature check in
    # development and refuses that webhook (503) elsewhere
    public_url: str | None = None  # how providers reach us, e.g. https://support.example.com (signatures)
    sms_provider_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""  # the number replies come from when the visitor's own message named none
    messenger_api_url: str = "https://graph.facebook.com/v19.0"
    messenger_verify_token: str = ""
    messenger_app_secret: str = ""
    messenger_page_token: str = ""
    # Instagram direct messages go through the Messenger Platform (same app secret, same API URL); the
    # token of the Page the Instagram account is linked to, when it is not messenger_page_token's Page
    instagram_page_token: str = ""
    email_webhook_token: str = ""
    email_from: str = "support@example.com"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    channel_reopen_hours: float = Field(default=24.0, ge=0)  # after this a resolved conversation stays closed
    delivery_attempts: int = Field(default=5, ge=1)
    delivery_backoff_seconds: float = Field(default=2.0, gt=0)  # doubled after each failed attempt
    delivery_sweep_seconds: float = Field(default=5.0, gt=0)
    delivery_timeout_seconds: float = Field(default=15.0, gt=0)
    # attachments (engine.files, engine.service.attachments; docs/files.md): stored in a folder by default,
    # in an S3-compatible bucket with attachment_storage = "s3"
    attachment_storage: Literal["folder", "s3"] = "folder"
    attachment_dir: Path = VAR_DIR / "files"
    attachment_s3_bucket: str = ""
    attachment_s3_endpoint_url: str | None = None  # a MinIO, Ceph or R2 server; unset: AWS S3
    attachment_s3_region: str = "us-east-1"
    attachment_s3_access_key: str = ""  # empty: boto3's own chain (environment, profile, instance role)
    attachment_s3_secret_key: str = ""
    attachment_s3_prefix: str = "attachments/"
    # bytes allowed per category (image, pdf, document, text, audio, video); 0 refuses the category.
    # Categories left out keep their defaults (ATTACHMENT_LIMITS)
    attachment_limits: dict[str, int] = Field(default_factory=dict)
    attachment_max_files: int = Field(default=10, ge=1, le=50)  # files on one message
    attachment_link_hours: float = Field(default=72.0, gt=0)  # signed links for SMS and Messenger
    # the most one conversation may hold (a token cannot fill the disk); 0 for no limit
    attachment_conversation_bytes: int = Field(default=200 * MiB, ge=0)
    attachment_unsent_hours: float = Field(default=24.0, gt=0)  # uploads never sent are deleted after this
    # rate limits (engine.api.limits; docs/security.md), in the `limits` notation "3/second;30/minute";
    # counted in Redis when redis_url is set, so they hold across workers
    rate_limits: bool = True
    limit_address: str = "300/minute"  # every visitor and login request, every socket connect, per address
    limit_conversation_starts: str = "10/minute;50/hour"  # per client address
    limit_visitor: str = "120/minute"  # every REST call and socket frame of one visitor token
    limit_messages: str = "3/second;30/minute"  # stored visitor messages per conversation (or channel sender)
    limit_login_address: str = "20/minute"  # login attempts per client address
    limit_login_failures: str = "5/15 minutes"  # failed logins per account; then 429 with no password check
    limit_email_codes: str = "1/minute;5/hour"  # confirmation codes sent, per conversation and per address
    # a web visitor's email or phone confirmation code (engine.service.confirmation; docs/security.md)
    email_code_minutes: float = Field(default=15.0, gt=0)  # how long a code stays usable
    email_code_attempts: int = Field(default=5, ge=1)  # wrong codes before the visitor must ask again

    @field_validator("limit_address", "limit_conversation_starts", "limit_visitor", "limit_messages",
                     "limit_login_address", "limit_login_failures", "limit_email_codes")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate limit such as '3/second;30/minute' ({exc})") from exc
        return value
    # account integration (engine.integrations; docs/integrations.md): lookups and actions over HTTP
    integration_url: str | None = None  # e.g. http://127.0.0.1:8100 (the sample shop of `make run`)
    integration_auth_header: str = "Authorization"
    integration_auth_value: str = ""  # the header's whole value, e.g. "Bearer <token>"
    integration_timeout_seconds: float = Field(default=3.0, gt=0)
    integration_cache_seconds: float = Field(default=30.0, ge=0)  # lookups reused this long
    integration_currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    actions: list[ActionSpec] = Field(default_factory=lambda: list(DEFAULT_ACTIONS))

    @field_validator("attachment_limits")
    @classmethod
    def _attachment_limits(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(ATTACHMENT_LIMITS))
        if unknown:
            raise ValueError(f"unknown attachment categories {unknown}; known: {sorted(ATTACHMENT_LIMITS)}")
        if any(limit < 0 for limit in value.values()):
            raise ValueError("an attachment limit is a number of bytes, 0 or more")
        return {**ATTACHMENT_LIMITS, **value}

    @property
    def attachment_request_bytes(self) -> int:
        """The body limit of an upload: the largest file allowed and room for the multipart framing."""
        return max(self.attachment_limits.values() or [0]) + 64 * 1024

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key in PLACEHOLDER_SECRETS:
            raise ValueError(
                "BATON_SECRET_KEY is a placeholder; set a long random value outside development "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments win over the environment, which wins over ``baton.toml``."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()))


@lru_cache
def get_settings() -> Settings:
    return Settings()
