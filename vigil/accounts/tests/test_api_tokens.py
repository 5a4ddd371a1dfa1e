"""Personal API tokens: shown once, stored as SHA-256, dead when revoked or the user is."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from conftest import login
from vigil.accounts.models import ApiToken, User
from vigil.core.models import AuditEvent


def issue(username: str) -> str:
    out = StringIO()
    call_command("issue_api_token", username, stdout=out)
    return out.getvalue().strip()


def get_incidents(token: str) -> int:
    return Client().get("/api/v1/incidents", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_a_token_is_printed_once_and_only_its_sha256_is_stored(dispatcher: User) -> None:
    token = issue(dispatcher.username)
    assert token.startswith("vgl_") and len(token) > 40
    record = ApiToken.objects.get(user=dispatcher)
    assert record.digest == hashlib.sha256(token.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get())
    assert token not in stored and token[4:] not in stored
    assert AuditEvent.objects.filter(action="api_token.issue", object_id=str(record.pk)).exists()


def test_a_valid_token_reads_the_api(dispatcher: User) -> None:
    token = issue(dispatcher.username)
    response = Client().get("/api/v1/incidents", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() == []
    assert ApiToken.objects.get(user=dispatcher).last_used_at is not None


def test_a_revoked_token_gets_401(dispatcher: User) -> None:
    token = issue(dispatcher.username)
    ApiToken.objects.filter(user=dispatcher).update(revoked_at=timezone.now())
    assert get_incidents(token) == 401


def test_an_inactive_users_token_gets_401(dispatcher: User) -> None:
    token = issue(dispatcher.username)
    dispatcher.is_active = False
    dispatcher.save()
    assert get_incidents(token) == 401


def test_a_made_up_or_missing_token_gets_401(dispatcher: User) -> None:
    issue(dispatcher.username)
    assert get_incidents("vgl_" + "x" * 43) == 401
    assert Client().get("/api/v1/incidents").status_code == 401


def test_a_browser_session_is_not_an_api_credential(client: Client, dispatcher: User) -> None:
    login(client, dispatcher)
    assert client.get("/api/v1/incidents").status_code == 401


def test_no_token_for_an_unknown_or_inactive_user(dispatcher: User) -> None:
    dispatcher.is_active = False
    dispatcher.save()
    with pytest.raises(CommandError):
        issue(dispatcher.username)
    with pytest.raises(CommandError):
        issue("nobody.here")
    assert not ApiToken.objects.exists()
