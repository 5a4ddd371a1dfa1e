"""Session lifetime and logout (C10, C11, C12, C13)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, login
from vigil.accounts.models import User
from vigil.accounts.signals import SESSION_STARTED
from vigil.accounts.tests.helpers import full_login, is_signed_in, session_user_id, submit_password

NEW_PASSWORD = "a different long passphrase 7"


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_the_idle_timeout_is_30_minutes_renewed_by_every_request(client: Client, dispatcher: User) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    login(client, dispatcher)
    Session.objects.filter(pk=session_row(client).pk).update(expire_date=timezone.now() + timedelta(minutes=1))

    assert is_signed_in(client)
    renewed = session_row(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < renewed <= timedelta(minutes=30)


def test_a_session_idle_past_its_expiry_is_gone(client: Client, dispatcher: User) -> None:
    login(client, dispatcher)
    Session.objects.filter(pk=session_row(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not is_signed_in(client)


def test_a_session_ends_12_hours_after_login_however_busy(client: Client, dispatcher: User) -> None:
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    login(client, dispatcher)

    session = client.session
    session[SESSION_STARTED] = int(time.time()) - 12 * 3600 + 60
    session.save()
    assert is_signed_in(client)

    session = client.session
    session[SESSION_STARTED] = int(time.time()) - 12 * 3600 - 1
    session.save()
    assert not is_signed_in(client)


def test_logout_deletes_the_server_side_session(client: Client, dispatcher: User) -> None:
    full_login(client, dispatcher)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists()

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_logout_by_get_only_asks_for_confirmation(client: Client, dispatcher: User) -> None:
    login(client, dispatcher)
    response = client.get(reverse("account_logout"))
    assert response.status_code == 200
    assert b'method="post"' in response.content and b"csrfmiddlewaretoken" in response.content
    assert is_signed_in(client)


def test_logout_without_a_csrf_token_is_refused(dispatcher: User) -> None:
    client = Client(enforce_csrf_checks=True)
    login(client, dispatcher)
    assert client.post(reverse("account_logout")).status_code == 403
    assert is_signed_in(client)

    client.get(reverse("account_logout"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert not is_signed_in(client)


def test_a_password_reset_by_an_organizer_ends_every_session(dispatcher: User) -> None:
    laptop, phone = login(Client(), dispatcher), login(Client(), dispatcher)
    assert is_signed_in(laptop) and is_signed_in(phone)

    dispatcher.set_password(NEW_PASSWORD)
    dispatcher.save()

    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_changing_ones_own_password_ends_every_session_including_this_one(dispatcher: User) -> None:
    laptop, phone = Client(), Client()
    full_login(laptop, dispatcher)
    full_login(phone, dispatcher)

    response = laptop.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    dispatcher.refresh_from_db()
    assert dispatcher.check_password(NEW_PASSWORD)
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_deactivation_ends_every_session_for_good(dispatcher: User) -> None:
    laptop, phone = login(Client(), dispatcher), login(Client(), dispatcher)
    keys = [c.cookies[settings.SESSION_COOKIE_NAME].value for c in (laptop, phone)]

    dispatcher.is_active = False
    dispatcher.save()
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert not Session.objects.filter(session_key__in=keys).exists()

    # Reactivating the account does not bring a stolen session back.
    dispatcher.is_active = True
    dispatcher.save()
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_an_inactive_account_cannot_log_in_even_with_the_right_password(client: Client, dispatcher: User) -> None:
    dispatcher.is_active = False
    dispatcher.save()
    response = submit_password(client, dispatcher.username)
    assert response.status_code == 302 and response["Location"] == reverse("account_inactive")
    assert session_user_id(client) is None
    assert not is_signed_in(client)
