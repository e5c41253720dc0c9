"""Stream URLs: masking credentials and checking the scheme, without importing OpenCV."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Schemes a camera stream may use; a bare absolute path is a file too.
SCHEMES = ("rtsp", "rtsps", "http", "https", "file")
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def mask_url(url: str) -> str:
    """The URL with any user:password@ replaced, safe to log, store and show."""
    return _USERINFO.sub(r"\g<scheme>***@", url)


def url_problem(url: str) -> str | None:
    """Why a stream URL is unusable (a short English reason), or None when it is fine."""
    if url.startswith("/"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in SCHEMES:
        return "scheme"
    if parts.scheme.lower() != "file" and not parts.hostname:
        return "host"
    return None
