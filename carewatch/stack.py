"""Run long-lived components in order and stop them in reverse on one stop event.

``carewatch up`` is the user: the web server today; broker, edge agent and hub as they land.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class ComponentError(RuntimeError):
    """A component could not start."""


class Component(Protocol):
    """One long-running part of the stack, started in order and stopped in reverse."""

    name: str

    def start(self, stop: threading.Event) -> None:
        """Start and return once ready; give up when ``stop`` is set."""

    def alive(self) -> bool:
        """Whether it is still running."""

    def stop(self) -> None:
        """Stop and wait for it."""


def run_components(
    components: list[Component], stop: threading.Event, on_ready: Callable[[], None] | None = None
) -> int:
    """Start components in order, wait for SIGINT/SIGTERM or a failure, stop them in reverse."""

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started: list[Component] = []
    code = 0
    try:
        for component in components:
            if stop.is_set():
                break
            log.info("starting %s", component.name)
            component.start(stop)
            started.append(component)
        else:
            if on_ready is not None:
                on_ready()
        # One event ends everything: a signal, or a component found dead by this poll.
        while not stop.wait(0.5):
            dead = [c.name for c in started if not c.alive()]
            if dead:
                log.error("%s stopped unexpectedly; shutting down", ", ".join(dead))
                code = 1
                break
    except ComponentError as exc:
        log.error("%s", exc)
        code = 1
    finally:
        stop.set()
        for component in reversed(started):
            log.info("stopping %s", component.name)
            component.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
