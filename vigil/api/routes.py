"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from ninja import NinjaAPI

from vigil.api.auth import TokenAuth

api = NinjaAPI(
    title="Vigil API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url=None,
)
