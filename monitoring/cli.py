"""``carewatch monitor``: the monitoring checks on the command line, each usable alone.

Exit codes of every command: 0 pass, 1 warn or fail, 2 unknown (the check could not run)
or a usage error. ``--json`` prints the report as JSON on stdout (schema: see
``retention --help``); progress goes to stderr, only on a terminal.
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
    """CCTV monitoring checks: stream probes and recording retention (coverage to come)."""


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
