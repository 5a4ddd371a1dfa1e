"""Staff login: brute force, enumeration, MFA (C1, C3, C4, C5, C9)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import PASSWORD, make_staff
from vigil.accounts.models import Role, User
from vigil.accounts.tests.helpers import (
    STAFF_PAGE,
    away_from_code_boundary,
    current_code,
    full_login,
    reauthenticate,
    session_user_id,
    submit_code,
    submit_password,
)
from vigil.core.models import Chapter

WRONG = "not the password at all 99"


class CountingArgon2(Argon2PasswordHasher):
    """The real Argon2 hasher, counting how often it runs (verify, or encode on the dummy path)."""

    runs: ClassVar[int] = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingArgon2.runs += 1
        return super().verify(password, encoded)

    def encode(self, password: str, salt: str) -> str:
        CountingArgon2.runs += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher() -> Any:
    CountingArgon2.runs = 0
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingArgon2"]):
        yield CountingArgon2


@pytest.fixture
def dispatcher_without_mfa(chapter: Chapter) -> User:
    return make_staff("dora.new", Role.DISPATCHER, chapter, mfa=False)


def test_the_sixth_wrong_password_in_a_minute_is_refused_without_hashing(
    dispatcher: User, verifier: User, counting_hasher: Any
) -> None:
    client = Client()
    for _ in range(5):
        response = submit_password(client, dispatcher.username, WRONG)
        assert response.status_code == 200
    assert counting_hasher.runs == 5

    sixth = submit_password(client, dispatcher.username, WRONG)
    assert sixth.status_code == 200
    assert "Too many failed login attempts" in sixth.content.decode()
    assert counting_hasher.runs == 5

    # Even the right password is refused, unhashed, until the minute is over.
    right = submit_password(client, dispatcher.username)
    assert right.status_code == 200
    assert counting_hasher.runs == 5
    assert session_user_id(client) is None

    # Another account, from the same address, is unaffected.
    other = submit_password(Client(), verifier.username)
    assert other.status_code == 302 and other["Location"] == reverse("mfa_authenticate")
    assert counting_hasher.runs == 6


def test_the_lockout_key_ignores_the_host_header_and_the_username_case(dispatcher: User) -> None:
    hosts = ["testserver", "localhost", "127.0.0.1"]
    for attempt in range(5):
        Client(HTTP_HOST=hosts[attempt % 3]).post(
            reverse("account_login"), {"login": dispatcher.username.upper(), "password": WRONG}
        )
    response = Client(HTTP_HOST="localhost").post(
        reverse("account_login"), {"login": dispatcher.username, "password": PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()


def test_the_rate_limit_cache_holds_no_ip_address(dispatcher: User) -> None:
    from django.db import connection

    Client(REMOTE_ADDR="203.0.113.77").post(reverse("account_login"), {"login": "someone", "password": WRONG})
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM vigil_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(":login_failed:" in key for key in keys)
    assert not any("203.0.113" in key for key in keys)


def normalised(body: bytes, username: str) -> str:
    text = body.decode().replace(username, "USERNAME")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', text)


def test_unknown_user_and_wrong_password_look_the_same(dispatcher: User) -> None:
    unknown = submit_password(Client(), "nobody.here", WRONG)
    wrong = submit_password(Client(), dispatcher.username, WRONG)
    assert unknown.status_code == wrong.status_code == 200
    assert normalised(unknown.content, "nobody.here") == normalised(wrong.content, dispatcher.username)


def test_an_inactive_account_with_a_wrong_password_looks_like_an_unknown_one(dispatcher: User) -> None:
    dispatcher.is_active = False
    dispatcher.save()
    unknown = submit_password(Client(), "nobody.here", WRONG)
    inactive = submit_password(Client(), dispatcher.username, WRONG)
    assert unknown.status_code == inactive.status_code == 200
    assert normalised(unknown.content, "nobody.here") == normalised(inactive.content, dispatcher.username)


def test_a_dispatcher_without_mfa_gets_only_the_enrolment_page(client: Client, dispatcher_without_mfa: User) -> None:
    response = submit_password(client, dispatcher_without_mfa.username)
    assert response.status_code == 302
    assert session_user_id(client) == str(dispatcher_without_mfa.pk)

    enrol = reverse("mfa_activate_totp")
    for path in [STAFF_PAGE, "/", "/staff/incidents/1/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == enrol, path
    api = client.get("/api/v1/incidents")
    assert api.status_code == 403
    assert api.json() == {"detail": "MFA enrolment required"}

    first = client.get(enrol)
    assert first.status_code == 302 and first["Location"].startswith(reverse("account_reauthenticate"))
    assert reauthenticate(client).status_code == 302
    page = client.get(enrol)
    assert page.status_code == 200
    assert b'src="data:image/svg+xml;base64,' in page.content


def test_enrolling_totp_opens_the_staff_pages(client: Client, dispatcher_without_mfa: User) -> None:
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    submit_password(client, dispatcher_without_mfa.username)
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    dispatcher_without_mfa.totp_secret = client.session[SECRET_SESSION_KEY]  # type: ignore[attr-defined]
    away_from_code_boundary()
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(dispatcher_without_mfa)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=dispatcher_without_mfa, type=Authenticator.Type.TOTP).exists()

    after = client.get(STAFF_PAGE)
    assert not (after.status_code == 302 and after["Location"] == reverse("mfa_activate_totp"))


def test_with_mfa_the_session_is_authenticated_only_after_the_code(client: Client, dispatcher: User) -> None:
    away_from_code_boundary()
    response = submit_password(client, dispatcher.username)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert session_user_id(client) is None
    assert client.get(STAFF_PAGE).status_code != 200
    assert client.get(reverse("mfa_index"))["Location"].startswith(reverse("account_login"))

    wrong = submit_code(client, "000000" if current_code(dispatcher) != "000000" else "111111")
    assert wrong.status_code == 200
    assert session_user_id(client) is None

    right = submit_code(client, current_code(dispatcher))
    assert right.status_code == 302 and right["Location"] == STAFF_PAGE
    assert session_user_id(client) == str(dispatcher.pk)


def test_a_totp_code_works_once(dispatcher: User) -> None:
    away_from_code_boundary()
    code = current_code(dispatcher)
    first = Client()
    submit_password(first, dispatcher.username)
    assert submit_code(first, code).status_code == 302
    assert session_user_id(first) == str(dispatcher.pk)

    second = Client()
    submit_password(second, dispatcher.username)
    replay = submit_code(second, code)
    assert replay.status_code == 200
    assert session_user_id(second) is None


def test_the_session_id_changes_at_login(client: Client, dispatcher: User) -> None:
    before = client.session
    before["probe"] = 1
    before.save()
    old_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    full_login(client, dispatcher)

    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert session_user_id(client) == str(dispatcher.pk)
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()


def test_in_demo_mode_mfa_is_skipped_with_a_banner(client: Client, dispatcher_without_mfa: User) -> None:
    banner = b"two-factor login is switched off"
    with override_settings(MFA_DEMO_BYPASS=True):
        submit_password(client, dispatcher_without_mfa.username)
        response = client.get(STAFF_PAGE)
        assert not (response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp"))
        assert banner in client.get(reverse("mfa_index")).content
    assert banner not in client.get(reverse("mfa_index")).content
    assert client.get(STAFF_PAGE)["Location"] == reverse("mfa_activate_totp")


def test_removing_the_authenticator_mid_session_sends_the_user_back_to_enrolment(
    client: Client, dispatcher: User
) -> None:
    full_login(client, dispatcher)
    assert client.get(STAFF_PAGE).status_code != 302
    reauthenticate(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=dispatcher, type=Authenticator.Type.TOTP).exists()
    assert client.get(STAFF_PAGE)["Location"] == reverse("mfa_activate_totp")


def test_the_mfa_check_is_remembered_in_the_session(client: Client, dispatcher: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    full_login(client, dispatcher)
    with CaptureQueriesContext(connection) as first:
        client.get(STAFF_PAGE)
    with CaptureQueriesContext(connection) as second:
        client.get(STAFF_PAGE)
    assert any("mfa_authenticator" in q["sql"] for q in first.captured_queries)
    assert not any("mfa_authenticator" in q["sql"] for q in second.captured_queries)


def all_callbacks(resolver: URLResolver, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += all_callbacks(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def test_allauth_is_the_only_way_to_get_a_staff_session(db: None) -> None:
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert settings.AUTHENTICATION_BACKENDS == ["allauth.account.auth_backends.AuthenticationBackend"]
    for route, callback in all_callbacks(get_resolver()):
        module = getattr(callback, "__module__", "") or ""
        assert not module.startswith(("django.contrib.auth", "django.contrib.admin")), route
    assert not settings.MFA_PASSKEY_LOGIN_ENABLED
    from allauth.account import app_settings

    assert not app_settings.LOGIN_BY_CODE_ENABLED
    assert Client().post(reverse("account_signup"), {"username": "mallory", "password1": WRONG}).status_code != 302
    assert not User.objects.filter(username="mallory").exists()


@override_settings(PROXY_COUNT=1)
def test_behind_a_proxy_each_client_has_its_own_address_bucket(dispatcher: User, verifier: User) -> None:
    def via_proxy(address: str) -> Client:
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address)

    attacker = via_proxy("198.51.100.7")
    for n in range(20):
        attacker.post(reverse("account_login"), {"login": f"guess{n}", "password": WRONG})
    refused = submit_password(attacker, dispatcher.username)
    assert "Too many failed login attempts" in refused.content.decode()

    # Everyone else behind the same proxy can still log in.
    assert submit_password(via_proxy("192.0.2.50"), verifier.username).status_code == 302
