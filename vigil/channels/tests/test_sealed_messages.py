"""Personal text (a family's panic message) rides the ledger sealed: `Message.body` stays empty,
`sealed_body` is ciphertext, and the sender hands the plaintext to the provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from vigil.channels import outbox
from vigil.channels.models import ChannelKind, Message
from vigil.channels.sender import Sender
from vigil.channels.tests.test_ledger_support import (
    Drive,
    SimClock,
    fake_twilio_fixture,  # noqa: F401 - fixture
    fake_twilio_server_fixture,  # noqa: F401 - fixture
    real_transports,
)
from vigil.core import crypto
from vigil.core.phones import phone_index

TEXT = "Mija, me detuvieron. Llama a la abogada Canary-Sealed."


@pytest.fixture
def sms(settings, fake_twilio):
    settings.SMS_PER_SECOND = 100_000
    return fake_twilio


def test_a_sealed_message_is_ciphertext_at_rest_and_plaintext_to_the_provider(transactional_db, chapter, sms):
    clock = SimClock()
    with transaction.atomic():
        endpoint = outbox.endpoint_for(chapter.id, ChannelKind.SMS, "+13125550142", phone_index("+13125550142"))
        outbox.queue(
            chapter_id=chapter.id,
            purpose="panic",
            recipients=[("es", endpoint)],
            text_for=lambda language: TEXT,
            now=clock.now,
            valid_until=clock.now + timedelta(hours=1),
            urgent=True,
            sealed=True,
        )
    message = Message.objects.get()
    assert message.body == ""
    stored = bytes(Message.objects.values_list("sealed_body", flat=True)[0])
    assert b"Canary" not in stored and crypto.key_id_of(stored)
    drive = Drive(Sender(clock=clock, transports=real_transports))
    try:
        assert drive.drain() == 1
    finally:
        drive.close()
    assert [r["body"] for r in sms.requests()] == [TEXT]
