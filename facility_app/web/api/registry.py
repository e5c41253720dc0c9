"""The API blueprint, its route registry and the plumbing every operation shares.

Each operation is declared once with :func:`operation`, which registers the Flask route
(wrapped in ``require`` when it needs a permission), parses and validates the JSON body
and the query string with pydantic, serialises the result and commits writes. The same
declarations feed the OpenAPI document.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from facility_app.accounts.permissions import Perm

from ..auth import require
from ..extensions import SAFE_METHODS, db

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: Largest JSON body an operation accepts (the app-wide limit is far larger, for uploads).
MAX_BODY_BYTES = 64 * 1024
#: Largest id accepted in a path or body (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


V = TypeVar("V", bound=Callable[..., Any])


class ApiError(Exception):
    """A refusal raised by the API plumbing itself (body, content type, validation)."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class Operation:
    """One documented API operation."""

    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    permission: Perm | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    media_type: str = "application/json"
    description: str = ""

    @property
    def path(self) -> str:
        """The rule as an OpenAPI path template (``/children/{child_id}``)."""
        return openapi_path(self.rule)

    @property
    def path_params(self) -> list[tuple[str, str, dict[str, str]]]:
        """(name, converter, converter arguments) of each variable in the rule."""
        out = []
        for conv, args, name in _RULE_VAR.findall(self.rule):
            kw = dict(part.split("=", 1) for part in args.split(",") if "=" in part)
            out.append((name, conv or "default", {k.strip(): v.strip() for k, v in kw.items()}))
        return out


OPERATIONS: list[Operation] = []

_RULE_VAR = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def openapi_path(rule: str) -> str:
    """Turn a Flask rule (``/x/<int:id>``) into an OpenAPI path (``/x/{id}``)."""
    return _RULE_VAR.sub(lambda m: "{" + m.group(3) + "}", rule)


def id_rule(name: str) -> str:
    """A path variable for a database id, bounded so no backend overflows."""
    return f"<int(min=1,max={MAX_ID}):{name}>"


def _details(err: ValidationError) -> list[dict[str, str]]:
    out = []
    for item in err.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        out.append({"field": field, "message": item["msg"]})
    return out


def _too_large() -> ApiError:
    message = _("The request body is larger than %(n)s bytes.", n=MAX_BODY_BYTES)
    return ApiError(413, "body_too_large", message)


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate the request's JSON body against ``model`` (strictly, unknown keys refused)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", _("Send the body as JSON (application/json).")
        )
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as err:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
        raise ApiError(
            422, "invalid_input", _("Some fields are missing or invalid."), _details(err)
        ) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model`` (strings converted, unknown keys refused)."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as err:
        raise ApiError(
            422, "invalid_input", _("Some query parameters are invalid."), _details(err)
        ) from None


def respond(result: Any, status: int) -> Any:
    """Serialise a view's result: a model, a ready response, or nothing (204)."""
    if isinstance(result, Response | tuple):
        return result
    if result is None:
        return Response(status=204)
    if isinstance(result, BaseModel):
        return jsonify(result.model_dump(mode="json", by_alias=True)), status
    return jsonify(result), status


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    perm: Perm | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    media_type: str = "application/json",
    description: str = "",
) -> Callable[[V], V]:
    """Register an API operation; ``perm=None`` marks a deliberately public one."""
    # The view receives the path variables plus ``body`` and/or ``query`` (validated models)
    # and returns a pydantic model (serialised with ``status``), a Response, or None (204).
    method = method.upper()

    def decorator(view: V) -> V:
        @functools.wraps(view)
        def handler(**path_args: Any) -> Any:
            kwargs = dict(path_args)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = view(**kwargs)
            if method not in SAFE_METHODS:
                db.session.commit()
            return respond(result, status)

        wrapped: Any = handler if perm is None else require(perm)(handler)
        if perm is None:
            wrapped.public_endpoint = True
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        OPERATIONS.append(
            Operation(
                method=method,
                rule=rule,
                endpoint=f"{bp.name}.{view.__name__}",
                summary=summary,
                tag=tag,
                permission=perm,
                body=body,
                query=query,
                response=response,
                status=status,
                media_type=media_type,
                description=description or inspect.cleandoc(view.__doc__ or ""),
            )
        )
        return view

    return decorator


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Any:
    db.session.rollback()
    payload: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.details is not None:
        payload["details"] = err.details
    log.info("api refused %s %s: %s", request.method, request.path, err.code)
    return jsonify(error=payload), err.status


@bp.errorhandler(IntegrityError)
def _integrity_error(err: IntegrityError) -> Any:
    # Two requests raced past the same check (say, two tablets checking one child in); the
    # database's constraint refused the second, so answer like the service would have.
    db.session.rollback()
    log.warning("api %s %s hit a constraint: %s", request.method, request.path, err.orig)
    message = _("The record was changed at the same moment; reload and try again.")
    return jsonify(error={"code": "conflict", "message": message}), 409
