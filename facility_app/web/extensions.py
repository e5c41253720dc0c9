"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from carewatch.db import make_engine, make_session_factory, reset_write_intent, set_write_intent

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Database:
    """One engine per app and one session per request; the request owns the transaction."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        """Create the engine for the app's DATABASE_URL and hook the request lifecycle."""
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.factory = make_session_factory(self.engine)
        app.extensions["carewatch_db"] = self
        app.before_request(self._before)
        app.teardown_request(self._teardown)

    @staticmethod
    def _before() -> None:
        # Requests start reading; a view that writes says so with begin_writes() once the
        # sign-in and permission look-ups are done, so those run outside the write lock.
        g._write_token = set_write_intent(False)

    def begin_writes(self) -> None:
        """End the request's read transaction; what follows takes the write lock at BEGIN."""
        if "_db_session" in g and g._db_session.in_transaction():
            # Nothing was written yet; committing keeps the loaded objects usable.
            g._db_session.commit()
        set_write_intent(True)

    def _teardown(self, exc: BaseException | None) -> None:
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            if exc is not None or session.in_transaction():
                # Anything not committed explicitly by the view is discarded.
                session.rollback()
            session.close()
        token = g.pop("_write_token", None)
        if token is not None:
            reset_write_intent(token)

    @property
    def session(self) -> Session:
        """The current request's session."""
        if "_db_session" not in g:
            from flask import current_app

            factory = current_app.extensions["carewatch_db"].factory
            g._db_session = factory()
        return g._db_session

    def fresh_session(self) -> Session:
        """A separate session, for work that must survive the request's rollback."""
        from flask import current_app

        return current_app.extensions["carewatch_db"].factory()


def dispose(app: Flask) -> None:
    """Close the app's connection pool (tests, shutdown)."""
    ext: Any = app.extensions.get("carewatch_db")
    if ext is not None and ext.engine is not None:
        ext.engine.dispose()


db = Database()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
