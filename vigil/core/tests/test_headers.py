"""E4: every kind of response carries the security headers."""

from __future__ import annotations

import pytest
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse

from conftest import login
from vigil.accounts.models import User


def directives(response: HttpResponseBase) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def assert_secure_headers(response: HttpResponseBase, *, static: bool = False) -> None:
    csp = directives(response)
    script = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert not any(v.startswith(("http:", "https:", "*")) for values in csp.values() for v in values)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    if static:
        assert "no-store" not in response.get("Cache-Control", "")
    else:
        assert "no-store" in response["Cache-Control"]
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/healthz", "/no-such-page/", "/api/v1/openapi.json", "/api/v1/incidents"],
)
def test_anonymous_responses_carry_the_headers(db: None, path: str) -> None:
    assert_secure_headers(Client().get(path))


def test_a_public_page_carries_the_headers(db: None) -> None:
    response = Client().get("/")
    assert response.status_code in (200, 302, 404)
    assert_secure_headers(response)


def test_a_staff_page_carries_the_headers(client: Client, dispatcher: User) -> None:
    login(client, dispatcher)
    for name in ["mfa_index", "account_logout"]:
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert_secure_headers(response)


def test_a_post_and_a_csrf_failure_carry_the_headers(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post(reverse("account_login"), {"login": "x", "password": "y"})
    assert response.status_code == 403
    assert_secure_headers(response)


def test_a_static_file_carries_the_headers_but_may_be_cached(db: None) -> None:
    response = Client().get("/static/vigil/css/site.css")
    assert response.status_code == 200
    assert_secure_headers(response, static=True)
    assert_secure_headers(Client().get("/static/nope.js"), static=True)
