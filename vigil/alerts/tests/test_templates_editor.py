"""Alert texts: written and approved by organizers, placeholders checked, length shown."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from conftest import login
from vigil.alerts.actions import (
    InvalidTemplate,
    approve_all_templates,
    approve_template,
    check_template_body,
    save_template,
)
from vigil.alerts.models import AlertKind, AlertTemplate
from vigil.alerts.tests.alerting import default_texts
from vigil.core.models import AuditEvent
from vigil.intake.sms import is_gsm7, sms_segments


def test_default_texts_exist_in_english_and_spanish_as_unapproved_drafts(db):
    templates = list(AlertTemplate.objects.all())
    assert {(t.kind, t.language) for t in templates} == {(k, lang) for k in AlertKind.values for lang in ("en", "es")}
    assert all(t.approved_at is None for t in templates)


@pytest.mark.parametrize("drill", ["", "DRILL: ", "SIMULACRO: "])
def test_default_texts_fit_one_gsm7_segment_with_long_names(drill):
    for body in default_texts().values():
        text = drill + body.format(network="Chicago Rapid Resp.", zone="Little Village North", time="23:45")
        assert is_gsm7(text)
        assert sms_segments(text) == 1, text


@pytest.mark.parametrize(
    "body", ["Raid at {address}", "{zone} {0}", "{zone!r}", "{time:%H}", "Unclosed {zone", "{zone.name}", "   "]
)
def test_anything_but_the_three_placeholders_is_refused(body):
    with pytest.raises(InvalidTemplate):
        check_template_body(body)


def test_escaped_braces_and_the_three_placeholders_are_fine():
    assert check_template_body(" {network}: {{calm}} in {zone} at {time} ") == "{network}: {{calm}} in {zone} at {time}"


def test_editing_clears_the_approval_and_an_organizer_approves_again(organizer):
    approve_all_templates(organizer)
    template = save_template(AlertKind.ALL_CLEAR, "en", "{network}: all clear in {zone}.", acting_user=organizer)
    assert template.approved_at is None and template.approved_by is None

    approve_template(template, acting_user=organizer)

    template.refresh_from_db()
    assert template.approved_by == organizer and template.approved_at is not None
    assert AuditEvent.objects.filter(action="alerttemplate.edit", actor=organizer).count() == 1
    assert AuditEvent.objects.filter(action="alerttemplate.approve", object_id=str(template.pk)).count() == 2


def test_dispatchers_and_verifiers_cannot_write_or_approve_texts(dispatcher, verifier):
    template = AlertTemplate.objects.get(kind=AlertKind.ACTIVITY, language="en")
    for person in (dispatcher, verifier):
        with pytest.raises(PermissionDenied):
            save_template(AlertKind.ACTIVITY, "en", "{zone}", acting_user=person)
        with pytest.raises(PermissionDenied):
            approve_template(template, acting_user=person)


def test_the_editor_shows_segments_and_encoding_and_warns_above_one_segment(client, organizer):
    login(client, organizer)
    url = reverse("alert_template_edit", args=["activity", "es"])

    page = client.get(url).content.decode()
    assert "GSM-7" in page and "1 SMS segment" in page

    long_text = "{network}: " + "Actividad de inmigración confirmada en {zone}. " * 3
    preview = client.post(url, {"action": "preview", "body": long_text}).content.decode()
    assert "UCS-2" in preview and "Longer than one SMS segment" in preview
    assert AlertTemplate.objects.get(kind="activity", language="es").body != long_text


def test_an_unknown_placeholder_is_refused_on_the_page_with_a_clear_message(client, organizer):
    login(client, organizer)
    url = reverse("alert_template_edit", args=["activity", "en"])

    response = client.post(url, {"action": "save", "body": "Raid at {address} in {zone}"})

    assert response.status_code == 400
    assert "Unknown placeholder {address}" in response.content.decode()
    assert "{address}" not in AlertTemplate.objects.get(kind="activity", language="en").body


def test_saving_then_approving_on_the_page(client, organizer):
    login(client, organizer)
    url = reverse("alert_template_edit", args=["checkpoint", "en"])
    body = "{network}: Checkpoint in {zone} at {time}."

    assert client.post(url, {"action": "save", "body": body}).status_code == 302
    assert client.post(url, {"action": "approve", "body_seen": "an older text"}).status_code == 400
    assert client.post(url, {"action": "approve", "body_seen": body}).status_code == 302

    template = AlertTemplate.objects.get(kind="checkpoint", language="en")
    assert template.body == body and template.approved_by == organizer


@pytest.mark.parametrize(("persona", "status"), [("dispatcher", 403), ("verifier", 403), ("outsider", 403)])
def test_only_organizers_and_admins_open_the_text_pages(request, persona, status):
    client = login(Client(), request.getfixturevalue(persona))
    assert client.get(reverse("alert_templates")).status_code == status
    assert client.get(reverse("alert_template_edit", args=["activity", "en"])).status_code == status


def test_an_unknown_kind_or_language_is_not_found(client, admin_user):
    login(client, admin_user)
    assert client.get(reverse("alert_templates")).status_code == 200
    assert client.get(reverse("alert_template_edit", args=["raid", "en"])).status_code == 404
    assert client.get(reverse("alert_template_edit", args=["activity", "fr"])).status_code == 404
