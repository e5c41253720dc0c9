"""The hub as a stack component: ``carewatch hub run`` in a child process, for ``carewatch up``."""

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

from carewatch.stack import ComponentError

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies without stopping us (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class HubProcess:
    """``carewatch hub run`` as a child process; ready once its web view answers /healthz."""

    name = "hub"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        log_level: str = "info",
        protocol: str = "5",
        shared: bool = True,
        client_id: str | None = None,
    ) -> None:
        self.probe = (
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/healthz"
        )
        self.args = [
            sys.executable,
            "-m",
            "carewatch.cli",
            "--log-level",
            log_level,
            "hub",
            "run",
            "--host",
            host,
            "--port",
            str(port),
            "--protocol",
            protocol,
            "--shared" if shared else "--no-shared",
        ]
        if client_id:
            self.args += ["--client-id", client_id]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, stop: threading.Event, timeout: float = 60.0) -> None:
        """Start the hub and wait until its web view answers."""
        # Its own process group: Ctrl-C reaches only the parent, which stops us in order.
        self.proc = subprocess.Popen(self.args, process_group=0, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            code = self.proc.poll()
            if code is not None:
                raise ComponentError(f"the hub exited during start-up (exit code {code})")
            try:
                with urllib.request.urlopen(self.probe, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            stop.wait(0.2)
        if not stop.is_set():
            raise ComponentError(f"the hub did not answer {self.probe} within {timeout:.0f} s")

    def alive(self) -> bool:
        """Whether the hub process still runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM (the hub stores and acknowledges what it holds), then kill if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("hub did not stop in 30 s; killing it")
            self.proc.kill()
            self.proc.wait()
