"""The local MQTT broker of ``carewatch up``: Debian's mosquitto, or an embedded amqtt broker.

Both run as child processes in their own process group, so Ctrl-C reaches only ``up``, which
stops them last (after agent and hub). mosquitto speaks MQTT 5 with shared subscriptions and
keeps sessions and queued messages on disk; amqtt, the fallback when mosquitto is missing,
speaks MQTT 3.1.1 without shared subscriptions and keeps everything in memory.
Run as ``python -m carewatch.broker --port N`` this module is the amqtt child.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from carewatch.stack import ChildProcess, ComponentError

if TYPE_CHECKING:
    from carewatch.config import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary (PATH, then Debian's /usr/sbin), or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def mosquitto_conf(folder: Path, port: int, *, autosave_interval: int = 5) -> str:
    """The local broker's configuration: loopback only, anonymous, persistent, no queue caps."""
    # Started as root, mosquitto would switch to its own user, which cannot write our folder.
    user = pwd.getpwuid(os.getuid()).pw_name
    return (
        f"listener {port} {HOST}\n"
        "allow_anonymous true\n"
        f"user {user}\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        f"autosave_interval {autosave_interval}\n"
        # The hub's queue must not drop reports past the default limit of 1000.
        "max_queued_messages 0\n"
        "max_queued_bytes 0\n"
        "queue_qos0_messages false\n"
        f"log_dest file {folder}/mosquitto.log\n"
        "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
    )


class LocalBroker(ChildProcess):
    """A broker on 127.0.0.1 for the one-command demo; a stack component."""

    name = "broker"
    label = "the MQTT broker"
    stop_timeout = 10.0  # mosquitto saves its database on SIGTERM
    poll_interval = 0.05

    def __init__(self, data_dir: Path, port: int, *, embedded: bool | None = None) -> None:
        """``embedded``: None picks mosquitto when installed, True forces amqtt."""
        self.folder = (data_dir / "mqtt").resolve()
        self.port = port
        self.binary = None if embedded else find_mosquitto()
        if embedded is False and self.binary is None:
            raise ComponentError("mosquitto is not installed (Debian package 'mosquitto')")
        super().__init__([])

    @classmethod
    def from_settings(cls, settings: Settings, *, embedded: bool | None = None) -> LocalBroker:
        """The local broker on the configured MQTT port, keeping its state in data_dir/mqtt."""
        return cls(settings.data_dir, settings.mqtt_port, embedded=embedded)

    @property
    def embedded(self) -> bool:
        """Whether this is the amqtt fallback rather than mosquitto."""
        return self.binary is None

    @property
    def protocol(self) -> str:
        """MQTT protocol version clients should use: "5" or "3.1.1"."""
        return "3.1.1" if self.embedded else "5"

    @property
    def shared_subscriptions(self) -> bool:
        """Whether ``$share/<group>/...`` subscriptions work."""
        return not self.embedded

    @property
    def log_file(self) -> Path:
        """Where the broker logs."""
        return self.folder / ("amqtt.log" if self.embedded else "mosquitto.log")

    def _command(self) -> list[str]:
        if self.binary is not None:
            conf = self.folder / "mosquitto.conf"
            conf.write_text(mosquitto_conf(self.folder, self.port))
            return [self.binary, "-c", str(conf)]
        return [sys.executable, "-m", "carewatch.broker", "--port", str(self.port)]

    def start(self, stop: threading.Event, timeout: float = 15.0) -> None:
        """Start the broker and return once it accepts connections on 127.0.0.1."""
        if listening(HOST, self.port):
            raise ComponentError(
                f"something already listens on {HOST}:{self.port}; stop it, or choose another "
                "port for the local broker with CAREWATCH_MQTT_PORT"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.args = self._command()
        log.info(
            "starting %s on %s:%s (MQTT %s)",
            "amqtt" if self.embedded else "mosquitto",
            HOST,
            self.port,
            self.protocol,
        )
        with open(self.log_file, "ab") as out:
            self.spawn(stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.wait_ready(stop, timeout, f"listen on {HOST}:{self.port}")

    def ready(self) -> bool:
        """Whether the broker accepts connections."""
        return listening(HOST, self.port)

    def failure_detail(self) -> str:
        """The end of the broker's log."""
        return f":\n{self._log_tail()}"

    def _log_tail(self, lines: int = 10) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""


def run_amqtt(port: int) -> None:
    """Run an amqtt broker on 127.0.0.1:port until SIGTERM or SIGINT."""
    import asyncio

    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}"}},
        # Only anonymous access on loopback; no $SYS topics and no per-packet logging.
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        broker = Broker(config)
        await broker.start()
        log.info("amqtt listening on %s:%s", HOST, port)
        await stopping.wait()
        await broker.shutdown()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Embedded MQTT 3.1.1 broker on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    # start() probes the port by connecting and closing, which amqtt logs as an error.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: "No data to decode" not in record.getMessage())
    run_amqtt(parser.parse_args().port)
