"""Account integrations: look up a customer's account and orders, and act on them, over HTTP.

``HttpIntegration`` is the one implementation (any system that answers the shapes of
``types.py``); ``sample_shop`` is a small real backend for the demo and the tests.
"""

from engine.integrations.http import (
    HttpIntegration,
    Integration,
    IntegrationError,
    IntegrationRefused,
    IntegrationUnavailable,
)
from engine.integrations.types import Account, ActionCall, ActionOutcome, Fee, LookupQuery, Order, OrderItem

__all__ = [
    "Account",
    "ActionCall",
    "ActionOutcome",
    "Fee",
    "HttpIntegration",
    "Integration",
    "IntegrationError",
    "IntegrationRefused",
    "IntegrationUnavailable",
    "LookupQuery",
    "Order",
    "OrderItem",
]
