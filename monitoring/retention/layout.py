"""Where segments live: Frigate's layout, strftime templates, and the adapter interface.

A layout turns a path relative to the store into ``(camera, start)`` or says why it cannot.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)


class BadName(ValueError):
    """A path whose name does not follow the layout."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One recorded segment: start (UTC), end or duration when known, path and size."""

    camera: str
    start: datetime
    path: str
    size: int
    end: datetime | None = None
    duration: float | None = None


class RecordingSource(Protocol):
    """Anything that can list a camera's recorded segments.

    Two implementations: ``monitoring.retention.source.FolderSource`` (a folder scan; one
    ``Segment`` per unbroken run of files) and ``monitoring.retention.onvif.OnvifSource``
    (an NVR asked over ONVIF Profile G: ``GetRecordingSummary``, then ``FindRecordings``
    and ``GetRecordingSearchResults``; one ``Segment`` per recorded track range, ``path``
    the recording and track tokens, ``size`` 0, ``end`` always set).
    """

    def cameras(self) -> Iterable[str]:
        """The names of the cameras the source knows."""
        ...

    def segments(self, camera: str) -> Iterable[Segment]:
        """The camera's segments in any order."""
        ...


class Layout(Protocol):
    """A path naming scheme of a folder store."""

    name: str
    subdir: str | None

    def parse(self, rel: str) -> tuple[str, float]:
        """``(camera, start as a UTC epoch)`` for a path relative to the store root."""
        ...


class FrigateLayout:
    """Frigate: ``recordings/%Y-%m-%d/%H/<camera>/%M.%S.mp4``, times in UTC.

    The store given may be Frigate's media folder (holding ``recordings/``) or
    ``recordings`` itself.
    """

    name = "frigate"
    subdir: str | None = "recordings"

    def __init__(self) -> None:
        """Start with an empty cache of hour folders."""
        # "<date>/<hour>" -> epoch of the hour: a folder's 60-360 files share it, and
        # building a datetime per file was most of the cold scan's parse time.
        self._hours: dict[str, float] = {}

    def parse(self, rel: str) -> tuple[str, float]:
        """Parse ``2026-03-10/09/door/15.30.mp4`` (sliced by hand: this runs per file)."""
        parts = rel.split("/")
        if len(parts) != 4:
            raise BadName(f"expected <date>/<hour>/<camera>/<MM.SS>.mp4, got {rel}")
        day, hour, camera, fname = parts
        if len(fname) != 9 or fname[2] != "." or not fname.endswith(".mp4"):
            raise BadName(f"file name {fname!r} is not MM.SS.mp4")
        key = f"{day}/{hour}"
        base = self._hours.get(key)
        try:
            if base is None:
                if len(day) != 10 or day[4] != "-" or day[7] != "-" or len(hour) != 2:
                    raise ValueError(f"{day}/{hour} is not YYYY-MM-DD/HH")
                y, mo, d = int(day[0:4]), int(day[5:7]), int(day[8:10])
                base = datetime(y, mo, d, int(hour), tzinfo=UTC).timestamp()
                self._hours[key] = base
            mm, ss = fname[0:2], fname[3:5]
            if not (mm.isdigit() and ss.isdigit()) or int(mm) > 59 or int(ss) > 59:
                raise ValueError(f"{fname} is not a minute and second")
        except ValueError as exc:
            raise BadName(f"{rel} does not hold a valid date and time ({exc})") from None
        return camera, base + int(mm) * 60 + int(ss)

    def folder_base(self, rel: str) -> tuple[str, float] | None:
        """``(camera, hour epoch)`` of a ``<date>/<hour>/<camera>`` folder, else None."""
        parts = rel.split("/")
        if len(parts) != 3:
            return None
        base = self._hours.get(f"{parts[0]}/{parts[1]}")  # only valid hours are cached
        if base is None:
            try:
                _, base = self.parse(f"{rel}/00.00.mp4")
            except BadName:
                return None
        return parts[2], base

    def folder_starts(self, rel: str, names: list[str]) -> tuple[str, float, list] | None:
        """``(camera, hour epoch, offsets)`` for a camera folder's file names, in one go.

        ``offsets[i]`` is the start of ``names[i]`` in seconds after the hour, or None when
        the name is not ``MM.SS.mp4``. None when ``rel`` is not ``<date>/<hour>/<camera>``
        with a valid hour (the caller then judges each name with ``parse``).
        """
        got = self.folder_base(rel)
        if got is None:
            return None
        # A table lookup per name, at C speed: the scan's per-file Python work.
        return got[0], got[1], list(map(_OFFSETS.get, names))


# "MM.SS.mp4" -> seconds after the hour, for every valid name.
_OFFSETS = {f"{m:02d}.{s:02d}.mp4": m * 60 + s for m in range(60) for s in range(60)}


# strftime directive -> regex for the ones recording names use.
_DIRECTIVES = {
    "Y": r"(?P<Y>\d{4})",
    "m": r"(?P<m>\d{2})",
    "d": r"(?P<d>\d{2})",
    "H": r"(?P<H>\d{2})",
    "M": r"(?P<M>\d{2})",
    "S": r"(?P<S>\d{2})",
    "y": r"(?P<y>\d{2})",
    "j": r"(?P<j>\d{3})",
    "%": "%",
}


class TemplateLayout:
    """A strftime path template with ``{camera}``, for NVRs that export to a folder.

    Examples: ``{camera}/%Y-%m-%d/%H-%M-%S.mp4`` (one folder per camera and day),
    ``%Y%m%d/{camera}_%Y%m%d%H%M%S.mp4`` (Hikvision-style flat day folders),
    ``ch01`` style channels work the same: ``{camera}/%Y/%m/%d/%H%M%S.mp4``. Directives
    supported: %Y %y %m %d %j %H %M %S %%. A directive may repeat if the values agree.
    Times are read in ``zone`` (default UTC).
    """

    name = "template"
    subdir: str | None = None

    def __init__(self, template: str, zone: str = "UTC") -> None:
        """Compile the template; raise ValueError when it lacks ``{camera}`` or is unusable."""
        if "{camera}" not in template:
            raise ValueError("the template needs {camera}")
        self.template = template
        self.zone = ZoneInfo(zone)
        pattern, seen = "", set()
        i = 0
        while i < len(template):
            if template.startswith("{camera}", i):
                pattern += r"(?P<camera>[^/]+)" if "camera" not in seen else r"(?P=camera)"
                seen.add("camera")
                i += len("{camera}")
            elif template[i] == "%" and i + 1 < len(template):
                code = template[i + 1]
                if code not in _DIRECTIVES:
                    raise ValueError(f"unsupported directive %{code} in template")
                if code in seen:
                    pattern += f"(?P={code})"
                else:
                    pattern += _DIRECTIVES[code]
                    seen.add(code)
                i += 2
            else:
                pattern += re.escape(template[i])
                i += 1
        if not {"H", "M"} <= seen or not ({"Y", "m", "d"} <= seen or {"y", "m", "d"} <= seen):
            raise ValueError("the template needs at least a date (%Y %m %d), %H and %M")
        self._re = re.compile(pattern + r"\Z")

    def parse(self, rel: str) -> tuple[str, float]:
        """Match the relative path against the template."""
        m = self._re.match(rel)
        if m is None:
            raise BadName(f"{rel} does not match the template {self.template}")
        g = m.groupdict()
        try:
            year = int(g["Y"]) if g.get("Y") else 2000 + int(g["y"])
            at = datetime(
                year,
                int(g["m"]),
                int(g["d"]),
                int(g["H"]),
                int(g["M"]),
                int(g.get("S") or 0),
                tzinfo=self.zone,
            )
        except ValueError as exc:
            raise BadName(f"{rel} does not hold a valid date and time ({exc})") from None
        return g["camera"], at.timestamp()
