"""Twilio's StatusCallback at /webhooks/twilio/status: signed like inbound SMS, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.twilio import twilio_signature
from vigil.channels import ledger
from vigil.channels.ledger import Result
from vigil.channels.models import Attempt, EarlyCallback, Endpoint, Outcome
from vigil.channels.tests.test_ledger_support import make_alert
from vigil.core import schedule

PATH = "/webhooks/twilio/status"


def post(params: dict[str, str], *, signature: str | None = None) -> int:
    url = settings.PUBLIC_URL + PATH
    signed = twilio_signature(settings.TWILIO_AUTH_TOKEN, url, params) if signature is None else signature
    return Client().post(PATH, params, HTTP_X_TWILIO_SIGNATURE=signed).status_code


def callback(sid: str, status: str, code: str = "") -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "f" * 32,
        "From": "+13125550100",
        "To": "+13125550000",
        "ApiVersion": "2010-04-01",
    }
    if code:
        params["ErrorCode"] = code
    return params


@pytest.fixture
def sent(chapter, zone):
    alert = make_alert(chapter, [zone], 2)
    now = timezone.now()
    claimed = ledger.claim("a.1", 10, now)
    ledger.record([Result(d.pk, d.lease_token, Outcome.SENT, now, provider_id=f"SM{d.pk:032x}") for d in claimed], now)
    return alert, claimed


def test_a_signed_delivered_callback_marks_the_delivery_delivered(sent):
    alert, (first, second) = sent
    assert post(callback(f"SM{first.pk:032x}", "sent")) == 204
    assert post(callback(f"SM{first.pk:032x}", "delivered")) == 204
    assert post(callback(f"SM{second.pk:032x}", "undelivered", "30006")) == 204
    assert alert.statuses() == {"delivered": 1, "failed": 1}
    assert Attempt.objects.get(delivery_id=first.pk).callback_status == "delivered"
    assert not Endpoint.objects.get(pk=second.endpoint_id).enabled


def test_a_forged_or_unsigned_callback_is_refused_and_changes_nothing(sent):
    alert, (first, _) = sent
    assert post(callback(f"SM{first.pk:032x}", "delivered"), signature="Zm9yZ2Vk") == 403
    assert post(callback(f"SM{first.pk:032x}", "delivered"), signature="") == 403
    assert alert.statuses() == {"sent": 2}


@pytest.mark.parametrize(
    "fields",
    [
        {"MessageStatus": "delivered"},
        {"MessageSid": "SM../../x", "MessageStatus": "delivered"},
        {"MessageSid": "SM1", "MessageStatus": "DELIVERED; drop"},
        {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30006x"},
        {"MessageSid": "SM1", "MessageStatus": "delivered\x00"},
    ],
)
def test_bad_fields_are_a_clear_400(db, fields):
    assert post(fields) == 400


def test_a_callback_for_an_unknown_message_is_accepted_and_forgotten_after_a_day(db):
    now = timezone.now()
    assert post(callback("SM" + "0" * 32, "delivered")) == 204
    assert post(callback("SM" + "1" * 32, "sent")) == 204  # not a verdict: not kept at all

    assert list(EarlyCallback.objects.values_list("provider_id", flat=True)) == ["SM" + "0" * 32]
    assert ledger.apply_early_callbacks(now) == 0 and EarlyCallback.objects.count() == 1
    ledger.apply_early_callbacks(now + timedelta(days=1, minutes=1))
    assert not EarlyCallback.objects.exists()


def test_a_verdict_that_beats_the_senders_record_is_applied_once_the_record_is_written(chapter, zone):
    """Twilio can call back within a second of accepting a message, before the sender's batch
    (which links the provider id to the delivery) is written."""
    alert = make_alert(chapter, [zone], 2)
    now = timezone.now()
    first, second = ledger.claim("a.1", 10, now)
    early = {first.pk: ("delivered", ""), second.pk: ("undelivered", "30006")}
    for pk, (status, code) in early.items():
        assert post(callback(f"SM{pk:032x}", status, code)) == 204
    assert alert.statuses() == {"sending": 2}

    results = [Result(d.pk, d.lease_token, Outcome.SENT, now, provider_id=f"SM{d.pk:032x}") for d in (first, second)]
    ledger.record(results, now)
    assert ledger.apply_early_callbacks(now) == 2

    assert alert.statuses() == {"delivered": 1, "failed": 1}
    assert not Endpoint.objects.get(pk=second.endpoint_id).enabled  # 30006: a landline, for good
    assert not EarlyCallback.objects.exists()
    assert "channels.early_callbacks" in schedule.registered()


def test_only_post_is_allowed(db):
    assert Client().get(PATH).status_code == 405
