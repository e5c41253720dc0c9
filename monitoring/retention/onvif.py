"""ONVIF Profile G: ask an NVR what it recorded, and judge it like a folder scan.

``OnvifSource`` is a ``RecordingSource``: it calls the NVR's search service
(``GetRecordingSummary``, then ``FindRecordings`` and ``GetRecordingSearchResults`` until
the search is ``Completed``, then ``EndSearch``) with SOAP 1.2 over HTTP and a WS-Security
UsernameToken (PasswordDigest), and yields one ``Segment`` per recorded track time range
(video tracks; every track when a recording has no video track). ``check_onvif`` turns those
ranges into the same per-camera report as a folder scan: coverage, gaps, freshness, days.

Profile G reports one ``DataFrom``/``DataTo`` per track, so a hole inside one recording is
not visible here (only between recordings, which NVRs start anew after a restart); the
track ranges prove the span an NVR still holds. Every call has a bounded timeout, and the
whole check a deadline; any failure (unreachable, HTTP 401, SOAP fault, malformed XML, a
search that never completes) makes the report ``unknown`` with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitoring.retention.config import RetentionConfig
from monitoring.retention.layout import Segment
from monitoring.retention.report import RetentionReport, camera_report, worst

log = logging.getLogger(__name__)

SOAP = "http://www.w3.org/2003/05/soap-envelope"
TSE = "http://www.onvif.org/ver10/search/wsdl"
TT = "http://www.onvif.org/ver10/schema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
_NS = {"s": SOAP, "tse": TSE, "tt": TT}
_MAX_BODY = 8 * 1024 * 1024  # a search answer larger than this is not plausible


class OnvifError(Exception):
    """A call to the NVR failed; the message is the reason the report gives."""


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security PasswordDigest: Base64(SHA-1(nonce + created + password))."""
    raw = hashlib.sha1(nonce + created.encode() + password.encode()).digest()
    return base64.b64encode(raw).decode()


def envelope(body: ET.Element, username: str | None, password: str, now: float) -> bytes:
    """A SOAP 1.2 envelope around ``body``, with a UsernameToken when a user is given."""
    ET.register_namespace("s", SOAP)
    env = ET.Element(f"{{{SOAP}}}Envelope")
    if username:
        header = ET.SubElement(env, f"{{{SOAP}}}Header")
        sec = ET.SubElement(header, f"{{{WSSE}}}Security", {f"{{{SOAP}}}mustUnderstand": "true"})
        token = ET.SubElement(sec, f"{{{WSSE}}}UsernameToken")
        ET.SubElement(token, f"{{{WSSE}}}Username").text = username
        nonce = os.urandom(16)
        created = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pw = ET.SubElement(token, f"{{{WSSE}}}Password", {"Type": _DIGEST})
        pw.text = password_digest(nonce, created, password)
        nel = ET.SubElement(token, f"{{{WSSE}}}Nonce", {"EncodingType": _BASE64})
        nel.text = base64.b64encode(nonce).decode()
        ET.SubElement(token, f"{{{WSU}}}Created").text = created
    ET.SubElement(env, f"{{{SOAP}}}Body").append(body)
    return ET.tostring(env, encoding="utf-8", xml_declaration=True)


def _el(tag: str, text: str | None = None, *children: ET.Element) -> ET.Element:
    ns, name = tag.split(":")
    el = ET.Element(f"{{{_NS[ns]}}}{name}")
    if text is not None:
        el.text = text
    el.extend(children)
    return el


def parse_time(text: str | None) -> float | None:
    """An xs:dateTime (``Z`` or an offset; no zone read as UTC) as an epoch, or None."""
    if not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    try:
        at = datetime.fromisoformat(t)
    except ValueError:
        raise OnvifError(f"malformed response: bad time {text!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


@dataclass(frozen=True, slots=True)
class Track:
    """One recorded track's time range, as the NVR reports it."""

    camera: str
    recording: str
    track: str
    start: float
    end: float


class OnvifSource:
    """A recording source read from an NVR's ONVIF search service."""

    def __init__(
        self,
        search_url: str,
        username: str | None = None,
        password: str = "",
        *,
        timeout: float = 10.0,
        call_timeout: float = 5.0,
        max_results: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Point at the NVR's search service; ``timeout`` bounds the whole search."""
        self.url, self.username, self.password = search_url, username, password
        self.timeout, self.call_timeout, self.max_results = timeout, call_timeout, max_results
        self.clock = clock
        self._tracks: list[Track] | None = None
        self.summary: tuple[float | None, float | None, int] | None = None

    def call(self, operation: ET.Element, deadline: float) -> ET.Element:
        """POST one operation; the Body's first child of the answer, or OnvifError."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise OnvifError(f"timed out: the search took longer than {self.timeout:.0f} s")
        name = operation.tag.rsplit("}", 1)[-1]
        data = envelope(operation, self.username, self.password, self.clock())
        req = urllib.request.Request(
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{TSE}/{name}"'},
        )
        try:
            with urllib.request.urlopen(req, timeout=min(left, self.call_timeout)) as resp:
                body = resp.read(_MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise OnvifError(f"{name}: authentication failed (HTTP 401)") from None
            fault = _fault(exc.read(_MAX_BODY))
            raise OnvifError(f"{name}: HTTP {exc.code}{': ' + fault if fault else ''}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise OnvifError(f"{name}: timed out") from None
            raise OnvifError(f"{name}: NVR unreachable ({reason})") from None
        except TimeoutError:
            raise OnvifError(f"{name}: timed out") from None
        except OSError as exc:
            raise OnvifError(f"{name}: NVR unreachable ({exc})") from None
        if len(body) > _MAX_BODY:
            raise OnvifError(f"{name}: answer larger than {_MAX_BODY} bytes")
        root = _parse(body, name)
        fault = root.find("s:Body/s:Fault", _NS)
        if fault is not None:
            raise OnvifError(f"{name}: SOAP fault: {_fault_text(fault)}")
        answer = root.find("s:Body/*", _NS)
        if answer is None:
            raise OnvifError(f"malformed response to {name}: empty Body")
        return answer

    def tracks(self) -> list[Track]:
        """Every recorded track range (searched once, then kept)."""
        if self._tracks is None:
            self._tracks = self._search()
        return self._tracks

    def _search(self) -> list[Track]:
        deadline = time.monotonic() + self.timeout
        summary = self.call(_el("tse:GetRecordingSummary"), deadline)
        s = summary.find("tse:Summary", _NS)
        if s is None:
            raise OnvifError("malformed response to GetRecordingSummary: no Summary")
        number = s.findtext("tt:NumberRecordings", "0", _NS)
        try:
            count = int(number)
        except ValueError:
            raise OnvifError(f"malformed response: NumberRecordings {number!r}") from None
        self.summary = (
            parse_time(s.findtext("tt:DataFrom", None, _NS)),
            parse_time(s.findtext("tt:DataUntil", None, _NS)),
            count,
        )
        if count == 0:
            return []
        found = self.call(
            _el(
                "tse:FindRecordings",
                None,
                _el("tse:Scope"),
                _el("tse:MaxMatches", str(self.max_results)),
                _el("tse:KeepAliveTime", f"PT{max(1, round(self.timeout))}S"),
            ),
            deadline,
        )
        token = found.findtext("tse:SearchToken", None, _NS)
        if not token:
            raise OnvifError("malformed response to FindRecordings: no SearchToken")
        out: list[Track] = []
        try:
            while True:
                res = self.call(
                    _el(
                        "tse:GetRecordingSearchResults",
                        None,
                        _el("tse:SearchToken", token),
                        _el("tse:MinResults", "1"),
                        _el("tse:MaxResults", str(self.max_results)),
                        _el("tse:WaitTime", "PT1S"),
                    ),
                    deadline,
                )
                results = res.find("tse:ResultList", _NS)
                if results is None:
                    raise OnvifError("malformed response: no ResultList")
                for info in results.findall("tt:RecordingInformation", _NS):
                    out.extend(_tracks(info))
                state = results.findtext("tt:SearchState", "", _NS)
                if state == "Completed":
                    break
                if state not in ("Searching", "Queued"):
                    raise OnvifError(f"malformed response: SearchState {state!r}")
        finally:
            try:  # free the NVR's search session; its failure changes no answer
                self.call(_el("tse:EndSearch", None, _el("tse:SearchToken", token)), deadline)
            except OnvifError as exc:
                log.info("EndSearch failed: %s", exc)
        return out

    def cameras(self) -> Iterable[str]:
        """The recorded sources' names."""
        return sorted({t.camera for t in self.tracks()})

    def segments(self, camera: str) -> Iterable[Segment]:
        """One segment per track range of the camera (path = recording/track token)."""
        return [
            Segment(
                camera=t.camera,
                start=datetime.fromtimestamp(t.start, UTC),
                path=f"{t.recording}/{t.track}",
                size=0,
                end=datetime.fromtimestamp(t.end, UTC),
                duration=t.end - t.start,
            )
            for t in self.tracks()
            if t.camera == camera
        ]


def _parse(body: bytes, name: str) -> ET.Element:
    if b"<!DOCTYPE" in body[:4096] or b"<!ENTITY" in body:
        raise OnvifError(f"malformed response to {name}: DTDs are refused")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise OnvifError(f"malformed XML in the answer to {name}: {exc}") from None


def _fault_text(fault: ET.Element) -> str:
    code = " / ".join((v.text or "").strip() for v in fault.findall(".//s:Value", _NS))
    reason = (fault.findtext("s:Reason/s:Text", "", _NS) or "").strip()
    return f"{code} {reason}".strip() or "no reason given"


def _fault(body: bytes) -> str:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return ""
    fault = root.find("s:Body/s:Fault", _NS)
    return _fault_text(fault) if fault is not None else ""


def _tracks(info: ET.Element) -> list[Track]:
    token = info.findtext("tt:RecordingToken", "", _NS).strip()
    if not token:
        raise OnvifError("malformed response: RecordingInformation without RecordingToken")
    source = info.find("tt:Source", _NS)
    name = ""
    if source is not None:
        name = source.findtext("tt:Name", "", _NS) or source.findtext("tt:SourceId", "", _NS)
    camera = name.strip() or token
    tracks = info.findall("tt:Track", _NS)
    video = [t for t in tracks if t.findtext("tt:TrackType", "", _NS) == "Video"]
    out = []
    for t in video or tracks:
        start = parse_time(t.findtext("tt:DataFrom", None, _NS))
        end = parse_time(t.findtext("tt:DataTo", None, _NS))
        if start is None or end is None or end < start:
            continue  # an empty track holds nothing
        out.append(Track(camera, token, t.findtext("tt:TrackToken", "", _NS), start, end))
    return out


def check_onvif(
    source: OnvifSource,
    now: datetime,
    *,
    config: RetentionConfig | None = None,
    cameras: Iterable[str] = (),
) -> RetentionReport:
    """Judge every camera the NVR recorded (or only ``cameras``) as of ``now``."""
    config = config or RetentionConfig()
    t = now.timestamp()
    rep = RetentionReport(store=source.url, layout="onvif", now=t, zone=config.zone)
    rep.index = "none (the NVR answers for its own recordings)"
    try:
        tracks = source.tracks()
    except OnvifError as exc:
        log.warning("ONVIF search at %s failed: %s", source.url, exc)
        rep.status, rep.reasons = "unknown", [f"NVR search could not run: {exc}"]
        return rep
    per_cam: dict[str, list[tuple[dict, str]]] = {}
    for tr in tracks:
        part = {"runs": [[tr.start, tr.end]], "bytes": 0, "hours": {}, "rate": None, "bad": []}
        if tr.start > t + config.future_tolerance_seconds:
            part["runs"], part["future"] = [], [[f"{tr.recording}/{tr.track}", tr.start, tr.end]]
        per_cam.setdefault(tr.camera, []).append((part, f"{tr.recording}/{tr.track}"))
    wanted = list(cameras) or sorted(per_cam)
    rep.cameras = [camera_report(c, per_cam.get(c, []), [], t, config) for c in wanted]
    rep.stats = {"tracks": len(tracks)}
    statuses = [c.status for c in rep.cameras]
    reasons = [f"{c.camera}: {c.reasons[0]}" for c in rep.cameras if c.status != "pass"]
    if not rep.cameras:
        statuses, reasons = ["unknown"], ["the NVR reports no recordings"]
    # No bytes: the store forecast needs the NVR's disk figures, which Profile G lacks.
    rep.status = worst(statuses)
    rep.reasons = reasons or ["every camera has unbroken, live recordings"]
    return rep
