"""The production web server: gunicorn, configured in code, serving the Flask app factory.

Importing this imports gunicorn (about 0.1 s), so the command line does so only to serve.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)


class WebApplication(BaseApplication):  # type: ignore[misc]
    """Gunicorn with its settings given as a dict, loading the Flask app in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        # Set before the base initialiser, which calls load_config.
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the settings given in code; there is no config file or gunicorn command line."""
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # Gunicorn ≥ 24 opens a control socket in $HOME; nothing here uses it, and
            # two servers on one machine would fight over the same path.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        """The WSGI app; without preload each worker builds its own, after the fork."""
        from facility_app import create_app

        return create_app()
