"""Camera health reasons in the user's language.

The monitor writes its reasons in English (they are read in logs and by the command line
too). They come from a small set of sentences, so the pages match each part against them
and say it again through the translations; a part that matches none is shown as written.
The picture's own detail is explained from structured findings (``cctv_picture``), so here
it is named only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from .cctv_picture import PICTURE

log = logging.getLogger(__name__)

Say = Callable[[dict[str, str]], str]


def _stream_status(status: str) -> str:
    return {"failed": _("failed"), "timeout": _("timed out"), "unknown": _("unknown")}.get(
        status, status
    )


_PATTERNS: list[tuple[re.Pattern[str], Say]] = [
    (
        re.compile(r"probe could not run: (?P<why>.*)"),
        lambda p: _("Could not check: %(why)s", **p),
    ),
    (
        re.compile(r"the file is not a readable video: (?P<why>.*)"),
        lambda p: _("The file is not a readable video: %(why)s", **p),
    ),
    (
        re.compile(r"stream (?P<status>\w+): (?P<why>.*)"),
        lambda p: _("Stream %(status)s: %(why)s", **p),
    ),
    (
        re.compile(r"frame rate not measurable"),
        lambda p: _("the frame rate could not be measured"),
    ),
    (
        re.compile(r"frame rate (?P<fps>[\d.]+) fps < (?P<min>[\d.]+) fps"),
        lambda p: _("frame rate %(fps)s fps, below %(min)s fps", **p),
    ),
    (
        re.compile(r"resolution (?P<size>\d+x\d+) < (?P<min>\d+x\d+)"),
        lambda p: _("resolution %(size)s, below %(min)s", **p),
    ),
    (
        re.compile(r"no answer within the open timeout \((?P<s>[\d.]+) s\)"),
        lambda p: _("no answer within %(s)s s", **p),
    ),
    (
        re.compile(r"could not open the stream after (?P<s>[\d.]+) s.*"),
        lambda p: _(
            "could not open the stream after %(s)s s (refused, not found or not video)", **p
        ),
    ),
    (
        re.compile(r"probe error: (?P<kind>\w+)"),
        lambda p: _("the check failed (%(kind)s)", **p),
    ),
    (
        re.compile(r"opened but no frame arrived within the read timeout \((?P<s>[\d.]+) s\)"),
        lambda p: _("opened, but no picture arrived within %(s)s s", **p),
    ),
    (
        re.compile(r"only (?P<n>\d+) frames? before the stream ended or stalled"),
        lambda p: _("only %(n)s frame before the stream stopped", **p),
    ),
    (
        re.compile(r"(?P<n>\d+) frames, (?P<size>\d+x\d+) at (?P<fps>[\d.]+) fps"),
        lambda p: _("%(n)s frames, %(size)s at %(fps)s fps", **p),
    ),
    (
        re.compile(r"probe process died \(exit code (?P<code>-?\d+)\)"),
        lambda p: _("the check stopped unexpectedly (exit code %(code)s)", **p),
    ),
    (
        re.compile(r"probe timed out: no result within (?P<s>[\d.]+) s"),
        lambda p: _("no result within %(s)s s", **p),
    ),
    (
        re.compile(r"last probe (?P<age>\d+) s ago, older than (?P<limit>[\d.]+) s \(was \w+\)"),
        lambda p: _("the last check was %(age)s s ago, older than %(limit)s s", **p),
    ),
    (
        re.compile(r"last probe is dated in the future \(clock skew\)"),
        lambda p: _("the last check is dated in the future (clock skew)"),
    ),
    # Retention (recordings kept for the required days).
    (
        re.compile(r"no playable recordings found"),
        lambda p: _("no playable recordings found"),
    ),
    (
        re.compile(r"no recordings found \(empty store or wrong layout\?\)"),
        lambda p: _("no recordings found (empty folder or wrong layout?)"),
    ),
    (re.compile(r"the NVR reports no recordings"), lambda p: _("the NVR reports no recordings")),
    (re.compile(r"no retention scan"), lambda p: _("no recording scan yet")),
    (
        re.compile(
            r"not recording: the newest segment ended (?P<s>\d+) s ago "
            r"\(freshness (?P<limit>\d+) s\)"
        ),
        lambda p: _("not recording: the newest segment ended %(s)s s ago", **p),
    ),
    (
        re.compile(
            r"unbroken coverage (?P<days>[\d.]+) days since (?P<since>.+), under the required "
            r"(?P<required>\d+)"
        ),
        lambda p: _("unbroken recordings for %(days)s days, under the required %(required)s", **p),
    ),
    (
        re.compile(r"unbroken for (?P<days>[\d.]+) days, live"),
        lambda p: _("unbroken recordings for %(days)s days, recording now", **p),
    ),
    (
        re.compile(r"(?P<n>\d+) bad segment\(s\)"),
        lambda p: _("%(n)s damaged recording file(s)", **p),
    ),
    (
        re.compile(r"(?P<n>\d+) deletion\(s\) of segments younger than (?P<days>\d+) days"),
        lambda p: _("%(n)s deletion(s) of recordings younger than %(days)s days", **p),
    ),
    (
        re.compile(r"(?P<n>\d+) file\(s\) or folder\(s\) could not be used"),
        lambda p: _("%(n)s file(s) or folder(s) could not be read", **p),
    ),
    (
        re.compile(r"index (?P<status>\w+): deletion audit not possible"),
        lambda p: _("the index is unavailable: deletions cannot be checked"),
    ),
    (
        re.compile(r"forecast (?P<status>\w+): (?P<why>.*)"),
        lambda p: _("storage forecast: %(why)s", why=p["why"]),
    ),
    (
        re.compile(
            r"the store holds (?P<days>[\d.]+) days at (?P<rate>[\d.]+) GB/day, under (?P<need>\d+)"
            r" days .*"
        ),
        lambda p: _("the disk holds %(days)s days at %(rate)s GB a day, under %(need)s days", **p),
    ),
    (
        re.compile(
            r"the store holds (?P<days>[\d.]+) days at (?P<rate>[\d.]+) GB/day \(≥ (?P<need>\d+)\)"
        ),
        lambda p: _("the disk holds %(days)s days at %(rate)s GB a day", **p),
    ),
    (
        re.compile(r"no writes measured in the rate window"),
        lambda p: _("no recent writes to measure"),
    ),
    (re.compile(r"camera disabled"), lambda p: _("camera disabled")),
    (re.compile(r"never probed"), lambda p: _("not checked yet")),
    # Last: a reason about one camera of several ("yard: not recording …").
    (
        re.compile(r"(?P<camera>[^:;]{1,60}): (?P<why>.*)"),
        lambda p: _("%(camera)s: %(why)s", **p),
    ),
]

# The picture's part starts here and runs to the end (its own detail may contain "; ").
_PICTURE = re.compile(r"(?:^|; )image (?:(\w+) suspected|(\w+))\b")


def say(text: str) -> str:
    """One reason part in the user's language, or as written when it is not a known one."""
    text = text.strip()
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            params = match.groupdict()
            # A nested reason is translated in turn; a stream status gets its word.
            if "why" in params:
                params["why"] = say(params["why"])
            if "status" in params:
                params["status"] = _stream_status(params["status"])
            return render(params)
    return text


def reasons_text(reasons: Any) -> str:
    """A list of reasons (a retention scan's) in the user's language, one sentence."""
    return "；".join(say(str(r)) for r in reasons or []) or "—"


def camera_reason(reason: Any) -> str:
    """A camera's health reason in the user's language."""
    text = str(reason or "")
    picture = ""
    found = _PICTURE.search(text)
    if found:
        text = text[: found.start()]
        suspected, status = found[1], found[2]
        if suspected:
            picture = _("suspected: %(condition)s", condition=PICTURE.get(suspected, suspected))
        else:
            picture = str(PICTURE.get(status, status))
    parts = [say(p) for p in text.split("; ") if p.strip()]
    if picture:
        parts.append(picture)
    return "；".join(parts) if parts else "—"
