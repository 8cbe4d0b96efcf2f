"""Errors the actions layer raises; the API turns each into its HTTP status with the message as is."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    """The action does not fit the conversation's current state (claimed by someone else, resolved...)."""

    status_code = 409


class Invalid(ServiceError):
    status_code = 422
