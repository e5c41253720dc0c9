"""The web view as a stack component: werkzeug's threaded WSGI server in a thread.

The view is a handful of read-only pages and small JSON documents for a few regulator
staff, behind their sign-in proxy, so a threaded server in the hub process is enough; it
binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from carewatch.stack import ComponentError

log = logging.getLogger(__name__)


class WebView:
    """Serves the hub's Flask app until stopped."""

    name = "hub web view"

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self.server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        """Bind the port (failing clearly if it is taken) and serve in a thread."""
        try:
            self.server = make_server(self.host, self.port, self.app, threaded=True)
        except OSError as exc:
            raise ComponentError(
                f"the hub web view cannot listen on {self.host}:{self.port}: {exc}"
            ) from exc
        self.port = self.server.port
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=self.name, daemon=True
        )
        self._thread.start()
        log.info("hub web view on http://%s:%d/", self.host, self.port)

    def alive(self) -> bool:
        """Whether the server thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
