"""The OpenAPI document describes every API route, is structurally valid, and matches what
the API answers; the docs page lists every operation without outside resources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from facility_app import create_app
from facility_app.accounts.models import Role
from facility_app.web.api import OPERATIONS
from tests.integration.test_api_support import (
    API,
    ApiClient,
    build_world,
)

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_VAR = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture(scope="module")
def offline_app():  # type: ignore[no-untyped-def]
    """An app that never touches a database: enough for its URL map and its document."""
    from facility_app.web.extensions import dispose

    application = create_app(
        {"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "test", "CLOCK": None}
    )
    yield application
    dispose(application)


@pytest.fixture(scope="module")
def document(offline_app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The served document, fetched anonymously."""
    response = offline_app.test_client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    return response.get_json()


def _api_rules(app) -> Iterator[tuple[str, set[str], str]]:  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = _VAR.sub(lambda m: "{" + m.group(1) + "}", rule.rule[len(API) :])
            yield path, {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}, rule.endpoint


def test_every_api_rule_is_documented_with_its_methods(offline_app, document):
    rules = list(_api_rules(offline_app))
    assert len(rules) >= 30
    for path, methods, endpoint in rules:
        assert path in document["paths"], f"{endpoint}: {path} is missing from the document"
        documented = set(document["paths"][path]) & METHODS
        assert methods <= documented, f"{endpoint}: {path} lacks {methods - documented}"


def test_every_documented_operation_is_a_real_rule(offline_app, document):
    real = {(path, m) for path, methods, _ in _api_rules(offline_app) for m in methods}
    for path, item in document["paths"].items():
        for method in set(item) & METHODS:
            assert (path, method) in real, f"{method.upper()} {path} is documented but not routed"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external reference {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def test_document_is_structurally_valid_openapi_3_1(document):
    # openapi-spec-validator is not installed, so the essentials of the 3.1 spec are checked.
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": API}]
    components = document["components"]
    name_ok = re.compile(r"^[a-zA-Z0-9._-]+$")
    for section in components.values():
        assert all(name_ok.match(name) for name in section), section.keys()
    schemes = components["securitySchemes"]
    for scheme in schemes.values():
        assert scheme["type"] == "apiKey" and scheme["in"] in {"cookie", "header"}
    op_ids = []
    for path, item in document["paths"].items():
        assert path.startswith("/")
        templated = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            assert method in METHODS, f"{path}: unknown key {method}"
            op_ids.append(op["operationId"])
            assert op["summary"]
            params = op.get("parameters", [])
            assert len({(p["name"], p["in"]) for p in params}) == len(params)
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == templated, f"{method} {path}: path parameters {in_path}"
            for p in params:
                assert p["in"] in {"path", "query", "header", "cookie"}
                assert "schema" in p
                if p["in"] == "path":
                    assert p["required"] is True
            responses = op["responses"]
            assert responses and all(re.fullmatch(r"[1-5]\d\d", code) for code in responses)
            assert any(code.startswith("2") for code in responses)
            for response in responses.values():
                target = _resolve(document, response["$ref"]) if "$ref" in response else response
                assert target["description"]
            if "requestBody" in op:
                assert method in {"post", "put", "patch"}
                assert "application/json" in op["requestBody"]["content"]
            for requirement in op.get("security", document["security"]):
                assert set(requirement) <= set(schemes)
    assert len(op_ids) == len(set(op_ids)), "operationIds must be unique"
    for ref in set(_refs(document)):
        _resolve(document, ref)


def test_permissions_in_the_document_match_the_endpoints(offline_app, document):
    by_endpoint = {op.endpoint: op for op in OPERATIONS}
    for path, _methods, endpoint in _api_rules(offline_app):
        op = by_endpoint[endpoint]
        documented = document["paths"][path][op.method.lower()]
        view = offline_app.view_functions[endpoint]
        required = getattr(view, "required_permission", None)
        if required is None:
            assert getattr(view, "public_endpoint", False), f"{endpoint} has no permission"
            assert documented.get("x-public") is True
        else:
            assert documented["x-permission"] == required.value
            assert {"401", "403"} <= set(documented["responses"])


def test_request_schemas_refuse_unknown_fields(document):
    schemas = document["components"]["schemas"]
    for op in OPERATIONS:
        if op.body is not None:
            assert schemas[op.body.__name__].get("additionalProperties") is False, op.body


def test_docs_page_lists_every_operation_and_is_self_contained(offline_app):
    response = offline_app.test_client().get(f"{API}/docs")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    for op in OPERATIONS:
        assert op.path in page, op.path
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "no outside resources"


def test_answers_match_the_documented_response_models(client, build, session):
    from monitoring.registry import save_camera

    world = build_world(build, session)
    camera = save_camera(session, name="door", stream_url="rtsp://u:p@127.0.0.1:9/x")
    session.commit()
    api = ApiClient(client)
    api.login(world.users[Role.DIRECTOR])
    api.post(
        "/attendance/check-in",
        {"child_id": world.child_a.id, "dropped_off_by_id": world.child_a.guardians[0].id},
    )
    values = {"class_id": world.room_a.id, "child_id": world.child_a.id, "camera_id": camera.id}
    checked = 0
    for op in OPERATIONS:
        if op.method != "GET" or op.response is None:
            continue
        url = API + op.path.format(**values)
        response = api.call("GET", url)
        assert response.status_code == 200, url
        op.response.model_validate(response.get_json())
        checked += 1
    assert checked >= 10
