"""Fixtures shared by the API tests."""

from __future__ import annotations

import pytest

from facility_app.accounts.models import Role
from tests.integration.test_api_support import ApiClient, World, build_world


@pytest.fixture
def world(build, session) -> World:  # type: ignore[no-untyped-def]
    """Two classes with a child and a caregiver each, and a user of every role."""
    return build_world(build, session)


@pytest.fixture
def director(client, world) -> ApiClient:  # type: ignore[no-untyped-def]
    """The test client signed in as the director."""
    api = ApiClient(client)
    assert api.login(world.users[Role.DIRECTOR]).status_code == 200
    return api
