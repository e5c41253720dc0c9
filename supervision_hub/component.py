"""The hub as a stack component: ``carewatch hub run`` in a child process, for ``carewatch up``."""

from __future__ import annotations

import logging
import sys

from carewatch.stack import HttpChildProcess

log = logging.getLogger(__name__)


class HubProcess(HttpChildProcess):
    """``carewatch hub run`` as a child process; ready once its web view answers /healthz."""

    name = "hub"
    label = "the hub"
    # SIGTERM lets the hub store and acknowledge what it holds.
    stop_timeout = 30.0

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
        args = [
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
            args += ["--client-id", client_id]
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        super().__init__(args, f"http://{probe_host}:{port}/healthz")
