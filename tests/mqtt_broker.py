"""A real mosquitto broker for tests: loopback only, persistent, restartable."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from carewatch.broker import find_mosquitto, mosquitto_conf


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """mosquitto on 127.0.0.1 with persistence, so a graceful restart keeps queued messages."""

    def __init__(self, root: Path | None = None, extra_conf: str = "", port: int | None = None):
        binary = find_mosquitto()
        if binary is None:
            raise RuntimeError("mosquitto not found; install Debian's 'mosquitto' package")
        self.binary = binary
        self.root = root or Path(tempfile.mkdtemp(prefix="carewatch-mqtt-"))
        self.port = port or free_port()
        self.conf = self.root / "mosquitto.conf"
        self.log = self.root / "mosquitto.log"
        # The local broker's own configuration, saving every second so that a test's
        # restarts keep what was queued.
        self.conf.write_text(mosquitto_conf(self.root, self.port, autosave_interval=1) + extra_conf)
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
