"""Every threshold of the retention proof, with its documented default."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


class RetentionConfig(BaseModel):
    """Thresholds for scanning a recording store; defaults follow policy/RULES.md (90 days)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required_days: int = Field(
        90, ge=1, description="Days of unbroken recordings the policy requires."
    )
    gap_tolerance_seconds: float = Field(
        30.0,
        ge=0,
        description="A hole between two segments up to this long is not a gap "
        "(segment boundaries, NVR restarts of a few seconds).",
    )
    join_seconds: float = Field(
        1.0,
        ge=0,
        description="Segments this close are stored as one run in the index (rounding of "
        "names and durations); holes longer than this still count against coverage.",
    )
    freshness_seconds: float = Field(
        600.0,
        gt=0,
        description="Recording is live when the newest segment ends at most this long ago.",
    )
    future_tolerance_seconds: float = Field(
        300.0,
        ge=0,
        description="A segment starting more than this after now is flagged as clock skew "
        "and left out of coverage.",
    )
    name_skew_seconds: float = Field(
        120.0,
        ge=0,
        description="Largest difference between the time in a file's name and the creation "
        "time in its mp4 header before the two are reported as disagreeing.",
    )
    mtime_skew_seconds: float | None = Field(
        3600.0,
        description="Largest distance of a file's mtime outside [start, end + this]; None "
        "turns the check off (for stores filled by copying exports).",
    )
    fallback_segment_seconds: float = Field(
        10.0,
        gt=0,
        description="Length assumed for a segment whose duration is unknown and whose folder "
        "has no other segment to measure spacing from (Frigate writes 10 s segments).",
    )
    bitrate_tolerance: float = Field(
        4.0,
        gt=1,
        description="A segment whose bytes/second is more than this factor above or below "
        "its camera's median is reported as off the camera's bitrate.",
    )
    bitrate_min_seconds: float = Field(
        2.0,
        ge=0,
        description="Segments shorter than this are not judged by bitrate (too noisy).",
    )
    forecast_margin_days: int = Field(
        7, ge=0, description="Warn when the store holds fewer than required_days + this."
    )
    rate_window_days: int = Field(
        7, ge=1, description="Days of recent writes the write-rate forecast is measured on."
    )
    settle_seconds: float = Field(
        300.0,
        ge=0,
        description="A folder modified within this long before now is always re-listed, "
        "because files in it may still be growing.",
    )
    size_check_days: float | None = Field(
        1.0,
        ge=0,
        description="When names are trusted (no mp4 header read), a cold scan sizes files "
        "(one stat each: zero-length, bitrate, mtime checks) only in folders modified within "
        "this many days; older folders are listed by name (coverage only) and sized later by "
        "the verify pass, newest first. The write rate is measured on the sized part of the "
        "rate window until the verify pass has covered it. None: size every file.",
    )
    verify_folders_per_scan: int = Field(
        16,
        ge=0,
        description="How many folders listed by name only each scan sizes, newest first, "
        "so zero-length, bitrate and mtime checks reach the whole store over later scans.",
    )
    verify_files_per_scan: int = Field(
        240,
        ge=0,
        description="The verify pass starts no new folder once it has sized this many files "
        "in a scan (four folders of 1-minute segments), so that a rescan stays a small "
        "fraction of a cold scan; 0 turns the pass off.",
    )
    recheck_slots: int = Field(
        16,
        ge=1,
        description="A rescan lstats the store's root, every folder modified within "
        "size_check_days and every folder not rolled up yet, but only one in this many of "
        "the other (old, settled) folders, parents included, in turn: a file deleted from "
        "or a folder restored into an old folder is noticed within this many rescans. "
        "1: every folder on every rescan.",
    )
    find_command: str | None = Field(
        "find",
        description="GNU find, which lists the store for a cold scan in a second process "
        "while the scan summarises what it prints (a cold scan then costs little more than "
        "find itself); the scan lists everything itself when this is None or when find "
        "is missing, is not GNU find or fails.",
    )
    list_timeout_seconds: float = Field(
        300.0,
        gt=0,
        description="Longest silence from find during a cold scan; then find is stopped and "
        "the scan reports unknown (a hung mount would hang a listing here as well).",
    )
    zone: str = Field(
        "Asia/Shanghai",
        description="Time zone of the per-day coverage calendar (days are local days).",
    )
    template_zone: str = Field(
        "UTC", description="Time zone of the times in names under a template layout."
    )
    parse_mp4: bool | None = Field(
        None,
        description="Read mp4 headers of new files (duration, truncation, creation time). "
        "None: yes for template layouts, no for Frigate, whose names are exact start times "
        "and whose segments are written complete (moved out of its cache).",
    )
