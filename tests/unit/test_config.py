"""Settings: the session key generated into the data folder."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from pydantic import SecretStr

from carewatch.config import Settings

WORKERS = 8
ROUNDS = 20


def _resolve_together(data_dir: Path) -> list[str | BaseException]:
    """Resolve the key from several threads released at the same instant."""
    barrier = threading.Barrier(WORKERS)
    results: list[str | BaseException] = [""] * WORKERS

    def worker(i: int) -> None:
        settings = Settings(data_dir=data_dir, secret_key=None)
        barrier.wait()
        try:
            results[i] = settings.resolved_secret_key()
        except BaseException as exc:  # a crash is a result the test reports
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_first_use_agrees_on_one_owner_only_key(tmp_path: Path) -> None:
    # Several rounds in fresh folders: one round may well not interleave.
    for n in range(ROUNDS):
        data_dir = tmp_path / f"var{n}"
        results = _resolve_together(data_dir)
        assert all(isinstance(r, str) for r in results), results
        assert len(set(results)) == 1 and len(results[0]) >= 40, results
        key_file = data_dir / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text().strip() == results[0]
        assert [p.name for p in data_dir.iterdir()] == ["secret_key"]  # no temp files left


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, secret_key=None).resolved_secret_key()
    assert Settings(data_dir=tmp_path, secret_key=None).resolved_secret_key() == first


def test_a_configured_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", secret_key=SecretStr("configured"))
    assert settings.resolved_secret_key() == "configured"
    assert not (tmp_path / "var").exists()
