"""``carewatch hub``: db-upgrade, register, status, and ``run`` as the stack component."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from carewatch import cli
from carewatch.config import get_settings
from carewatch.db import make_engine
from supervision_hub.component import HubProcess
from supervision_hub.migrate import current, head
from tests.integration.test_hub_support import *  # noqa: F403 - the hub fixtures
from tests.integration.test_hub_support import Site
from tests.mqtt_broker import Mosquitto, free_port

A = Site("F310101-0001")


def run(*args: str) -> Result:
    """``carewatch ARGS`` in-process."""
    get_settings.cache_clear()
    return CliRunner().invoke(cli.cli, list(args), catch_exceptions=False)


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data folder; the hub database defaults to hub.db inside it."""
    monkeypatch.setenv("CAREWATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CAREWATCH_HUB_DATABASE_URL", raising=False)
    yield tmp_path / "var"
    get_settings.cache_clear()


def test_db_upgrade_register_and_status(hub_env: Path, tmp_path: Path) -> None:
    result = run("hub", "db-upgrade")
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{hub_env / 'hub.db'}"
    assert current(url) == head() == "0001"
    result = run(
        "hub", "register", "--facility", A.code, "--public-key", A.public, "--name", "阳光托育"
    )
    assert result.exit_code == 0 and result.output == f"registered facility {A.code}\n"
    key_file = tmp_path / "key.txt"
    key_file.write_text(Site(A.code).public + "\n")
    result = run("hub", "register", "--facility", A.code, "--public-key-file", str(key_file))
    assert result.output == f"updated facility {A.code}\n"
    result = run("hub", "status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["totals"]["facilities"] == 1
    [row] = data["facilities"]
    assert (row["code"], row["name"], row["state"], row["reports"]) == (
        A.code,
        "阳光托育",
        "unknown",
        0,
    )
    text = run("hub", "status").output
    assert text.startswith("1 facilities: 0 online, 0 offline")
    assert A.code in text


def test_register_refuses_bad_keys_and_codes(hub_env: Path) -> None:
    result = run("hub", "register", "--facility", A.code, "--public-key", "bm90IGEga2V5")
    assert result.exit_code == 1 and result.output.startswith("error: not an Ed25519 public key")
    result = run("hub", "register", "--facility", "bad/code", "--public-key", A.public)
    assert result.exit_code == 1 and "is not a facility code" in result.output
    result = run("hub", "register", "--facility", A.code)
    assert result.exit_code == 1 and "exactly one of" in result.output


def test_status_refuses_a_database_without_the_hub_schema(hub_env: Path) -> None:
    result = run("hub", "status")
    assert result.exit_code == 2 and "carewatch hub db-upgrade" in result.output


def test_hub_run_serves_the_view_and_stops_cleanly_on_sigterm(
    hub_env: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREWATCH_MQTT_PORT", str(mosquitto.port))
    assert run("hub", "register", "--facility", A.code, "--public-key", A.public).exit_code == 0
    port = free_port()
    hub = HubProcess(port=port, log_level="warning", client_id="hub-cli-test")
    hub.start(threading.Event(), timeout=30)
    try:
        assert hub.alive()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/facilities") as response:
            data = json.load(response)
        assert [f["code"] for f in data["facilities"]] == [A.code]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert "机构总览" in response.read().decode("utf-8")
    finally:
        hub.stop()
    assert hub.proc is not None and hub.proc.returncode == 0


def test_the_hub_history_matches_the_models(hub_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from supervision_hub.models import HubBase

    engine = make_engine(hub_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": "hub_alembic_version", "compare_type": True}
            )
            assert compare_metadata(context, HubBase.metadata) == []
            assert context.get_current_revision() == head()
    finally:
        engine.dispose()
