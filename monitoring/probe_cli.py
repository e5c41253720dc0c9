"""`probe`: a click command that probes camera streams; also runnable on its own."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from monitoring.image import CameraImageChecker, ImageCheckConfig
from monitoring.probe import ProbeConfig, ProbeResult, probe_many

log = logging.getLogger(__name__)


def _image_verdict(result: ProbeResult) -> dict[str, object] | None:
    """Classify the burst's frames with absolute thresholds (no enrolled baseline here)."""
    if not result.frames:
        return None
    # One probe is all this command sees, so what the whole burst shows is raised at once
    # (persist_probes 1). Kept frames are seconds apart at most, and a still scene in H.264
    # can repeat pixels that long: within one burst only bit-identical frames are frozen.
    cfg = ImageCheckConfig(persist_probes=1, frozen_window=1, frozen_max_diff=0.0)
    return CameraImageChecker(cfg, name=result.url).check_burst(result.frames).to_dict()


def _read_urls(urls: tuple[str, ...], url_file: Path | None) -> list[str]:
    found = list(urls)
    if url_file is not None:
        for line in url_file.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    return found


@click.command("probe")
@click.argument("urls", nargs=-1)
@click.option(
    "--from-file",
    "url_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file with one stream URL per line (# comments allowed).",
)
@click.option(
    "--timeout", type=float, default=5.0, show_default=True, help="Open/read timeout (s)."
)
@click.option("--frames", type=int, default=25, show_default=True, help="Frames read per probe.")
@click.option("--workers", type=int, default=16, show_default=True, help="Probes at the same time.")
@click.option("--images/--no-images", default=True, show_default=True, help="Run image checks.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--verbose", is_flag=True, help="Keep OpenCV's and FFmpeg's own warnings.")
def probe_command(
    urls: tuple[str, ...],
    url_file: Path | None,
    timeout: float,
    frames: int,
    workers: int,
    images: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Probe camera streams (RTSP, HTTP/MJPEG or files): status, frame rate, resolution."""
    targets = _read_urls(urls, url_file)
    if not targets:
        raise click.UsageError("give at least one stream URL or --from-file")
    if not verbose:
        # The probe workers read these when they import OpenCV; our own result says why.
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    config = ProbeConfig(
        open_timeout_s=timeout, read_timeout_s=timeout, burst_frames=frames, max_workers=workers
    )
    results = probe_many(targets, config)
    rows = []
    for result in results:
        row = result.to_dict()
        if images:
            row["image"] = _image_verdict(result)
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            size = f"{row['width']}x{row['height']}" if row["width"] else "-"
            fps = f"{row['fps']:g} fps" if row["fps"] else "- fps"
            image = row.get("image")
            picture = f"  image: {image['status']}" if image else ""
            click.echo(f"{row['status']:<8} {size:>10} {fps:>10}  {row['url']}{picture}")
            click.echo(f"         {row['reason']}")
    if any(r.status != "ok" for r in results):
        sys.exit(1)


if __name__ == "__main__":
    probe_command()
