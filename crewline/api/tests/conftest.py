from __future__ import annotations

import json

import pytest
from django.test import Client

from crewline.api.models import SCOPES
from crewline.api.services import api_key_create


@pytest.fixture
def make_key(org, owner):
    """A key of ``organization`` (``org`` unless given) with ``scopes`` (all unless given);
    returns the full key."""

    def make(*scopes: str, organization=None, by=None, **kwargs) -> str:
        organization = organization or org
        _key, full = api_key_create(organization=organization, by=by,
                                    name=kwargs.pop("name", "Integration"),
                                    scopes=scopes or SCOPES, **kwargs)
        return full

    return make


class ApiClient:
    """A test client that sends ``Authorization: Bearer <key>`` on every request."""

    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, data=None, headers=None, **extra):
        return self.client.get(path, data, headers={**self.headers, **(headers or {})},
                               **extra)

    def post(self, path: str, data=None, headers=None, **extra):
        return self.client.post(path, data, content_type="application/json",
                                headers={**self.headers, **(headers or {})}, **extra)

    def patch(self, path: str, data=None, headers=None, **extra):
        return self.client.patch(path, json.dumps(data), content_type="application/json",
                                 headers={**self.headers, **(headers or {})}, **extra)

    def upload(self, path: str, data: dict, headers=None):
        """A multipart POST (files as ``SimpleUploadedFile``)."""
        return self.client.post(path, data, headers={**self.headers, **(headers or {})})


@pytest.fixture
def api(make_key):
    """``api(*scopes, organization=...)``: a client with a fresh key."""

    def make(*scopes: str, **kwargs) -> ApiClient:
        return ApiClient(make_key(*scopes, **kwargs))

    return make
