"""The allauth pages are ours: site header, no inline script or style, nothing external."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from conftest import make_staff
from vigil.accounts.models import Role, User
from vigil.accounts.tests.helpers import reauthenticate, submit_password
from vigil.core.models import Chapter

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def assert_csp_clean(html: str) -> None:
    for attrs in SCRIPT.findall(html):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    assert not re.search(r"<style\b", html, re.I)
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)
    assert "javascript:" not in html
    assert not re.search(r"""(?:src|href|action)=["'](?:https?:)?//""", html)


def assert_ours(html: str) -> None:
    assert '<header class="top">' in html
    assert "/static/vigil/css/site.css" in html


def test_the_login_page_is_ours_and_csp_clean(db: None) -> None:
    html = Client().get(reverse("account_login")).content.decode()
    assert_ours(html)
    assert_csp_clean(html)
    assert "sign up" not in html.lower()


def test_the_mfa_code_page_is_ours_and_csp_clean(client: Client, dispatcher: User) -> None:
    submit_password(client, dispatcher.username)
    html = client.get(reverse("mfa_authenticate")).content.decode()
    assert_ours(html)
    assert_csp_clean(html)
    assert 'name="code"' in html
    assert 'id="mfa_webauthn_authenticate"' in html
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert client.get(src).status_code == 200, src


@pytest.fixture
def new_dispatcher(chapter: Chapter) -> User:
    return make_staff("dora.new", Role.DISPATCHER, chapter, mfa=False)


@pytest.mark.parametrize(
    "name",
    [
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "account_logout",
        "account_reauthenticate",
        "account_change_password",
        "mfa_generate_recovery_codes",
    ],
)
def test_account_pages_are_ours_and_csp_clean(client: Client, new_dispatcher: User, name: str) -> None:
    submit_password(client, new_dispatcher.username)
    reauthenticate(client)
    response = client.get(reverse(name))
    assert response.status_code == 200, response.get("Location")
    html = response.content.decode()
    assert_ours(html)
    assert_csp_clean(html)


def test_the_qr_code_is_a_data_uri_and_the_secret_is_not_its_alt_text(client: Client, new_dispatcher: User) -> None:
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    submit_password(client, new_dispatcher.username)
    reauthenticate(client)
    html = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    assert f'alt="{secret}"' not in html


def test_recovery_codes_page_is_csp_clean(client: Client, dispatcher: User) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    RecoveryCodes.activate(dispatcher)
    from conftest import login

    login(client, dispatcher)
    reauthenticate(client)
    response = client.get(reverse("mfa_view_recovery_codes"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_ours(html)
    assert_csp_clean(html)
