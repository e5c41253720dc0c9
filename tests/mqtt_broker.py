"""A real mosquitto broker for tests: loopback only, persistent, restartable."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str | None:
    """Debian's mosquitto, or None."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


class Mosquitto:
    """mosquitto on 127.0.0.1 with persistence, so a graceful restart keeps queued messages."""

    def __init__(self, root: Path | None = None, extra_conf: str = "", port: int | None = None):
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto not found; install Debian's 'mosquitto' package")
        self.binary = binary
        self.root = root or Path(tempfile.mkdtemp(prefix="carewatch-mqtt-"))
        self.port = port or free_port()
        self.conf = self.root / "mosquitto.conf"
        self.log = self.root / "mosquitto.log"
        # mosquitto started as root switches to its own user before it opens files; running
        # as the current user keeps the (0700) test folder writable for persistence and logs.
        user = pwd.getpwuid(os.getuid()).pw_name
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {user}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.root}/\n"
            "autosave_interval 1\n"
            # Queued QoS 1 messages for a persistent subscriber must not be dropped by the
            # default limit of 1000 during a test's backlog.
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            f"log_dest file {self.log}\n" + extra_conf
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> Mosquitto:
        """Start and wait until the port accepts connections."""
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self, kill: bool = False) -> None:
        """Stop gracefully (persistence is saved) or with SIGKILL."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Stop gracefully and start again on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
