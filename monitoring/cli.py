"""``carewatch monitor``: the monitoring checks on the command line, each usable alone.

Exit codes of every check: 0 pass, 1 warn or fail, 2 unknown (the check could not run)
or a usage error. ``coverage``, ``camera``, ``zone`` and ``refresh`` use the CareWatch
database (``CAREWATCH_DATABASE_URL``); ``probe`` and ``retention`` need none.
``--json`` prints the report as JSON on stdout (schema: see ``retention --help`` and
``coverage --help``); progress goes to stderr, only on a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from monitoring.retention import Layout, RetentionConfig, RetentionReport

log = logging.getLogger(__name__)

EXIT = {"pass": 0, "warn": 1, "fail": 1, "unknown": 2}


def _instant(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2026-03-10T09:00+08:00")
    return at


class _MonitorGroup(click.Group):
    """Loads ``probe`` (and with it OpenCV) only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, the lazy one included."""
        return sorted([*super().list_commands(ctx), "probe"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command by name, importing ``probe`` on first use."""
        if cmd_name == "probe":
            from monitoring.probe_cli import probe_command

            return probe_command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
def monitor() -> None:
    """CCTV monitoring: stream probes, recording retention, zone coverage and the registry."""


@monitor.command("retention")
@click.argument("store", type=click.Path(path_type=Path))
@click.option(
    "--layout",
    type=click.Choice(["frigate", "template"]),
    default="frigate",
    show_default=True,
    help="How the store names segments.",
)
@click.option(
    "--template",
    help="strftime path template with {camera}, e.g. "
    "'{camera}/%Y-%m-%d/%H-%M-%S.mp4' (with --layout template).",
)
@click.option("--template-zone", default=None, help="Zone of template times (default UTC).")
@click.option(
    "--camera",
    "cameras",
    multiple=True,
    help="Only this camera (repeatable); a named camera without recordings fails.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Folder for the scan index; without it every scan is full and deletions are not audited.",
)
@click.option("--now", "now_", help="Judge as of this ISO 8601 instant (default: now).")
@click.option(
    "--parse/--no-parse",
    default=None,
    help="Read mp4 headers of new files "
    "(default: no for frigate, whose names are exact start times; yes for template).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, path_type=Path),
    help="JSON file of RetentionConfig fields overriding the defaults.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def retention(
    store: Path,
    layout: str,
    template: str | None,
    template_zone: str | None,
    cameras: tuple[str, ...],
    state_dir: Path | None,
    now_: str | None,
    parse: bool | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Prove (or disprove) unbroken recordings of every camera in STORE.

    JSON schema (version 1): {schema, store, layout, now, zone, status, reasons[],
    cameras: [{camera, status, reasons[], earliest, latest, unbroken_since,
    unbroken_days, fresh, gaps: [{start, end, seconds}], coverage_percent_by_day:
    {local date: percent}, bad_segments: [{path, start, reason}], deletions: [{start,
    end, noticed, path}], recorded_bytes, bytes_per_day}], forecast: {status, reason,
    total_bytes, free_bytes, recording_bytes, bytes_per_day, days, needed_days},
    problems: [{path, reason}], index, stats}. Times are ISO 8601 UTC; per-day keys are
    local dates in the configured zone (default Asia/Shanghai). Status is pass, warn,
    fail or unknown; exit code 0, 1, 1, 2.
    """
    from pydantic import ValidationError

    from monitoring.retention import RetentionConfig, TemplateLayout
    from monitoring.retention.layout import FrigateLayout

    now = _instant(now_)
    try:
        raw = json.loads(config_file.read_text()) if config_file else {}
        if template_zone:
            raw["template_zone"] = template_zone
        config = RetentionConfig(**raw)
    except (ValidationError, ValueError, TypeError) as exc:
        raise click.UsageError(f"bad configuration: {exc}") from None
    if layout == "template":
        if not template:
            raise click.UsageError("--layout template needs --template")
        try:
            lay = TemplateLayout(template, config.template_zone)
        except ValueError as exc:
            raise click.UsageError(f"bad --template: {exc}") from None
    else:
        lay = FrigateLayout()
    rep = _run(store, now, lay, config, state_dir, cameras, parse)
    if as_json:
        click.echo(rep.to_json())
    else:
        from monitoring.retention.render import render

        render(rep, config)
    sys.exit(EXIT[rep.status])


def _run(
    store: Path,
    now: datetime,
    lay: Layout,
    config: RetentionConfig,
    state_dir: Path | None,
    cameras: tuple[str, ...],
    parse: bool | None,
) -> RetentionReport:
    """Scan with a rich progress bar on stderr when it is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from monitoring.retention import check_retention

    console = Console(stderr=True)
    with Progress(
        TextColumn("scanning {task.fields[store]}"),
        BarColumn(),
        TextColumn("{task.completed} folders, {task.fields[left]} queued"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("scan", total=None, store=str(store), left=0)

        def on_dir(left: int) -> None:
            bar.update(task, advance=1, left=left)

        return check_retention(
            store,
            now,
            layout=lay,
            config=config,
            state_dir=state_dir,
            cameras=cameras,
            parse=parse,
            on_dir=on_dir,
        )


# --- commands on the registry in the database ---------------------------------------------


def _factory():  # type: ignore[no-untyped-def]
    """A session factory on the configured, migrated database (a context manager)."""
    from carewatch.cli.common import load_settings, migrated_database_url, sessions

    return sessions(migrated_database_url(load_settings()))


@monitor.command("coverage")
@click.option("--now", "now_", help="Judge as of this ISO 8601 instant (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage as JSON.")
def coverage_command(now_: str | None, as_json: bool) -> None:
    """Which zones have a healthy camera now, from the stored probes, with the cameras.

    JSON: {at, totals: {zones, zones_covered, required_zones, required_covered,
    required_uncovered, required_unknown, cameras, healthy, unhealthy, unknown},
    zones: [{id, name, kind, required, covered, status, cameras: [{id, name, url,
    enabled, health, reason, probed_at}]}], cameras: [...], finding: {status, value,
    threshold, evidence, message}}. Exit 0 when every required zone is covered, 1 when
    one is not, 2 when that could not be told.
    """
    from carewatch.db import transaction
    from monitoring.compliance import coverage_finding
    from monitoring.config import load_config
    from monitoring.service import coverage

    now = _instant(now_)
    config = load_config()
    with _factory() as factory, transaction(factory, write=False) as session:
        cov = coverage(session, now, config.health)
        finding = coverage_finding(session, now, config)
    if as_json:
        out = cov.to_dict() | {"finding": finding.to_dict()}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        t = cov.totals
        click.echo(
            f"{finding.status.upper()}: {t['required_covered']}/{t['required_zones']} required "
            f"zones covered; cameras {t['healthy']} healthy, {t['unhealthy']} unhealthy, "
            f"{t['unknown']} unknown"
        )
        for zone in cov.zones:
            need = "required" if zone.required else "optional"
            click.echo(f"  {zone.status:<9} {zone.name} ({zone.kind}, {need})")
            if not zone.cameras:
                click.echo("            no camera")
            for cam in zone.cameras:
                click.echo(f"            {cam.health:<9} {cam.name}: {cam.reason}")
    sys.exit(EXIT[finding.status])


@monitor.command("refresh")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Folder for the retention scan indexes (default: none, every scan is full).",
)
@click.option("--no-probe", is_flag=True, help="Only scan the recording stores.")
@click.option("--no-retention", is_flag=True, help="Only probe the cameras.")
def refresh_command(state_dir: Path | None, no_probe: bool, no_retention: bool) -> None:
    """Probe every enabled camera and scan their stores; store the results."""
    from carewatch.cli.common import now_or
    from monitoring.config import load_config
    from monitoring.service import probe_cameras, scan_retention

    now, config = now_or(None), load_config()
    # The factory form: no database lock is held while streams are probed or stores scanned.
    with _factory() as factory:
        if not no_probe:
            for state in probe_cameras(factory, now, config=config):
                click.echo(f"probe {state.camera_id}: {state.health} ({state.health_reason})")
        if not no_retention:
            for rs in scan_retention(factory, now, config=config, state_dir=state_dir):
                click.echo(f"retention {rs.camera_id}: {rs.status} ({'; '.join(rs.reasons)})")


@monitor.group("camera")
def camera_group() -> None:
    """The registered cameras."""


@camera_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def camera_list(as_json: bool) -> None:
    """Every camera with its masked URL, zones and recording location."""
    from carewatch.db import transaction
    from monitoring.registry import list_cameras

    with _factory() as factory, transaction(factory, write=False) as session:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "url": c.masked_url,
                "nvr_channel": c.nvr_channel,
                "enabled": c.enabled,
                "store_path": c.store_path,
                "store_layout": c.store_layout.value,
                "store_template": c.store_template,
                "zones": [z.name for z in c.zones],
            }
            for c in list_cameras(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = "" if r["enabled"] else " (disabled)"
        click.echo(f"{r['id']:>4} {r['name']}{state}  {r['url']}  zones: {', '.join(r['zones'])}")


@camera_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--zone", "zones", multiple=True, help="A zone name (repeatable).")
@click.option("--channel", default="", help="NVR channel.")
@click.option("--store", default="", help="Recording store folder.")
@click.option("--layout", type=click.Choice(["frigate", "template"]), default="frigate")
@click.option("--template", default="", help="strftime path template (with --layout template).")
@click.option("--store-camera", default="", help="The camera's name in the store.")
def camera_add(
    name: str,
    url: str,
    zones: tuple[str, ...],
    channel: str,
    store: str,
    layout: str,
    template: str,
    store_camera: str,
) -> None:
    """Register a camera NAME with its stream URL (credentials are never printed)."""
    from sqlalchemy import select

    from carewatch.db import transaction
    from carewatch.errors import DomainError
    from monitoring.models import Zone
    from monitoring.registry import save_camera

    with _factory() as factory:
        try:
            with transaction(factory) as session:
                ids = []
                for zname in zones:
                    zid = session.scalar(select(Zone.id).where(Zone.name == zname))
                    if zid is None:
                        raise click.UsageError(f"no zone named {zname!r}")
                    ids.append(zid)
                cam = save_camera(
                    session,
                    name=name,
                    stream_url=url,
                    nvr_channel=channel,
                    store_path=store,
                    store_layout=layout,
                    store_template=template,
                    store_camera=store_camera,
                    zone_ids=ids,
                )
                click.echo(f"camera {cam.id} {cam.name} added ({cam.masked_url})")
        except DomainError as exc:
            raise click.UsageError(f"{exc.code}: {exc}") from None


@monitor.group("zone")
def zone_group() -> None:
    """The facility's zones."""


@zone_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def zone_list(as_json: bool) -> None:
    """Every zone with its kind, whether it is required, and its cameras."""
    from carewatch.db import transaction
    from monitoring.registry import list_zones

    with _factory() as factory, transaction(factory, write=False) as session:
        rows = [
            {
                "id": z.id,
                "name": z.name,
                "kind": z.kind.value,
                "required": z.required,
                "class_id": z.class_id,
                "cameras": [c.name for c in z.cameras],
            }
            for z in list_zones(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        need = "required" if r["required"] else "optional"
        click.echo(
            f"{r['id']:>4} {r['name']} ({r['kind']}, {need})  cameras: {', '.join(r['cameras'])}"
        )


@zone_group.command("add")
@click.argument("name")
@click.argument(
    "kind",
    type=click.Choice(
        ["entrance", "activity_room", "sleeping_room", "dining", "outdoor_play", "kitchen",
         "corridor", "other"]
    ),
)  # fmt: skip
@click.option("--optional", is_flag=True, help="Coverage of this zone is not required.")
@click.option("--class-id", type=int, default=None, help="The class room this zone belongs to.")
def zone_add(name: str, kind: str, optional: bool, class_id: int | None) -> None:
    """Register a zone NAME of KIND (required unless --optional)."""
    from carewatch.db import transaction
    from carewatch.errors import DomainError
    from monitoring.registry import save_zone

    with _factory() as factory:
        try:
            with transaction(factory) as session:
                zone = save_zone(
                    session, name=name, kind=kind, required=not optional, class_id=class_id
                )
                click.echo(f"zone {zone.id} {zone.name} added")
        except DomainError as exc:
            raise click.UsageError(f"{exc.code}: {exc}") from None
