"""Shared benchmark plumbing: databases, the production server, sign-in, percentiles."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # The benchmarks reuse tests/pgserver.py, which lives outside the installed packages.
    sys.path.insert(0, str(ROOT))

from carewatch.db import make_engine  # noqa: E402
from carewatch.migrate import upgrade  # noqa: E402

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    """One line describing where the numbers were measured."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a throwaway PostgreSQL server."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        upgrade(url)
        yield url
        return
    from tests.pgserver import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        admin = make_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE carewatch_bench"))
        admin.dispose()
        url = server.url_for("carewatch_bench")
        upgrade(url)
        yield url
    finally:
        server.stop()


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A temporary folder for the data directory and the SQLite file."""
    with tempfile.TemporaryDirectory(prefix="carewatch-bench-") as tmp:
        yield Path(tmp)


@dataclass
class Server:
    """A running `carewatch web` (gunicorn) subprocess."""

    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        """Graceful stop, then kill if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def web_server(url: str, data_dir: Path, *, workers: int, threads: int) -> Iterator[Server]:
    """Start the production server on 127.0.0.1 and wait until /healthz answers."""
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "CAREWATCH_DATABASE_URL": url,
        "CAREWATCH_DATA_DIR": str(data_dir),
        # httpx (unlike a browser) sends Secure cookies only over HTTPS.
        "CAREWATCH_SESSION_COOKIE_SECURE": "false",
    }
    log = data_dir / "server.log"
    args = [sys.executable, "-m", "carewatch.cli", "--log-level", "warning", "web"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers), "--threads", str(threads)]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


def csrf_from(page: str) -> str:
    """The CSRF token a page carries in its meta tag."""
    match = CSRF.search(page)
    if not match:
        raise RuntimeError("page has no csrf-token meta tag")
    return match.group(1)


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass
class Summary:
    """Latency percentiles (ms) and throughput of one kind of request."""

    name: str
    n: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    mean: float

    @classmethod
    def of(cls, name: str, seconds: list[float], errors: int, wall: float) -> Summary:
        """Summarise latencies in seconds measured over ``wall`` seconds."""
        ms = sorted(s * 1000 for s in seconds)
        return cls(
            name=name,
            n=len(ms),
            errors=errors,
            rps=len(ms) / wall if wall > 0 else float("nan"),
            p50=percentile(ms, 50),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
            mean=sum(ms) / len(ms) if ms else float("nan"),
        )

    def row(self) -> str:
        """One line of the results table."""
        return (
            f"| {self.name} | {self.n} | {self.errors} | {self.rps:.0f} | {self.p50:.1f} "
            f"| {self.p95:.1f} | {self.p99:.1f} |"
        )


TABLE_HEAD = (
    "| request | n | errors | req/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|---|"
)


def per_backend(doc: str, run: Callable[[str, int], object], repeat: int) -> None:
    """The usual main: ``--backend`` (repeatable) and ``--repeat``, then run each backend."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=repeat, help="timed runs per backend")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(machine())
    for backend in args.backend or ["sqlite"]:
        run(backend, args.repeat)
