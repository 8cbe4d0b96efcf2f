"""Channel adapters: SMS, email and Messenger into the same inbox as the web widget, and replies
back out through the channel a conversation came from.

Names load lazily, so importing one adapter does not pull in the others (nor the service layer).
The delivery records are a table: ``engine.models.ChannelDelivery``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "IncomingMessage": "base", "OutgoingMessage": "base", "SendResult": "base", "DeliveryError": "base",
    "Transport": "base", "MemoryTransport": "base", "OutboundDispatcher": "outbound",
    "transports_from_settings": "outbound", "receive_incoming": "inbox", "Inbound": "inbox",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'engine.channels' has no attribute {name!r}")
    return getattr(import_module(f"engine.channels.{_NAMES[name]}"), name)
