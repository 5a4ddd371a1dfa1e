"""Staff pages: the dispatcher's panic on a call, and the legal team reading a plan."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from conftest import login, make_staff
from vigil.accounts.models import Role
from vigil.cases.models import Case, CaseAssignment
from vigil.channels.models import Delivery
from vigil.core.models import AuditEvent
from vigil.families import plans
from vigil.families.models import PanicEvent, PanicVia
from vigil.families.tests.conftest import make_rosa_plan


def test_a_dispatcher_on_a_call_finds_the_plan_confirms_and_lands_on_the_new_case(client, dispatcher, rosa_plan):
    plan, code = rosa_plan
    login(client, dispatcher)

    confirm = client.post(reverse("plan_panic"), {"code": code})
    assert confirm.status_code == 200 and confirm.context["contacts"] == 2
    assert b"Rosa" not in confirm.content and b"Marta" not in confirm.content  # no plan contents
    assert not Delivery.objects.exists()

    fired = client.post(reverse("plan_panic"), {"code": code, "confirm": "1"})

    event = PanicEvent.objects.get(plan=plan)
    assert event.via == PanicVia.DISPATCHER and event.actor == dispatcher
    assert fired.status_code == 302 and fired["Location"] == reverse("case_detail", args=[event.case_id])
    assert CaseAssignment.objects.filter(case=event.case, user=dispatcher).exists()
    assert Delivery.objects.count() == 2


def test_a_dispatcher_of_another_chapter_may_fire_it_and_is_sent_back_with_a_message(client, outsider, rosa_plan):
    plan, code = rosa_plan
    login(client, outsider)

    fired = client.post(reverse("plan_panic"), {"code": code, "confirm": "1"})

    assert fired.status_code == 302 and fired["Location"] == reverse("plan_panic")
    assert Case.objects.get().chapter_id == plan.chapter_id
    assert not CaseAssignment.objects.exists()


def test_wrong_codes_on_the_panic_page_are_limited_per_user(client, dispatcher, rosa_plan, settings):
    _plan, code = rosa_plan
    login(client, dispatcher)
    wrong = [f"{n:06d}" for n in range(1, 10) if f"{n:06d}" != code][: settings.PLAN_ATTEMPTS_PER_HOUR]
    for attempt in wrong:
        assert client.post(reverse("plan_panic"), {"code": attempt}).status_code == 400

    refused = client.post(reverse("plan_panic"), {"code": code, "confirm": "1"})

    assert refused.status_code == 429 and not PanicEvent.objects.exists()


def test_only_dispatchers_and_legal_reach_the_panic_page(client, chapter, verifier, organizer, admin_user):
    for user in (verifier, organizer, admin_user):
        login(client, user)
        assert client.get(reverse("plan_panic")).status_code == 404
        assert client.post(reverse("plan_panic"), {"code": "123456"}).status_code == 404
    client.logout()
    assert client.get(reverse("plan_panic")).status_code == 302  # to the login page


def test_legal_cannot_read_a_plan_before_consent_or_panic_and_can_after(client, legal_coordinator, rosa_plan):
    plan, _code = rosa_plan
    login(client, legal_coordinator)
    url = reverse("plan_detail", args=[plan.pk])

    assert client.get(url).status_code == 404
    assert plan.pk not in [p.pk for p in client.get(reverse("plan_panic")).context["readable"]]

    plans.set_consent(plan.pk, True, now=timezone.now())
    page = client.get(url)

    assert page.status_code == 200 and b"Marta Flores" in page.content and b"Insulina diaria" in page.content
    assert AuditEvent.objects.filter(action="plan.read", actor=legal_coordinator, object_id=str(plan.pk)).count() == 1
    assert plan.pk in [p.pk for p in client.get(reverse("plan_panic")).context["readable"]]


def test_reading_many_plans_in_an_hour_is_bulk_reading(client, legal_coordinator, chapter, zone, settings):
    settings.CASE_READ_ALERT = 2
    readable = []
    for n in range(3):
        plan, _code = make_rosa_plan(phone=f"+1312555{n:04d}")
        plans.set_consent(plan.pk, True, now=timezone.now())
        readable.append(plan)
    login(client, legal_coordinator)
    for plan in readable[:2]:
        client.get(reverse("plan_detail", args=[plan.pk]))
        client.get(reverse("plan_detail", args=[plan.pk]))  # reading one twice is one plan
    assert not AuditEvent.objects.filter(action="case.bulk_read").exists()

    client.get(reverse("plan_detail", args=[readable[2].pk]))

    assert AuditEvent.objects.filter(action="case.bulk_read", actor=legal_coordinator).count() == 1


def test_after_a_panic_legal_reads_the_plan(client, legal_coordinator, rosa_plan):
    from tests.twilio import text_via_webhook
    from vigil.families.tests.conftest import ROSA

    plan, code = rosa_plan
    text_via_webhook(ROSA, f"DETENIDO {code}")
    login(client, legal_coordinator)

    assert client.get(reverse("plan_detail", args=[plan.pk])).status_code == 200


def test_everyone_else_gets_404_for_a_readable_plan(client, chapter, other_chapter, dispatcher, outsider, rosa_plan):
    plan, _code = rosa_plan
    plans.set_consent(plan.pk, True, now=timezone.now())
    other_legal = make_staff("lena.legal", Role.LEGAL, other_chapter)
    url = reverse("plan_detail", args=[plan.pk])
    for user in (dispatcher, outsider, other_legal):
        login(client, user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code in (404, 405)
    login(client, make_staff("lu.legal2", Role.LEGAL, chapter))
    assert client.get(reverse("plan_detail", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


def test_the_legal_list_has_a_bounded_query_count(
    client, legal_coordinator, chapter, zone, django_assert_max_num_queries
):
    for _ in range(5):
        make_rosa_plan(consent=True)
    login(client, legal_coordinator)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("plan_panic")).status_code == 200
