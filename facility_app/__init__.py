"""The facility's system of record and its web UI and JSON API.

Domain modules (``facility``, ``children``, ``staff``, ``attendance``, ``ratio``,
``alerts``, ``accounts``, ``audit``) never import Flask, so the edge agent can use them;
the web layer lives in ``facility_app.web``.
"""

from __future__ import annotations

from typing import Any


def create_app(test_config: dict[str, Any] | None = None) -> Any:
    """Build the Flask application (imported lazily so the domain stays Flask-free)."""
    from facility_app.web import create_app as _create_app

    return _create_app(test_config)
