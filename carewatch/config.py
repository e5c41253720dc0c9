"""Installation settings, read from the environment (prefix ``CAREWATCH_``)."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)


class Settings(BaseSettings):
    """Where the installation keeps its data and how it talks to the outside."""

    model_config = SettingsConfigDict(env_prefix="CAREWATCH_", extra="forbid")

    data_dir: Path = Field(
        Path("var"), description="Folder for the SQLite database, keys and other local state."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; defaults to a SQLite file in data_dir. "
        "Use postgresql+psycopg://… in production.",
    )
    secret_key: SecretStr | None = Field(
        None, description="Flask session key; generated once into data_dir when unset."
    )
    timezone: str = Field("Asia/Shanghai", description="Default facility time zone.")
    session_cookie_secure: bool = Field(
        True, description="Send the session cookie only over HTTPS (browsers allow localhost)."
    )
    host: str = Field("127.0.0.1", description="Address the web server binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server binds.")
    web_workers: int = Field(4, ge=1, le=64, description="Worker processes of the web server.")
    web_threads: int = Field(4, ge=1, le=64, description="Threads per web worker.")

    facility_code: str = Field(
        "demo-facility",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
        description="This facility's id in reports and MQTT topics (its certificate's name).",
    )
    mqtt_host: str = Field("127.0.0.1", description="MQTT broker host.")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="MQTT broker port.")
    mqtt_username: str | None = Field(None, description="MQTT user name, when not TLS identity.")
    mqtt_password: SecretStr | None = Field(None, description="MQTT password.")
    mqtt_ca_file: Path | None = Field(None, description="CA certificate; setting it turns on TLS.")
    mqtt_cert_file: Path | None = Field(None, description="Client certificate (TLS).")
    mqtt_key_file: Path | None = Field(None, description="Client private key (TLS).")
    topic_prefix: str = Field("carewatch/v1", description="Topic prefix of every report.")
    outbox_max_reports: int = Field(
        200_000,
        ge=100,
        description="Reports the outbox holds before new compliance snapshots are held back.",
    )
    snapshot_detail_days: int = Field(
        2, ge=1, description="Days the agent keeps every compliance snapshot (one a minute)."
    )
    snapshot_keep_days: int = Field(
        400,
        ge=2,
        description="Days the agent keeps thinned snapshots (first of each hour and every "
        "change of overall status); older ones are deleted.",
    )
    hub_database_url: str | None = Field(
        None, description="Supervision hub database; defaults to a SQLite file in data_dir."
    )
    hub_host: str = Field("127.0.0.1", description="Address the hub's web view binds.")
    hub_port: int = Field(8001, ge=1, le=65535, description="Port of the hub's web view.")

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'carewatch.db').resolve()}"

    def resolved_hub_database_url(self) -> str:
        """The hub's database URL, defaulting to a SQLite file in the data folder."""
        if self.hub_database_url:
            return self.hub_database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The session key, created once with owner-only permissions, safe to call concurrently."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Web workers start together and may all get here. Each writes a whole key to its
            # own temporary file (mkstemp: mode 0600) and links it into place only if the name
            # is free, so the key appears complete or not at all and the first writer wins.
            fd, temp = tempfile.mkstemp(prefix=".secret_key.", dir=self.data_dir)
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(48))
                    fh.flush()
                    # On disk before it has its name: a power cut must not leave an empty key.
                    os.fsync(fh.fileno())
                try:
                    os.link(temp, path)
                    log.info("generated a new session key in %s", path)
                except FileExistsError:
                    pass  # another process won the race; everyone uses its key
            finally:
                os.unlink(temp)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
