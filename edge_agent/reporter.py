"""Put reports into the outbox with the facility's key and wake the publisher after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event
from sqlalchemy.orm import Session

from carewatch.reports import Kind
from edge_agent.models import OutboxReport
from edge_agent.outbox import enqueue

log = logging.getLogger(__name__)


@dataclass
class Reporter:
    """What a job needs to queue a report: key, facility code, topic prefix and the bound.

    ``online`` tells whether the broker is reachable now; a report made while it is not is
    marked historical. ``wake`` is called once the transaction holding a report commits.
    """

    key: Ed25519PrivateKey
    facility: str
    prefix: str
    limit: int
    online: Callable[[], bool] = lambda: True
    wake: Callable[[], None] = lambda: None

    def __call__(
        self, session: Session, kind: Kind, body: dict[str, Any], now: datetime
    ) -> OutboxReport:
        """Queue one report in the session's transaction (raises ``OutboxFull`` at the bound)."""
        row = enqueue(
            session,
            key=self.key,
            facility=self.facility,
            kind=kind,
            body=body,
            now=now,
            prefix=self.prefix,
            limit=self.limit,
            historical=not self.online(),
        )
        self._wake_after_commit(session)
        return row

    def _wake_after_commit(self, session: Session) -> None:
        # Waking before the commit would let the publisher look for a row it cannot see yet;
        # a wake too many is harmless (the publisher finds nothing new).
        def _after_commit(_session: Session) -> None:
            try:
                self.wake()
            except Exception:
                log.exception("waking the publisher failed")

        event.listen(session, "after_commit", _after_commit, once=True)
