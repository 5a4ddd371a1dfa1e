"""The anonymous neighbour texting the hotline: POST /webhooks/twilio/sms as Twilio sends it."""

from __future__ import annotations

import itertools
import logging
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.http import QueryDict
from django.test import Client, override_settings
from django.urls import include, path, reverse
from django.utils.translation import gettext, override
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from vigil.core.models import AuditEvent
from vigil.core.phones import phone_index
from vigil.intake import sms, webhooks
from vigil.intake.models import ConversationState, InboundMessage, Report, SmsConversation
from vigil.intake.twilio_signature import compute_signature

# The webhook alone, so this module does not depend on the pages other apps are building.
urlpatterns = [path("webhooks/", include("vigil.intake.webhook_urls"))]

URL = "/webhooks/twilio/sms"
NEIGHBOUR = "+13125550142"
NEIGHBOUR_FORMS = ["+13125550142", "13125550142", "3125550142", "312-555-0142", "(312) 555-0142", "5550142"]
_sids = itertools.count()


@pytest.fixture(autouse=True)
def _webhook_urls(settings):
    settings.ROOT_URLCONF = __name__


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"


def twilio_fields(body: str, *, sid: str | None = None, sender: str = NEIGHBOUR) -> dict[str, str]:
    sid = sid or new_sid()
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "From": sender,
        "FromCountry": "US",
        "To": "+13125550100",
        "Body": body,
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def signature_for(fields: dict[str, str] | QueryDict, *, url: str = URL, token: str | None = None) -> str:
    items = fields.lists() if isinstance(fields, QueryDict) else [(k, [v]) for k, v in fields.items()]
    return compute_signature(settings.TWILIO_AUTH_TOKEN if token is None else token, settings.PUBLIC_URL + url, items)


def post_form(client: Client, fields: dict[str, str], *, url: str = URL, signature: str | None = None):
    """Posted the way Twilio posts: application/x-www-form-urlencoded, signature in a header."""
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(url, urlencode(fields), content_type="application/x-www-form-urlencoded", headers=headers)


def post_signed(client: Client, fields: dict[str, str], *, url: str = URL):
    return post_form(client, fields, url=url, signature=signature_for(fields, url=url))


def text(client: Client, body: str, *, sid: str | None = None, sender: str = NEIGHBOUR):
    fields = twilio_fields(body, sid=sid, sender=sender)
    return post_signed(client, fields)


def reply_of(response) -> str | None:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, parsed in a test
    assert root.tag == "Response"
    message = root.find("Message")
    return None if message is None else message.text


def translated(msgid: str, language: str) -> str:
    with override(language):
        return gettext(msgid)


def conversation() -> SmsConversation | None:
    return SmsConversation.objects.filter(phone_index=phone_index(NEIGHBOUR)).first()


# --- Reports ----------------------------------------------------------------------------


def test_the_webhook_lives_where_the_deployment_guide_says():
    with override_settings(ROOT_URLCONF="vigil.urls"):
        assert reverse("twilio_sms") == URL


def test_a_neighbour_texting_what_they_see_gets_a_report_stored_and_is_asked_where(db, neighbour):
    reply = reply_of(text(neighbour, "ICE at the school on 26th"))

    report = Report.objects.get()
    assert (report.channel, report.language, report.details) == ("sms", "en", "ICE at the school on 26th")
    assert report.contact_phone == NEIGHBOUR
    assert report.contact_index == phone_index(NEIGHBOUR)
    assert report.source_hash
    assert reply == translated(webhooks.ASK_PLACE, "en")
    assert conversation().state == ConversationState.ASK_PLACE  # type: ignore[union-attr]


def test_a_neighbour_texting_in_spanish_is_answered_in_spanish(db, neighbour):
    reply = reply_of(text(neighbour, "la migra esta en la 18 y Blue Island"))

    assert Report.objects.get().language == "es"
    assert reply == translated(webhooks.ASK_PLACE, "es")


def test_the_guided_flow_takes_the_zip_code_next_and_places_the_report(db, neighbour, zone):
    text(neighbour, "ICE at the school on 26th")
    reply = reply_of(text(neighbour, "60608"))

    report = Report.objects.get()
    assert (report.zip_code, report.zone, report.chapter) == ("60608", zone, zone.chapter)
    assert report.cell
    assert not report.address
    assert reply == translated(webhooks.THANKS, "en")
    assert conversation().state == ConversationState.DONE  # type: ignore[union-attr]
    assert conversation().report is None  # type: ignore[union-attr]


def test_the_guided_flow_in_spanish_takes_cross_streets_as_the_address(db, neighbour):
    text(neighbour, "hay agentes afuera de la tienda")
    reply = reply_of(text(neighbour, "18 y Blue Island"))

    report = Report.objects.get()
    assert (report.address, report.zip_code) == ("18 y Blue Island", "")
    assert reply == translated(webhooks.THANKS, "es")
    assert AuditEvent.objects.filter(action="report.update_place", object_id=str(report.pk)).count() == 1


def test_cross_streets_with_a_zip_code_keep_both(db, neighbour, zone):
    text(neighbour, "ICE at the school on 26th")
    text(neighbour, "Cermak & Blue Island 60608")

    report = Report.objects.get()
    assert (report.zip_code, report.address) == ("60608", "Cermak & Blue Island 60608")


def test_a_neighbour_can_skip_the_place(db, neighbour):
    text(neighbour, "la migra esta en la 18")
    reply = reply_of(text(neighbour, "saltar"))

    report = Report.objects.get()
    assert (report.zip_code, report.address) == ("", None)
    assert reply == translated(webhooks.THANKS, "es")


def test_a_report_keyword_with_a_zip_code_completes_at_once(db, neighbour, zone):
    reply = reply_of(text(neighbour, "REPORT 3 vans at Cermak and Western 60608"))

    report = Report.objects.get()
    assert (report.details, report.zip_code, report.zone) == ("3 vans at Cermak and Western 60608", "60608", zone)
    assert reply == translated(webhooks.THANKS, "en")
    assert conversation().state == ConversationState.DONE  # type: ignore[union-attr]


def test_a_spanish_report_keyword_answers_in_spanish_even_for_english_words(db, neighbour):
    reply = reply_of(text(neighbour, "Repórte ICE at the school"))

    assert Report.objects.get().language == "es"
    assert reply == translated(webhooks.ASK_PLACE, "es")


def test_report_alone_asks_what_they_saw_then_where(db, neighbour):
    assert reply_of(text(neighbour, "REPORTE")) == translated(webhooks.ASK_WHAT, "es")
    assert not Report.objects.exists()

    assert reply_of(text(neighbour, "carros")) == translated(webhooks.ASK_PLACE, "es")
    assert Report.objects.get().details == "carros"


def test_help_answers_in_the_keywords_language_and_stores_nothing(db, neighbour):
    assert reply_of(text(neighbour, "help")) == translated(webhooks.HELP, "en") % {"network": "Vigil"}
    assert reply_of(text(neighbour, "Ayúda")) == translated(webhooks.HELP, "es") % {"network": "Vigil"}
    assert not Report.objects.exists()
    assert not SmsConversation.objects.exists()


def test_a_cry_for_help_with_words_after_it_is_a_report(db, neighbour):
    text(neighbour, "AYUDA se llevaron a mi esposo en la 26")

    assert Report.objects.get().details == "AYUDA se llevaron a mi esposo en la 26"


def test_a_greeting_gets_the_help_text_not_a_report(db, neighbour):
    assert reply_of(text(neighbour, "hola")) == translated(webhooks.HELP, "es") % {"network": "Vigil"}
    assert not Report.objects.exists()


@pytest.mark.parametrize("word", ["sToP", "Baja", "bAjA!", "cancel", "PARAR", "alto."])
def test_stop_in_any_case_ends_the_conversation_with_no_reply(db, neighbour, word):
    text(neighbour, "ICE at the school on 26th")
    assert reply_of(text(neighbour, word)) is None

    assert conversation() is None
    assert Report.objects.count() == 1
    reply_of(text(neighbour, "18th and Blue Island"))
    assert Report.objects.get().address is None


def test_lang_es_switches_later_replies_to_spanish(db, neighbour):
    assert reply_of(text(neighbour, "LANG ES")) == translated(webhooks.LANGUAGE_SET, "es")
    reply = reply_of(text(neighbour, "ICE at the school on 26th"))

    assert reply == translated(webhooks.ASK_PLACE, "es")
    assert Report.objects.get().language == "es"


def test_idioma_en_switches_a_spanish_conversation_to_english(db, neighbour):
    text(neighbour, "la migra esta en la 18")
    assert reply_of(text(neighbour, "idioma inglés")) == translated(webhooks.LANGUAGE_SET, "en")
    assert conversation().state == ConversationState.ASK_PLACE  # type: ignore[union-attr]

    assert reply_of(text(neighbour, "60608")) == translated(webhooks.THANKS, "en")


def test_an_unknown_language_gets_the_choices(db, neighbour):
    assert reply_of(text(neighbour, "IDIOMA frances")) == translated(webhooks.LANGUAGE_USAGE, "es")
    assert not SmsConversation.objects.exists()


def test_a_conversation_expires_after_thirty_minutes(db, neighbour):
    text(neighbour, "ICE at the school on 26th")
    later = datetime.now(UTC) + timedelta(minutes=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        reply = reply_of(text(neighbour, "18th and Blue Island"))

    assert reply == translated(webhooks.HELP, "en") % {"network": "Vigil"}
    assert Report.objects.get().address is None
    assert not SmsConversation.objects.exists()


def test_a_keyword_registered_by_a_later_feature_is_dispatched(db, neighbour):
    seen: list[tuple[str, str]] = []

    def handle_detained(context: sms.SmsContext) -> str:
        seen.append((context.argument, context.language))
        return "noted"

    sms.keywords.register("taken", {"TAKEN": "en", "LLEVARON": "es"}, handle_detained, takes_argument=True)
    try:
        assert reply_of(text(neighbour, "llevaron 60623")) == "noted"
    finally:
        sms.keywords.unregister("taken")
    assert seen == [("60623", "es")]


# --- G8: forged webhooks ----------------------------------------------------------------


@pytest.mark.slow
def test_a_thousand_forged_webhooks_store_nothing(db):
    client = Client()
    statuses = set()
    for n in range(1000):
        fields = twilio_fields(f"ICE at 18th and Blue Island 60608 #{n}", sid=new_sid())
        signature = None
        if n % 4 == 1:
            signature = signature_for(fields, token="not-the-token")
        elif n % 4 == 2:
            signature = signature_for({**fields, "Body": "something else"})
        elif n % 4 == 3:
            signature = signature_for(fields, url="/webhooks/twilio/other")
        statuses.add(post_form(client, fields, signature=signature).status_code)

    assert statuses == {403}
    assert Report.objects.count() == 0
    assert InboundMessage.objects.count() == 0
    assert SmsConversation.objects.count() == 0


def test_without_an_auth_token_every_webhook_is_refused(db, neighbour):
    fields = twilio_fields("ICE at 26th", sid=new_sid())
    with override_settings(TWILIO_AUTH_TOKEN=""):
        response = post_form(neighbour, fields, signature=signature_for(fields, token=""))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_the_query_string_is_part_of_what_is_signed(db, neighbour):
    fields = twilio_fields("ICE at the school on 26th", sid=new_sid())
    forged = post_form(neighbour, fields, url=URL + "?chapter=1", signature=signature_for(fields))
    signed = post_signed(neighbour, fields, url=URL + "?chapter=1")

    assert forged.status_code == 403
    assert signed.status_code == 200
    assert Report.objects.count() == 1


# --- G9: exactly once -------------------------------------------------------------------


def test_the_same_message_delivered_five_times_is_processed_once(db, neighbour):
    sid = new_sid()
    replies = [reply_of(text(neighbour, "ICE at the school on 26th", sid=sid)) for _ in range(5)]

    assert Report.objects.count() == 1
    assert InboundMessage.objects.filter(provider_id=sid).count() == 1
    assert replies[0] == translated(webhooks.ASK_PLACE, "en")
    assert replies[1:] == [None] * 4


def test_a_redelivered_place_answer_updates_the_report_once(db, neighbour):
    text(neighbour, "ICE at the school on 26th")
    sid = new_sid()
    replies = [reply_of(text(neighbour, "60608", sid=sid)) for _ in range(5)]

    report = Report.objects.get()
    assert AuditEvent.objects.filter(action="report.update_place", object_id=str(report.pk)).count() == 1
    assert replies.count(None) == 4


# --- G10: floods ------------------------------------------------------------------------

# A fixed instant mid-minute, so the one-minute window cannot roll over during the test.
FLOOD_AT = datetime(2025, 3, 1, 18, 30, 5, tzinfo=UTC)


@pytest.mark.slow
@override_settings(SMS_RATE_PER_MINUTE=10, SMS_REPLIES_PER_HOUR=4)
def test_a_thousand_texts_from_one_number_in_a_minute_are_throttled_and_replies_stop_at_the_cap(db, neighbour):
    with mock.patch("django.utils.timezone.now", return_value=FLOOD_AT):
        replies = [reply_of(text(neighbour, f"REPORT ICE at Cermak 60608 #{n}")) for n in range(1000)]

    assert Report.objects.count() == 10
    assert sum(reply is not None for reply in replies) == 4
    assert replies[:4] == [translated(webhooks.THANKS, "en")] * 4
    assert InboundMessage.objects.count() == 1000


@override_settings(SMS_RATE_PER_MINUTE=3)
def test_a_throttled_message_is_still_recorded_as_seen(db, neighbour):
    sids = [new_sid() for _ in range(5)]
    with mock.patch("django.utils.timezone.now", return_value=FLOOD_AT):
        for sid in sids:
            text(neighbour, "REPORT ICE at Cermak 60608", sid=sid)
    later = FLOOD_AT + timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert reply_of(text(neighbour, "REPORT ICE at Cermak 60608", sid=sids[-1])) is None

    assert Report.objects.count() == 3


@override_settings(SMS_RATE_PER_MINUTE=2)
def test_one_numbers_flood_does_not_silence_another_neighbour(db, neighbour):
    with mock.patch("django.utils.timezone.now", return_value=FLOOD_AT):
        for _ in range(5):
            text(neighbour, "REPORT ICE at Cermak 60608")
        reply = reply_of(text(neighbour, "REPORT ICE at Cermak 60608", sender="+17735550199"))

    assert reply == translated(webhooks.THANKS, "en")
    assert Report.objects.count() == 3


@override_settings(SMS_RATE_PER_MINUTE=1)
def test_stop_still_works_in_a_flood(db, neighbour):
    with mock.patch("django.utils.timezone.now", return_value=FLOOD_AT):
        text(neighbour, "ICE at the school on 26th")
        assert conversation() is not None
        assert reply_of(text(neighbour, "BAJA")) is None

    assert conversation() is None


@override_settings(SMS_REPLIES_PER_HOUR=0)
def test_past_the_reply_cap_a_report_is_still_stored_but_not_answered(db, neighbour):
    assert reply_of(text(neighbour, "ICE at the school on 26th")) is None

    assert Report.objects.count() == 1
    assert conversation().state == ConversationState.ASK_PLACE  # type: ignore[union-attr]


# --- E1: bad input ----------------------------------------------------------------------


def signed_without(field: str) -> dict[str, str]:
    fields = twilio_fields("ICE at 26th", sid=new_sid())
    del fields[field]
    return fields


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (signed_without("From"), b"Missing From."),
        (signed_without("Body"), b"Missing Body."),
        (signed_without("MessageSid"), b"Missing MessageSid."),
        ({**signed_without("Body"), "Body": "x" * 1601}, b"Body is too long."),
        ({**signed_without("Body"), "Body": "ICE\x00at 26th"}, b"NUL bytes are not allowed."),
        ({**signed_without("To"), "To": "\x00"}, b"NUL bytes are not allowed."),
        ({**signed_without("From"), "From": "not a phone"}, b"Invalid From."),
        ({**signed_without("From"), "From": "+1"}, b"Invalid From."),
        ({**signed_without("From"), "From": "+1312555014" + "2" * 40}, b"Invalid From."),
        ({**signed_without("MessageSid"), "MessageSid": "SM' OR 1=1"}, b"Invalid MessageSid."),
        ({**signed_without("MessageSid"), "MessageSid": "S" * 65}, b"Invalid MessageSid."),
    ],
)
def test_bad_input_is_refused_with_a_short_message_and_nothing_stored(db, neighbour, fields, message):
    response = post_signed(neighbour, fields)

    assert (response.status_code, response.content) == (400, message)
    assert not InboundMessage.objects.exists()
    assert not Report.objects.exists()


def test_a_body_of_exactly_1600_characters_is_accepted(db, neighbour):
    assert text(neighbour, "ICE " * 400).status_code == 200
    assert Report.objects.count() == 1


def test_a_huge_request_is_refused_before_it_is_read(db, neighbour):
    fields = twilio_fields("x" * 100_000, sid=new_sid())
    assert post_signed(neighbour, fields).status_code == 400


def test_a_thousand_fields_are_refused(db, neighbour):
    fields = {**twilio_fields("ICE at 26th"), **{f"F{n}": "x" for n in range(1000)}}
    assert post_signed(neighbour, fields).status_code == 400
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"MessageSid": "SM1", "From": "+13125550142", "Body": "ICE"}'),
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=Body\r\n\r\nICE"),
        ("multipart/form-data; boundary=x", b"--x\r\nnot a part"),
        ("text/plain", b"\xff\xfe\x00"),
    ],
)
def test_wrong_content_types_are_refused_without_a_server_error(db, neighbour, content_type, body):
    response = neighbour.post(URL, body, content_type=content_type, headers={"X-Twilio-Signature": "x"})
    assert response.status_code in (400, 403)
    assert not InboundMessage.objects.exists()


def test_only_post_is_accepted(db, neighbour):
    assert neighbour.get(URL).status_code == 405


def raw_post(client: Client, pairs: list[tuple[str, str]]):
    """A form body built by hand, so lone surrogates travel as the invalid UTF-8 they become."""
    body = "&".join(
        quote(key.encode("utf-8", "surrogatepass"), safe="")
        + "="
        + quote(value.encode("utf-8", "surrogatepass"), safe="")
        for key, value in pairs
    )
    parsed = QueryDict(body)  # what the server will see, and so what Twilio would have signed
    return client.post(
        URL,
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature_for(parsed)},
    )


HOSTILE_TEXT = st.text(max_size=2000) | st.sampled_from(
    ["REPORT", "LANG", "AYUDA \x00", "\ud800", "60608", "SKIP", "<Response/>", "]]>&amp;", "REPORTE " + "ñ" * 1592]
)
FUZZ = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@override_settings(SMS_RATE_PER_MINUTE=10_000, SMS_REPLIES_PER_HOUR=10_000)
@FUZZ
@given(body=HOSTILE_TEXT, sender=st.sampled_from([NEIGHBOUR, "+17735550199", "(312) 555-0142"]))
def test_hostile_bodies_from_a_real_number_never_cause_a_server_error(db, neighbour, body, sender):
    response = raw_post(neighbour, [("MessageSid", f"SM{next(_sids)}"), ("From", sender), ("Body", body)])
    event(f"status {response.status_code}")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        reply_of(response)


@override_settings(SMS_RATE_PER_MINUTE=10_000, SMS_REPLIES_PER_HOUR=10_000)
@FUZZ
@given(
    body=HOSTILE_TEXT,
    sender=st.sampled_from(["", "+", "\x00", "+1 312 555 0142 ext 9", "ñ" * 40, NEIGHBOUR]) | st.text(max_size=50),
    sid=st.text(alphabet="SMabcdef0123456789", min_size=1, max_size=40) | st.text(max_size=70),
    extra=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=50)), max_size=5),
)
def test_hostile_fields_never_cause_a_server_error(db, neighbour, body, sender, sid, extra):
    response = raw_post(neighbour, [("MessageSid", f"{sid}{next(_sids)}"), ("From", sender), ("Body", body), *extra])
    event(f"status {response.status_code}")
    assert response.status_code in (200, 400), response.content


# --- Privacy ----------------------------------------------------------------------------


def test_csrf_does_not_apply_and_no_cookie_is_set(db):
    response = text(Client(enforce_csrf_checks=True), "ICE at the school on 26th")

    assert response.status_code == 200
    assert not response.cookies


def test_replies_are_escaped_twiml(db, neighbour):
    with override_settings(NETWORK_NAME="Pilsen & <Co>"):
        reply = reply_of(text(neighbour, "HELP"))
    assert reply is not None
    assert reply.startswith("Pilsen & <Co>:")


def test_no_database_column_holds_the_phone_number_or_the_words(db, neighbour, zone):
    text(neighbour, "ICE near Gallery Cabaret on 26th")
    text(neighbour, "Cermak and Blue Island")
    text(neighbour, "LANG ES")
    text(neighbour, "REPORTE la migra en la escuela Orozco 60608")

    cells: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        cells.append(bytes(value).decode("latin-1"))
                    elif value is not None:
                        cells.append(str(value))
    everything = "\n".join(cells)
    for form in NEIGHBOUR_FORMS:
        assert form not in everything
    for words in ["Gallery Cabaret", "Blue Island", "escuela Orozco"]:
        assert words not in everything
    assert Report.objects.count() == 2


def test_no_log_line_holds_the_phone_number_or_the_words(db, neighbour, caplog):
    caplog.set_level(logging.DEBUG)
    with override_settings(SMS_RATE_PER_MINUTE=3, SMS_REPLIES_PER_HOUR=2):
        for body in ["ICE near Gallery Cabaret", "Blue Island", "AYUDA", "LANG XX", "BAJA", "REPORT x 60608"]:
            text(neighbour, body)
    bad = twilio_fields("Gallery Cabaret", sid=new_sid())
    post_form(neighbour, bad, signature="forged")
    post_signed(neighbour, {**bad, "MessageSid": "SM1", "From": "312555014"})
    post_signed(neighbour, {**bad, "MessageSid": "SM2", "Body": "Gallery Cabaret\x00"})

    logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    assert caplog.records, "the forged request and the throttled ones are logged"
    for secret in [*NEIGHBOUR_FORMS, "312555014", "Gallery Cabaret", "Blue Island"]:
        assert secret not in logged
