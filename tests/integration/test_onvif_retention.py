"""ONVIF Profile G retention against a small local NVR stand-in with canned SOAP answers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitoring.retention import RetentionConfig
from monitoring.retention.onvif import OnvifSource, check_onvif, password_digest
from monitoring.retention.report import iso

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CFG = RetentionConfig(required_days=2)
USER, PASSWORD = "auditor", "s3cret-pass"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tse": "http://www.onvif.org/ver10/search/wsdl",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}

# Answers written from the ONVIF Recording Search Service specification (ver10 search
# WSDL, ver10 schema): a summary, a search token, then results in two pages.
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:tse="http://www.onvif.org/ver10/search/wsdl"'
    ' xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body>'
)
TAIL = "</env:Body></env:Envelope>"
SUMMARY = (
    "<tse:GetRecordingSummaryResponse><tse:Summary>"
    "<tt:DataFrom>2026-03-08T00:00:00Z</tt:DataFrom>"
    "<tt:DataUntil>2026-03-10T11:58:00Z</tt:DataUntil>"
    "<tt:NumberRecordings>3</tt:NumberRecordings>"
    "</tse:Summary></tse:GetRecordingSummaryResponse>"
)
FOUND = (
    "<tse:FindRecordingsResponse><tse:SearchToken>search-17</tse:SearchToken>"
    "</tse:FindRecordingsResponse>"
)
ENDED = (
    "<tse:EndSearchResponse><tse:Endpoint>2026-03-10T12:00:00Z</tse:Endpoint>"
    "</tse:EndSearchResponse>"
)


def recording(token: str, source: str, video: tuple[str, str], audio: tuple[str, str]) -> str:
    """One RecordingInformation with a video and an audio track."""
    tracks = "".join(
        f"<tt:Track><tt:TrackToken>{kind.upper()}001</tt:TrackToken>"
        f"<tt:TrackType>{kind}</tt:TrackType><tt:Description>{kind}</tt:Description>"
        f"<tt:DataFrom>{a}</tt:DataFrom><tt:DataTo>{b}</tt:DataTo></tt:Track>"
        for kind, (a, b) in (("Video", video), ("Audio", audio))
    )
    return (
        f"<tt:RecordingInformation><tt:RecordingToken>{token}</tt:RecordingToken>"
        f"<tt:Source><tt:SourceId>rtsp://10.0.0.9/{source}</tt:SourceId><tt:Name>{source}</tt:Name>"
        f"<tt:Location>site</tt:Location><tt:Description/><tt:Address/></tt:Source>"
        f"<tt:EarliestRecording>{video[0]}</tt:EarliestRecording>"
        f"<tt:LatestRecording>{video[1]}</tt:LatestRecording><tt:Content/>"
        f"{tracks}<tt:RecordingStatus>Recording</tt:RecordingStatus></tt:RecordingInformation>"
    )


def results(state: str, *infos: str) -> str:
    return (
        "<tse:GetRecordingSearchResultsResponse><tse:ResultList>"
        f"<tt:SearchState>{state}</tt:SearchState>{''.join(infos)}"
        "</tse:ResultList></tse:GetRecordingSearchResultsResponse>"
    )


PAGES = [
    results(
        "Searching",
        recording(
            "rec-door",
            "door",
            ("2026-03-08T00:00:00Z", "2026-03-10T11:58:00Z"),
            ("2026-03-09T00:00:00Z", "2026-03-10T11:58:00Z"),
        ),
    ),
    results(
        "Completed",
        # hall: the NVR restarted, a new recording began an hour after the first ended
        recording(
            "rec-hall-1",
            "hall",
            ("2026-03-08T10:00:00Z", "2026-03-09T04:00:00Z"),
            ("2026-03-08T10:00:00Z", "2026-03-09T04:00:00Z"),
        ),
        recording(
            "rec-hall-2",
            "hall",
            ("2026-03-09T05:00:00+00:00", "2026-03-10T11:59:30Z"),
            ("2026-03-09T05:00:00Z", "2026-03-10T11:59:30Z"),
        ),
    ),
]
FAULT = (
    "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>"
    "<env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code>"
    '<env:Reason><env:Text xml:lang="en">Sender not authorized</env:Text></env:Reason>'
    "</env:Fault>"
)


class Nvr(http.server.BaseHTTPRequestHandler):
    """Checks the UsernameToken digest and answers by operation; ``mode`` picks a failure."""

    mode = "ok"
    calls: list[str] = []
    page = 0

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.mode == "401":
            return self.answer(401, "")
        if self.mode == "hang":
            time.sleep(3)
            return self.answer(200, HEAD + SUMMARY + TAIL)
        assert self.headers["Content-Type"].startswith("application/soap+xml")
        env = ET.fromstring(body)
        op = env.find("s:Body/*", NS)
        name = op.tag.rsplit("}", 1)[1]
        type(self).calls.append(name)
        if not self.authorised(env):
            return self.answer(400, HEAD + FAULT + TAIL)
        if self.mode == "malformed":
            return self.answer(200, HEAD + "<tse:GetRecordingSummaryResponse><tse:Summ")
        if name == "GetRecordingSummary":
            return self.answer(200, HEAD + SUMMARY + TAIL)
        if name == "FindRecordings":
            assert op.findtext("tse:MaxMatches", None, NS) is not None
            return self.answer(200, HEAD + FOUND + TAIL)
        if name == "GetRecordingSearchResults":
            assert op.findtext("tse:SearchToken", None, NS) == "search-17"
            page = PAGES[type(self).page]
            type(self).page += 1
            return self.answer(200, HEAD + page + TAIL)
        if name == "EndSearch":
            return self.answer(200, HEAD + ENDED + TAIL)
        return self.answer(400, HEAD + FAULT + TAIL)

    def authorised(self, env: ET.Element) -> bool:
        token = env.find("s:Header/wsse:Security/wsse:UsernameToken", NS)
        if token is None or token.findtext("wsse:Username", None, NS) != USER:
            return False
        nonce = base64.b64decode(token.findtext("wsse:Nonce", "", NS))
        created = token.findtext("wsu:Created", "", NS)
        expected = base64.b64encode(
            hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest()
        ).decode()
        return len(nonce) == 16 and token.findtext("wsse:Password", "", NS) == expected

    def answer(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout case)
            self.wfile.write(data)


@pytest.fixture
def nvr() -> Iterator[tuple[str, type[Nvr]]]:
    handler = type("NvrRun", (Nvr,), {"calls": [], "page": 0, "mode": "ok"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/onvif/search_service", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def z(s: str) -> str:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).isoformat()


def test_password_digest_matches_a_hand_computed_value() -> None:
    nonce = bytes(range(16))
    created = "2026-03-10T12:00:00Z"
    raw = nonce + b"2026-03-10T12:00:00Zs3cret-pass"
    assert (
        password_digest(nonce, created, PASSWORD)
        == base64.b64encode(hashlib.sha1(raw).digest()).decode()
    )


def test_track_ranges_become_coverage_and_gaps(nvr) -> None:
    url, handler = nvr
    source = OnvifSource(url, USER, PASSWORD, timeout=5)
    rep = check_onvif(source, NOW, config=CFG)
    assert handler.calls == [
        "GetRecordingSummary",
        "FindRecordings",
        "GetRecordingSearchResults",
        "GetRecordingSearchResults",
        "EndSearch",
    ]
    assert source.summary == (
        datetime(2026, 3, 8, tzinfo=UTC).timestamp(),
        datetime(2026, 3, 10, 11, 58, tzinfo=UTC).timestamp(),
        3,
    )
    door, hall = rep.cameras
    # door: one video track 03-08 00:00 .. 03-10 11:58; the audio track is ignored.
    assert door.camera == "door" and door.gaps == [] and door.fresh
    assert iso(door.unbroken_since) == z("2026-03-08T00:00")
    assert door.unbroken_days == pytest.approx(2.5)  # unbroken since 03-08 00:00 until now
    assert door.status == "pass"
    # hall: two recordings with an hour between them.
    assert [(iso(g.start), iso(g.end), g.seconds) for g in hall.gaps] == [
        (z("2026-03-09T04:00"), z("2026-03-09T05:00"), 3600.0)
    ]
    assert iso(hall.unbroken_since) == z("2026-03-09T05:00")
    assert hall.days["2026-03-09"] == pytest.approx(100 * 23 / 24, abs=1e-3)
    assert hall.status == "fail" and rep.status == "fail"
    assert [s.path for s in source.segments("hall")] == [
        "rec-hall-1/VIDEO001",
        "rec-hall-2/VIDEO001",
    ]


@pytest.mark.parametrize(
    ("mode", "password", "why"),
    [
        ("401", PASSWORD, "GetRecordingSummary: authentication failed (HTTP 401)"),
        ("ok", "wrong", "HTTP 400: env:Sender / ter:NotAuthorized Sender not authorized"),
        ("malformed", PASSWORD, "malformed XML in the answer to GetRecordingSummary"),
        ("hang", PASSWORD, "GetRecordingSummary: timed out"),
    ],
)
def test_failures_are_unknown_with_the_reason(nvr, mode, password, why) -> None:
    url, handler = nvr
    handler.mode = mode
    started = time.monotonic()
    rep = check_onvif(OnvifSource(url, USER, password, timeout=1, call_timeout=1), NOW, config=CFG)
    assert time.monotonic() - started < 2.5  # bounded, even when the NVR hangs
    assert rep.status == "unknown" and rep.cameras == []
    assert why in rep.reasons[0]


def test_unreachable_nvr_is_unknown() -> None:
    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rep = check_onvif(OnvifSource(f"http://127.0.0.1:{port}/onvif", USER, PASSWORD), NOW)
    assert rep.status == "unknown"
    assert "NVR unreachable" in rep.reasons[0]
