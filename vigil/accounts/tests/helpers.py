"""The staff login flow driven through HTTP, as a browser would."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from vigil.accounts.models import User

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

STAFF_PAGE = "/staff/"


def current_code(user: User) -> str:
    return format_hotp_value(hotp_value(user.totp_secret, int(time.time()) // 30))  # type: ignore[attr-defined]


def away_from_code_boundary() -> None:
    """A code used near the end of its 30 s step would be a different code on the next try."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)


def submit_password(client: Client, username: str, password: str = PASSWORD) -> Response:
    return client.post(reverse("account_login"), {"login": username, "password": password, "next": STAFF_PAGE})


def submit_code(client: Client, code: str) -> Response:
    return client.post(reverse("mfa_authenticate"), {"code": code})


def full_login(client: Client, user: User) -> Response:
    away_from_code_boundary()
    response = submit_password(client, user.username)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    return submit_code(client, current_code(user))


def session_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def is_signed_in(client: Client) -> bool:
    """Asks the server, through a page that needs a session, whether this client is signed in."""
    response = client.get(reverse("mfa_index"))
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
    return False


def reauthenticate(client: Client) -> Response:
    """allauth asks for the password again before MFA changes, even right after login."""
    return client.post(reverse("account_reauthenticate"), {"password": PASSWORD, "next": reverse("mfa_index")})
