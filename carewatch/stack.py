"""Run long-lived components in order and stop them in reverse on one stop event.

``carewatch up`` is the user: broker, web server, hub and edge agent. Components that run
a command of their own build on :class:`ChildProcess`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
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


def die_with_parent() -> None:
    """In a child process: get SIGTERM if the parent dies without stopping us (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ChildProcess:
    """A component that runs a command in a child process until it is ready.

    The child gets its own process group, so Ctrl-C reaches only the parent, which then
    stops the children in order; and it dies with the parent if the parent is killed.
    Subclasses say when the child is ready; one that never gets ready is stopped again.
    """

    name = "child"
    label = "the child process"  # for messages: "<label> exited during start-up"
    stop_timeout = 20.0
    poll_interval = 0.2

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def ready(self) -> bool:
        """Whether the child serves yet."""
        raise NotImplementedError

    def failure_detail(self) -> str:
        """What to add to a start-up failure (a log tail, say)."""
        return ""

    def spawn(self, **popen: Any) -> None:
        """Start the child (``popen``: extra arguments such as ``stdout``)."""
        self.proc = subprocess.Popen(
            self.args, process_group=0, preexec_fn=die_with_parent, **popen
        )

    def wait_ready(self, stop: threading.Event, timeout: float, waiting_for: str) -> None:
        """Return once ``ready()``; raise if the child exits or ``timeout`` passes first."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            code = self.proc.poll()
            if code is not None:
                raise ComponentError(
                    f"{self.label} exited during start-up (exit code {code})"
                    + self.failure_detail()
                )
            if self.ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ComponentError(f"{self.label} did not {waiting_for} within {timeout:.0f} s")
            stop.wait(self.poll_interval)

    def alive(self) -> bool:
        """Whether the child still runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM (the child finishes what it holds), then SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.label, self.stop_timeout)
            self.proc.kill()
            self.proc.wait()


class HttpChildProcess(ChildProcess):
    """A child process that is ready once ``probe`` (a URL) answers 200."""

    def __init__(self, args: list[str], probe: str) -> None:
        super().__init__(args)
        self.probe = probe

    def ready(self) -> bool:
        """Whether the probe URL answers 200."""
        try:
            with urllib.request.urlopen(self.probe, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def start(self, stop: threading.Event, timeout: float = 60.0) -> None:
        """Start the child and wait until the probe answers."""
        self.spawn()
        self.wait_ready(stop, timeout, f"answer {self.probe}")
