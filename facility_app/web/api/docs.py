"""The OpenAPI 3.1 document, built from the route registry, and a small HTML listing of it."""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify, render_template_string
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from carewatch import __version__
from facility_app.accounts.permissions import MATRIX

from .registry import MAX_BODY_BYTES, OPERATIONS, Operation, bp, operation
from .schemas import ErrorOut

log = logging.getLogger(__name__)

REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed JSON (invalid_json) or a missing CSRF token (csrf_failed).",
    "401": "Not signed in (not_authenticated).",
    "403": "The role or the class assignment does not allow this.",
    "404": "No such record, or not visible to the caller.",
    "409": "Clashes with the current state (e.g. already_checked_in).",
    "413": f"Body larger than {MAX_BODY_BYTES} bytes (body_too_large).",
    "415": "Body is not JSON (unsupported_media_type).",
    "422": "Invalid input (invalid_input with details) or refused by a rule.",
}


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], Any], dict[str, Any]]:
    keys: list[tuple[type[BaseModel], Any]] = [(ErrorOut, "serialization")]
    for op in OPERATIONS:
        if op.body is not None:
            keys.append((op.body, "validation"))
        if op.response is not None:
            keys.append((op.response, "serialization"))
    unique = list(dict.fromkeys(keys))
    mapping, top = models_json_schema(unique, ref_template=REF)
    return mapping, top.get("$defs", {})


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    out = []
    for name, conv, args in op.path_params:
        schema: dict[str, Any] = {"type": "integer"} if conv == "int" else {"type": "string"}
        for key in ("min", "max"):
            if key in args:
                schema["minimum" if key == "min" else "maximum"] = int(args[key])
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "title"},
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _error_codes(op: Operation) -> list[str]:
    codes = set()
    if op.permission is not None:
        codes |= {"401", "403"}
    if op.path_params:
        codes.add("404")
    if op.body is not None:
        codes |= {"400", "413", "415", "422"}
    if op.query is not None:
        codes.add("422")
    if op.method not in ("GET", "HEAD"):
        codes |= {"400", "409", "422"}
    return sorted(codes)


def _operation(op: Operation, mapping: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[1],
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.description:
        item["description"] = op.description
    params = _path_parameters(op) + _query_parameters(op)
    if params:
        item["parameters"] = params
    if op.body is not None:
        item["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": mapping[(op.body, "validation")]}},
        }
    if op.status == 204:
        ok: dict[str, Any] = {"description": "Done; no content."}
    elif op.response is not None:
        schema = mapping[(op.response, "serialization")]
        ok = {"description": "Success.", "content": {op.media_type: {"schema": schema}}}
    else:
        ok = {"description": "Success.", "content": {op.media_type: {"schema": {}}}}
    item["responses"] = {str(op.status): ok} | {
        code: {"$ref": f"#/components/responses/E{code}"} for code in _error_codes(op)
    }
    writes = op.method not in ("GET", "HEAD")
    if op.permission is None:
        item["security"] = [{"csrfToken": []}] if writes else [{}]
        item["x-public"] = True
    else:
        if writes:
            item["security"] = [{"sessionCookie": [], "csrfToken": []}]
        item["x-permission"] = op.permission.value
        item["x-roles"] = sorted(r.value for r in MATRIX[op.permission])
    return item


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation."""
    mapping, defs = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, mapping)
    error_ref = mapping[(ErrorOut, "serialization")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CareWatch facility API",
            "version": __version__,
            "description": (
                "JSON API of the facility app. Sign in with POST /session; the session cookie "
                "authenticates later calls. Every POST, PATCH and DELETE must carry the "
                "csrf_token from /session in the X-CSRFToken header (over HTTPS also a Referer "
                "header naming this server, as browsers do). Times are ISO 8601 with "
                'offset; dates are YYYY-MM-DD. Errors are {"error": {"code", "message", '
                '"field"?, "params"?, "details"?}}.'
            ),
        },
        "servers": [{"url": bp.url_prefix}],
        "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in OPERATIONS)],
        "security": [{"sessionCookie": []}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "responses": {
                f"E{code}": {
                    "description": text,
                    "content": {"application/json": {"schema": error_ref}},
                }
                for code, text in _ERRORS.items()
            },
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }


@operation("GET", "/openapi.json", summary="This API's OpenAPI document", tag="meta", perm=None)
def openapi_document() -> Any:
    """Public: the OpenAPI 3.1 description of every operation."""
    return jsonify(build_document())


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CareWatch API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;
vertical-align:top;border-bottom:1px solid #eee}code{font-size:.92em}
.m{font-weight:700;font-family:monospace}.GET{color:#06c}.POST{color:#080}
.PATCH{color:#a60}.DELETE{color:#c00}small{color:#666}
</style></head><body>
<h1>CareWatch API <small>v{{ version }}</small></h1>
<p>Base URL <code>{{ prefix }}</code>. Machine-readable description:
<a href="{{ prefix }}/openapi.json">openapi.json</a> (OpenAPI 3.1).
Sign in with <code>POST /session</code>; send the returned <code>csrf_token</code> as the
<code>X-CSRFToken</code> header on every POST, PATCH and DELETE (over HTTPS, also a
<code>Referer</code> header naming this server).</p>
{% for tag, ops in groups.items() %}
<h2>{{ tag }}</h2>
<table><tr><th>Method</th><th>Path</th><th>What</th><th>Permission</th><th>Body</th>
<th>Answer</th></tr>
{% for op in ops %}<tr>
<td class="m {{ op.method }}">{{ op.method }}</td><td><code>{{ op.path }}</code></td>
<td>{{ op.summary }}{% if op.description %}<br><small>{{ op.description }}</small>{% endif %}</td>
<td>{% if op.permission %}<code>{{ op.permission.value }}</code><br>
<small>{{ roles[op.permission] }}</small>{% else %}public{% endif %}</td>
<td>{{ op.body.__name__ if op.body else "—" }}</td>
<td>{{ op.status }} {{ op.response.__name__ if op.response else "" }}</td>
</tr>{% endfor %}
</table>
{% endfor %}
</body></html>"""


@operation(
    "GET",
    "/docs",
    summary="This API's operations as a web page",
    tag="meta",
    perm=None,
    media_type="text/html",
)
def docs_page() -> Any:
    """Public: a self-contained page listing the operations (no scripts, no CDN)."""
    groups: dict[str, list[Operation]] = {}
    for op in OPERATIONS:
        groups.setdefault(op.tag, []).append(op)
    roles = {p: ", ".join(sorted(r.value for r in MATRIX[p])) for p in MATRIX}
    html = render_template_string(
        _DOCS, groups=groups, roles=roles, prefix=bp.url_prefix, version=__version__
    )
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
