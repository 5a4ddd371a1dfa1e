"""The roster: vetting by an organizer, changes audited, who sees what (D2, D3, E2)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from conftest import login, make_staff
from vigil.accounts.models import Role, User
from vigil.accounts.tests.helpers import reauthenticate
from vigil.channels.models import ChannelKind, Endpoint
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.core.phones import phone_index
from vigil.responders import roster
from vigil.responders.models import Responder, ResponderRole, ResponderStatus, Training
from vigil.responders.tests.conftest import make_responder

XSS = "<script>alert('roster')</script>"
PHONE = "(773) 555-0142"
E164 = "+17735550142"


def applicant(
    chapter: Chapter, zone: Zone | None = None, *, name: str = "Rosa Martinez", phone: str = PHONE
) -> Responder:
    responder = roster.apply(
        chapter, name=name, phone=phone, language="es", languages=["es", "en"], zone_ids=[zone.pk] if zone else []
    )
    assert responder is not None
    return responder


def actions(obj: object) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(obj.pk)).order_by("id").values_list("action", flat=True)  # type: ignore[attr-defined]
    )


@pytest.fixture
def volunteer_user(chapter: Chapter) -> User:
    responder = make_responder(chapter, 90)
    assert responder.user is not None
    return responder.user


# --- Actions ---------------------------------------------------------------------------------


def test_an_application_is_stored_encrypted_and_waits_for_approval(chapter: Chapter, zone: Zone) -> None:
    rosa = applicant(chapter, zone)
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.APPLIED
    assert rosa.phone == E164 and rosa.phone_index == phone_index(E164)
    assert rosa.name == "Rosa Martinez"
    assert rosa.user is None and rosa.endpoint is None
    assert list(rosa.home_zones.all()) == [zone]
    assert actions(rosa) == ["responder.apply"]
    raw = Responder.objects.filter(pk=rosa.pk).values_list("name", "phone").get()
    assert b"Rosa" not in bytes(raw[0]) and b"5550142" not in bytes(raw[1])


def test_the_same_phone_applying_twice_writes_nothing_new(chapter: Chapter) -> None:
    applicant(chapter)
    assert roster.apply(chapter, name="Someone Else", phone=E164, language="en") is None
    assert Responder.objects.count() == 1


def test_an_organizer_approves_and_the_account_says_nothing_of_the_person(
    chapter: Chapter, zone: Zone, organizer: User
) -> None:
    rosa = applicant(chapter, zone)
    approved = roster.approve(rosa, acting_user=organizer)

    user = approved.user
    assert user is not None
    assert user.role == Role.VOLUNTEER
    assert user.username.startswith("vol-") and len(user.username) == 12
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == ("", "", "")
    assert list(user.chapters.all()) == [chapter]
    assert approved.status == ResponderStatus.APPROVED and approved.approved_by == organizer
    endpoint = approved.endpoint
    assert endpoint is not None
    assert (endpoint.chapter_id, endpoint.channel, endpoint.address_index) == (chapter.pk, "sms", phone_index(E164))
    assert endpoint.address == E164
    event = AuditEvent.objects.get(action="responder.approve")
    assert event.actor == organizer and event.object_id == str(rosa.pk) and event.chapter == chapter


def test_approval_reuses_the_endpoint_an_alert_subscription_made(chapter: Chapter, organizer: User) -> None:
    existing = Endpoint(chapter=chapter, channel=ChannelKind.SMS, address_index=phone_index(E164))
    existing.address = E164
    existing.save()
    approved = roster.approve(applicant(chapter), acting_user=organizer)
    assert approved.endpoint == existing
    assert Endpoint.objects.count() == 1


def test_a_dispatcher_cannot_approve(chapter: Chapter, dispatcher: User) -> None:
    rosa = applicant(chapter)
    with pytest.raises(roster.NotAllowed):
        roster.approve(rosa, acting_user=dispatcher)
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.APPLIED and not User.objects.filter(role=Role.VOLUNTEER).exists()


def test_suspend_reinstate_and_leave(chapter: Chapter, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    assert rosa.user is not None
    roster.suspend(rosa, acting_user=organizer)
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.SUSPENDED and rosa.user is not None and not rosa.user.is_active
    roster.reinstate(rosa, acting_user=organizer)
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.APPROVED and rosa.user is not None and rosa.user.is_active
    roster.mark_left(rosa, acting_user=organizer)
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.LEFT and rosa.endpoint is None
    assert rosa.user is not None and not rosa.user.is_active
    assert actions(rosa) == [
        "responder.apply",
        "responder.approve",
        "responder.suspend",
        "responder.reinstate",
        "responder.left",
    ]
    # Once left, the same phone may apply again.
    assert roster.apply(chapter, name="Rosa M.", phone=PHONE, language="es") is not None


def test_update_changes_phone_zones_and_channel(chapter: Chapter, zone: Zone, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    roster.update(
        rosa,
        acting_user=organizer,
        name="Rosa María Martínez",
        phone="312 555 0177",
        language="en",
        languages=["en", "es", "xx"],
        zone_ids=[zone.pk],
        is_backup=True,
        channel=ChannelKind.SIGNAL,
    )
    rosa.refresh_from_db()
    assert rosa.name == "Rosa María Martínez" and rosa.phone == "+13125550177"
    assert rosa.phone_index == phone_index("+13125550177")
    assert rosa.languages == ["en", "es"] and rosa.is_backup
    assert rosa.endpoint is not None and rosa.endpoint.channel == ChannelKind.SIGNAL
    assert rosa.endpoint.address_index == rosa.phone_index
    assert list(rosa.home_zones.all()) == [zone]
    assert actions(rosa)[-1] == "responder.update"


def test_zones_of_another_chapter_are_refused(chapter: Chapter, other_zone: Zone, organizer: User) -> None:
    rosa = applicant(chapter)
    with pytest.raises(roster.RosterError):
        roster.update(rosa, acting_user=organizer, name="Rosa", phone=PHONE, language="es", zone_ids=[other_zone.pk])


def test_trainings_and_their_expiry(chapter: Chapter, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    today = timezone.localdate()
    with pytest.raises(roster.RosterError):
        roster.add_training(
            rosa,
            role=ResponderRole.VERIFIER,
            completed_on=today,
            expires_on=today - timedelta(days=1),
            acting_user=organizer,
        )
    training = roster.add_training(
        rosa,
        role=ResponderRole.VERIFIER,
        completed_on=today,
        expires_on=today + timedelta(days=365),
        acting_user=organizer,
    )
    assert training.recorded_by == organizer and training.source == "manual"
    roster.remove_training(training, acting_user=organizer)
    assert not Training.objects.exists()
    assert actions(rosa)[-2:] == ["responder.training_add", "responder.training_remove"]


def test_give_login_sets_a_one_time_password(chapter: Chapter, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    password = roster.give_login(rosa, acting_user=organizer)
    assert rosa.user is not None
    rosa.user.refresh_from_db()
    assert check_password(password, rosa.user.password)
    assert actions(rosa)[-1] == "responder.give_login"


# --- Pages -----------------------------------------------------------------------------------


def test_the_organizer_approves_from_the_applications_queue(
    client: Client, chapter: Chapter, zone: Zone, organizer: User
) -> None:
    rosa = applicant(chapter, zone, name=XSS)
    login(client, organizer)
    queue = client.get("/staff/responders/applications/")
    assert queue.status_code == 200
    assert XSS.encode() not in queue.content and b"&lt;script&gt;" in queue.content
    response = client.post(f"/staff/responders/{rosa.pk}/approve/", {"next": "applications"})
    assert response.status_code == 302 and response["Location"] == "/staff/responders/applications/"
    rosa.refresh_from_db()
    assert rosa.status == ResponderStatus.APPROVED


def test_the_list_is_one_audit_row_and_a_constant_number_of_queries(
    client: Client,
    chapter: Chapter,
    zone: Zone,
    organizer: User,
    volunteers: Callable[..., Responder],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(1, 4):
        volunteers(n, home_zones=[zone])
    login(client, organizer)
    client.get("/staff/responders/")
    path = f"/staff/responders/?role=verifier&zone={zone.pk}"
    with CaptureQueriesContext(connection) as few:
        client.get(path)

    for n in range(4, 30):
        volunteers(n, home_zones=[zone])
    before = AuditEvent.objects.filter(action="responder.list").count()
    with django_assert_max_num_queries(len(few)):
        page = client.get(path)
    assert page.status_code == 200
    assert sum(str(r.pk).encode() in page.content for r in Responder.objects.all()) == 29
    assert AuditEvent.objects.filter(action="responder.list").count() == before + 1


def test_list_filters(client: Client, chapter: Chapter, zone: Zone, organizer: User) -> None:
    trained = make_responder(chapter, 1, home_zones=[zone])
    untrained = make_responder(chapter, 2, trained=False)
    expired = make_responder(chapter, 3, trained=False)
    Training.objects.create(
        responder=expired,
        role=ResponderRole.VERIFIER,
        completed_on=date(2020, 1, 1),
        expires_on=date(2021, 1, 1),
        recorded_at=timezone.now(),
    )
    waiting = applicant(chapter)
    login(client, organizer)

    def shown(query: str) -> set[uuid.UUID]:
        page = client.get("/staff/responders/" + query)
        assert page.status_code == 200
        return {r.pk for r in (trained, untrained, expired, waiting) if str(r.pk).encode() in page.content}

    assert shown("") == {trained.pk, untrained.pk, expired.pk, waiting.pk}
    assert shown("?role=verifier") == {trained.pk}
    assert shown(f"?zone={zone.pk}") == {trained.pk}
    assert shown("?status=applied") == {waiting.pk}
    assert shown("?zone=²") == {trained.pk, untrained.pk, expired.pk, waiting.pk}
    assert shown("?status=nonsense&role=<x>&zone=99999999999999999") == {
        trained.pk,
        untrained.pk,
        expired.pk,
        waiting.pk,
    }


def test_a_dispatcher_reads_approved_responders_and_their_phone_on_the_detail_page(
    client: Client, chapter: Chapter, dispatcher: User
) -> None:
    approved = make_responder(chapter, 1)
    waiting = applicant(chapter)
    login(client, dispatcher)
    listing = client.get("/staff/responders/")
    assert listing.status_code == 200
    assert str(approved.pk).encode() in listing.content and str(waiting.pk).encode() not in listing.content
    assert b"+17735550001" not in listing.content
    detail = client.get(f"/staff/responders/{approved.pk}/")
    assert detail.status_code == 200 and b"+17735550001" in detail.content
    assert b"Approve</button>" not in detail.content and b"Suspend</button>" not in detail.content
    read = AuditEvent.objects.get(action="responder.read")
    assert read.actor == dispatcher and read.object_id == str(approved.pk)
    assert client.get(f"/staff/responders/{waiting.pk}/").status_code == 404
    assert client.get("/staff/responders/applications/").status_code == 403
    assert client.get("/staff/responders/new/").status_code == 403


def test_a_dispatcher_posting_approve_gets_403_and_nothing_changes(
    client: Client, chapter: Chapter, dispatcher: User
) -> None:
    waiting = applicant(chapter)
    approved = make_responder(chapter, 1)
    login(client, dispatcher)
    assert client.post(f"/staff/responders/{waiting.pk}/approve/").status_code == 403
    assert client.post(f"/staff/responders/{approved.pk}/suspend/").status_code == 403
    assert client.post(f"/staff/responders/{approved.pk}/trainings/", {"role": "driver"}).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == ResponderStatus.APPLIED


@pytest.mark.parametrize("role", [Role.VERIFIER, Role.LEGAL, Role.VOLUNTEER])
def test_other_roles_get_403_on_lists_and_404_on_objects(client: Client, chapter: Chapter, role: str) -> None:
    responder = make_responder(chapter, 1)
    training = responder.trainings.get()
    login(client, make_staff(f"someone-{role}", role, chapter))
    for path in ["/staff/responders/", "/staff/responders/applications/", "/staff/responders/new/"]:
        assert client.get(path).status_code == 403, path
    for path in [f"/staff/responders/{responder.pk}/", f"/staff/responders/{responder.pk}/edit/"]:
        assert client.get(path).status_code == 404, path
    for path in ["approve", "suspend", "reinstate", "left", "trainings", f"trainings/{training.pk}/remove"]:
        assert client.post(f"/staff/responders/{responder.pk}/{path}/").status_code == 404, path


def test_the_outsider_gets_404_on_every_object_route(client: Client, chapter: Chapter, outsider: User) -> None:
    responder = make_responder(chapter, 1)
    waiting = applicant(chapter)
    training = responder.trainings.get()
    admin_elsewhere = make_staff("otto.admin", Role.ADMIN, *outsider.chapters.all())
    for user in (outsider, admin_elsewhere):
        login(client, user)
        for target in (responder, waiting):
            for path in ["", "edit/", "login/"]:
                assert client.get(f"/staff/responders/{target.pk}/{path}").status_code == 404, path
            for path in ["approve", "suspend", "reinstate", "left", "trainings", f"trainings/{training.pk}/remove"]:
                assert client.post(f"/staff/responders/{target.pk}/{path}/").status_code == 404, path
        assert client.get(f"/staff/responders/{uuid.uuid4()}/").status_code == 404
        listing = client.get("/staff/responders/")
        assert str(responder.pk).encode() not in listing.content
    waiting.refresh_from_db()
    assert waiting.status == ResponderStatus.APPLIED


def test_adding_a_responder_ignores_extra_fields(client: Client, chapter: Chapter, zone: Zone, organizer: User) -> None:
    login(client, organizer)
    response = client.post(
        "/staff/responders/new/",
        {
            "name": XSS,
            "phone": PHONE,
            "language": "es",
            "languages": ["es"],
            "zones": [str(zone.pk)],
            "channel": "sms",
            "role": "admin",
            "is_staff": "on",
            "status": "approved",
            "verified": "1",
            "chapter": "9999",
        },
    )
    assert response.status_code == 302
    added = Responder.objects.get()
    assert added.status == ResponderStatus.APPLIED and added.user is None
    assert not User.objects.filter(is_staff=True).exists()
    assert actions(added) == ["responder.add"]
    detail = client.get(response["Location"])
    assert XSS.encode() not in detail.content and b"&lt;script&gt;alert" in detail.content


def test_bad_input_on_staff_forms_is_a_400_with_a_message(client: Client, chapter: Chapter, organizer: User) -> None:
    login(client, organizer)
    bad_phone = client.post("/staff/responders/new/", {"name": "A", "phone": "12", "language": "en", "channel": "sms"})
    assert bad_phone.status_code == 400 and b"does not look like a phone number" in bad_phone.content
    huge = client.post("/staff/responders/new/", {"name": "A" * 1_000_000, "phone": PHONE, "language": "en"})
    assert huge.status_code == 400
    nul = client.post("/staff/responders/new/", {"name": "A\x00B", "phone": PHONE, "language": "en", "channel": "sms"})
    assert nul.status_code == 400
    rosa = applicant(chapter)
    backwards = client.post(
        f"/staff/responders/{rosa.pk}/trainings/",
        {"role": "verifier", "completed_on": "2026-05-01", "expires_on": "2025-05-01"},
    )
    assert backwards.status_code == 400 and b"cannot expire before" in backwards.content
    again = client.post(f"/staff/responders/{rosa.pk}/reinstate/")
    assert again.status_code == 400
    duplicate = client.post("/staff/responders/new/", {"name": "B", "phone": PHONE, "language": "en", "channel": "sms"})
    assert duplicate.status_code == 400 and b"already on the roster" in duplicate.content
    assert Responder.objects.count() == 1


def test_training_add_and_remove_pages(client: Client, chapter: Chapter, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    login(client, organizer)
    response = client.post(
        f"/staff/responders/{rosa.pk}/trainings/",
        {"role": "legal_observer", "completed_on": "2026-01-10", "expires_on": "2027-01-10"},
    )
    assert response.status_code == 302
    training = Training.objects.get(responder=rosa)
    assert training.role == "legal_observer" and training.recorded_by == organizer
    page = client.get(f"/staff/responders/{rosa.pk}/")
    assert b"Legal observer" in page.content
    assert client.post(f"/staff/responders/{rosa.pk}/trainings/{training.pk}/remove/").status_code == 302
    assert not Training.objects.exists()


def test_the_edit_page_saves_and_audits(client: Client, chapter: Chapter, zone: Zone, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    login(client, organizer)
    form = client.get(f"/staff/responders/{rosa.pk}/edit/")
    assert form.status_code == 200 and E164.encode() in form.content
    response = client.post(
        f"/staff/responders/{rosa.pk}/edit/",
        {
            "name": "Rosa M",
            "phone": E164,
            "language": "en",
            "zones": [str(zone.pk)],
            "channel": "signal",
            "status": "left",
        },
    )
    assert response.status_code == 302
    rosa.refresh_from_db()
    assert rosa.name == "Rosa M" and rosa.status == ResponderStatus.APPROVED
    assert rosa.endpoint is not None and rosa.endpoint.channel == "signal"


def test_giving_a_login_needs_a_recent_reauthentication(client: Client, chapter: Chapter, organizer: User) -> None:
    rosa = roster.approve(applicant(chapter), acting_user=organizer)
    login(client, organizer)
    assert client.get(f"/staff/responders/{rosa.pk}/login/").status_code == 200
    stale = client.post(f"/staff/responders/{rosa.pk}/login/")
    assert stale.status_code == 302 and "/accounts/reauthenticate/" in stale["Location"]
    assert rosa.user is not None
    rosa.user.refresh_from_db()
    assert not rosa.user.has_usable_password()
    reauthenticate(client)
    shown = client.post(f"/staff/responders/{rosa.pk}/login/")
    assert shown.status_code == 200
    rosa.user.refresh_from_db()
    assert rosa.user.has_usable_password()
    assert shown["Cache-Control"].startswith("no-store") or "no-store" in shown["Cache-Control"]
