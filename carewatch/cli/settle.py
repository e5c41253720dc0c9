"""``carewatch settle``: settle (lock) a month's subsidy claim, print or export it."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import click

from carewatch.cli.common import (
    CliError,
    Instant,
    load_settings,
    migrated_database_url,
    now_or,
    sessions,
)

log = logging.getLogger(__name__)


@click.command()
@click.option("--month", required=True, help="The month to settle, YYYY-MM.")
@click.option("--dry-run", is_flag=True, help="Show the draft claim without locking the month.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the month's totals without names as JSON."
)
@click.option(
    "--export",
    "fmt",
    type=click.Choice(["csv", "xlsx", "html"]),
    help="Also write the claim (with names: the facility's own copy) to --out.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Export file.")
@click.option("--now", "now_", type=Instant(), hidden=True, help="Pretend it is this instant.")
def settle(
    month: str,
    dry_run: bool,
    as_json: bool,
    fmt: str | None,
    out: Path | None,
    now_: datetime | None,
) -> None:
    """Settle a month that has ended: lock its claim and print the totals.

    A month settled before is shown as it was locked; corrections of attendance since
    then appear as adjustment lines of the next month's claim.
    """
    from carewatch.db import transaction
    from facility_app.accounts.permissions import SYSTEM
    from facility_app.facility.service import get_facility
    from facility_app.settlement import exports, views
    from facility_app.settlement import service as settlement
    from facility_app.settlement.months import require_ended

    if fmt and out is None:
        raise CliError("--export needs --out PATH")
    if out is not None and not fmt:
        raise CliError("--out needs --export csv|xlsx|html")
    url = migrated_database_url(load_settings())
    now = now_or(now_)
    with sessions(url) as factory, transaction(factory, write=not dry_run) as session:
        fac = get_facility(session)
        require_ended(fac, month, now)
        existing = settlement.get_settlement(session, fac, month)
        if existing is not None:
            claim = settlement.claim_from_settlement(existing)
            note = f"{month} was settled on {existing.settled_at:%Y-%m-%d %H:%M} UTC"
        elif dry_run:
            claim = settlement.compute_claim(session, fac, month)
            note = f"{month}: draft, not settled (--dry-run)"
        else:
            claim = settlement.claim_from_settlement(
                settlement.settle_month(session, SYSTEM, fac, month, now=now)
            )
            note = f"{month} settled and locked"
        body = views.settlement_body(session, fac, month) if as_json else None
    if fmt and out is not None:
        out.write_bytes(exports.export(claim, fmt))
    if body is not None:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(note)
    click.echo(f"service days {claim.service_days}, children {len(claim.lines)}")
    for t in claim.class_totals():
        click.echo(f"  {t.class_name}: {t.children} children, {t.amount} yuan")
    if claim.adjustments:
        click.echo(f"  adjustments of earlier months: {claim.adjustment_total} yuan")
    click.echo(f"total {claim.total} yuan")
    if claim.flagged:
        click.echo(f"warning: {len(claim.flagged)} children have a check-in without a check-out")
    if fmt and out is not None:
        click.echo(f"wrote {out}")
