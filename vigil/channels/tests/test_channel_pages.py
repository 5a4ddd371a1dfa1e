"""The channels status page: which channels are live, why not, and their last error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.channels.models import ChannelHealth

URL = "/staff/channels/"


def test_the_page_lives_at_staff_channels() -> None:
    assert reverse("channel_status") == URL


@pytest.mark.parametrize("persona", ["organizer", "admin_user"])
def test_organizers_and_admins_see_channel_status(client: Client, persona: str, request: Any) -> None:
    user: User = request.getfixturevalue(persona)

    assert login(client, user).get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["dispatcher", "verifier", "legal_coordinator"])
def test_other_staff_may_not(client: Client, persona: str, request: Any) -> None:
    user: User = request.getfixturevalue(persona)

    assert login(client, user).get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(neighbour: Client, db: Any) -> None:
    response = neighbour.get(URL)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unconfigured_channel_says_which_settings_it_needs(client: Client, organizer: User, settings: Any) -> None:
    settings.SANDBOX = False
    settings.TWILIO_ACCOUNT_SID = ""
    settings.SIGNAL_CLI_URL = ""

    page = login(client, organizer).get(URL).content.decode()

    assert "Off" in page and "VIGIL_TWILIO_ACCOUNT_SID" in page and "VIGIL_SIGNAL_CLI_URL" in page
    assert "Sandbox off" in page


def test_a_configured_channel_is_live_with_its_rate_and_last_error(
    client: Client, admin_user: User, settings: Any
) -> None:
    settings.SANDBOX = False
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_FROM_NUMBER = "AC" + "1" * 32, "+13125550100"
    settings.SMS_PER_SECOND = 25
    ChannelHealth.objects.create(
        channel="sms", last_success_at=timezone.now(), last_error_at=timezone.now(), last_error="Twilio 503"
    )

    page = login(client, admin_user).get(URL).content.decode()

    assert "Live" in page and "Twilio 503" in page and "<td>25</td>" in page
    assert "VIGIL_TWILIO_ACCOUNT_SID" not in page
    assert settings.TWILIO_AUTH_TOKEN not in page


def test_sandbox_mode_is_shown_with_a_link_to_the_phones(client: Client, organizer: User, settings: Any) -> None:
    settings.SANDBOX = True

    page = login(client, organizer).get(URL).content.decode()

    assert "SANDBOX ON" in page and reverse("sandbox_phones") in page
