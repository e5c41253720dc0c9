"""The Chinese catalogue: complete, compiled, placeholder-safe, and what the app serves.

Messages are extracted from the source exactly as ``scripts/i18n.sh update`` does (same
``babel.cfg`` mapping, same keywords, read from the script), so a new string without a
Chinese translation fails here with its msgid in the message.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from carewatch.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "i18n.sh"
# Flask-Babel reads BABEL_TRANSLATION_DIRECTORIES relative to the app root, facility_app/web,
# and looks under str(Locale.parse("zh_CN")) == "zh_Hans_CN", not under "zh_CN".
LOCALE_DIR = str(Locale.parse("zh_CN"))
CATALOGUE_DIR = ROOT / "facility_app" / "web" / "translations" / LOCALE_DIR / "LC_MESSAGES"
PO = CATALOGUE_DIR / "messages.po"
MO = CATALOGUE_DIR / "messages.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@cache
def _source_msgids() -> dict[str, str]:
    """msgid -> first place it is used, extracted the way scripts/i18n.sh does."""
    script = SCRIPT.read_text(encoding="utf-8")
    assert f"DIR={CATALOGUE_DIR.parents[1].relative_to(ROOT)}" in script, (
        "scripts/i18n.sh must write the catalogue Flask-Babel reads"
    )
    extra = re.findall(r"-k\s+(\S+)", script)
    assert "DomainError:2" in extra, "keywords not found in scripts/i18n.sh"
    assert f"LOCALE={LOCALE_DIR}" in script, f"scripts/i18n.sh must use the {LOCALE_DIR} folder"
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(extra)}
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, strip_comment_tags=True
    ):
        key = _key(message)
        if key:
            found.setdefault(key, f"{filename}:{lineno}")
    return found


@cache
def _po_catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f, locale="zh_CN")


def _po_map() -> dict[str, str]:
    """Translated, non-fuzzy entries: exactly what ``pybabel compile`` puts in the .mo."""
    out = {}
    for msg in _po_catalog():
        if msg.id and not msg.fuzzy and _key(msg.string):
            out[_key(msg.id)] = _key(msg.string)
    return out


def test_every_source_string_has_a_chinese_translation() -> None:
    sources = _source_msgids()
    assert len(sources) > 100, "extraction found suspiciously few strings"
    translated = _po_map()
    missing = [
        f"{msgid!r} ({where})"
        for msgid, where in sorted(sources.items())
        if not translated.get(msgid, "").strip()
    ]
    assert not missing, (
        f"{len(missing)} string(s) without a zh_CN translation; run "
        "`bash scripts/i18n.sh update`, translate, then `bash scripts/i18n.sh compile`:\n  "
        + "\n  ".join(missing)
    )


def test_compiled_catalogue_matches_the_po_file() -> None:
    with MO.open("rb") as f:
        mo = read_mo(f)
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    expected = _po_map()
    stale = sorted(
        k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)
    )
    assert not stale, (
        "messages.mo is stale; run `bash scripts/i18n.sh compile`. Differing msgids:\n  "
        + "\n  ".join(repr(k) for k in stale)
    )


def test_translations_keep_every_placeholder() -> None:
    problems = []
    for msg in _po_catalog():
        if not msg.id or not _key(msg.string):
            continue
        wanted = set(PLACEHOLDER.findall(_key(msg.id)))
        got = set(PLACEHOLDER.findall(_key(msg.string)))
        if wanted != got:
            problems.append(f"{_key(msg.id)!r}: missing {wanted - got}, unknown {got - wanted}")
    # Babel's own checks: python-format flags and consistent format strings.
    for msg, errors in _po_catalog().check():
        problems.extend(f"{_key(msg.id)!r}: {e}" for e in errors)
    assert not problems, "\n".join(problems)


@pytest.fixture
def sqlite_client(
    sqlite_template: Path, tmp_path: Path, clock: FixedClock
) -> Iterator[FlaskClient]:
    """The app on a copy of the migrated SQLite template (no PostgreSQL needed)."""
    from facility_app import create_app
    from facility_app.web.extensions import dispose

    target = tmp_path / "carewatch.db"
    shutil.copyfile(sqlite_template, target)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{target}",
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "CLOCK": clock,
        }
    )
    yield app.test_client()
    dispose(app)


def test_login_page_is_chinese_by_default_and_english_on_request(
    sqlite_client: FlaskClient,
) -> None:
    from tests.conftest import AuthActions

    page = sqlite_client.get("/auth/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page
    assert 'lang="zh-CN"' in page
    assert "Sign in" not in page

    auth = AuthActions(sqlite_client)
    response = auth.post("/auth/language/en", {"next": "/auth/login"})
    assert response.status_code in (302, 303)

    page = sqlite_client.get("/auth/login").get_data(as_text=True)
    assert "Sign in" in page and "User name" in page
    assert "登录" not in page
