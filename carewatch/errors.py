"""Errors that carry a machine-readable code and a message a person can act on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse; the web layer turns it into a 4xx and a clear message.

    ``code`` is stable and machine-readable; ``message`` is an English template that the
    web layer translates, filled with ``params``; ``field`` names the offending input.
    """

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.field = field
        self.params = params
        if status is not None:
            self.status = status


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to this user)."""

    status = 404


class Conflict(DomainError):
    """The request clashes with the current state, such as a second check-in."""

    status = 409


class Forbidden(DomainError):
    """The user's role or class assignment does not allow this."""

    status = 403
