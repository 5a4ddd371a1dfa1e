"""Making and changing a plan on the web, as Rosa does on her phone, in Spanish."""

from __future__ import annotations

import logging
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from vigil.core.models import AuditEvent, DataKey
from vigil.families import plans
from vigil.families.models import Plan, PlanContact, RetiredPlanCode
from vigil.families.tests.conftest import MARTA, MARTA_MESSAGE, ROSA, ROSA_PIN, make_rosa_plan


def in_spanish(client: Client) -> Client:
    client.post(reverse("set_language"), {"language": "es", "next": "/plan/"})
    return client


def form_data(**changes: str) -> dict[str, str]:
    data = {
        "language": "es",
        "name": "Rosa Flores",
        "phone": "312 555 0177",
        "zip_code": "60608",
        "c0-name": "Marta Flores",
        "c0-phone": "(312) 555-0188",
        "c0-language": "es",
        "c0-message": MARTA_MESSAGE,
        "c0-trusted": "on",
        "c1-name": "",
        "c1-phone": "",
        "c1-language": "en",
        "c1-message": "default text left alone",
        "c2-name": "",
        "c2-phone": "",
        "c2-language": "es",
        "c2-message": "",
        "children_pickup": "Marta recoge a Sofi",
        "school": "Escuela Jungman",
        "documents": "Caja azul",
        "attorney": "",
        "medical": "",
        "notes": "",
        "pin": "",
    }
    data.update(changes)
    return data


def test_rosa_makes_a_plan_in_spanish_and_sees_her_code_and_pin_once(neighbour, chapter, zone):
    in_spanish(neighbour)
    page = neighbour.get(reverse("plan_start"))
    assert page.status_code == 200 and b'lang="es"' in page.content
    assert page.context["form"].initial["language"] == "es"

    response = neighbour.post(reverse("plan_start"), form_data(pin="2468"))

    assert response.status_code == 302 and response["Location"] == reverse("plan_made")
    waiting = str(dict(neighbour.session))
    shown = neighbour.get(reverse("plan_made"))
    code, pin = shown.context["code"], shown.context["pin"]
    assert code not in waiting and "2468" not in waiting  # sealed while it waits in the session
    assert pin == "2468" and len(code) == 6 and code.encode() in shown.content
    assert b"DETENIDO" in shown.content
    again = neighbour.get(reverse("plan_made"))
    assert again.status_code == 302  # shown once only
    plan = Plan.objects.select_related("data_key").get()
    assert plans.open_plan(code, "2468") == plan
    assert plan.language == "es" and plan.phone == ROSA and plan.chapter == chapter
    contact = plan.contacts.get()  # blank rows ignored
    assert (contact.name, contact.phone, contact.language, contact.message) == (
        "Marta Flores",
        MARTA,
        "es",
        MARTA_MESSAGE,
    )
    assert plan.consent_at is None and not plan.legal_may_read
    assert AuditEvent.objects.filter(action="plan.create", actor_label="public:plan").count() == 1


def test_a_pin_is_chosen_for_her_when_left_empty_and_consent_is_recorded(neighbour, chapter, zone):
    neighbour.post(reverse("plan_start"), form_data(consent="on"))

    shown = neighbour.get(reverse("plan_made"))

    assert plans.valid_pin(shown.context["pin"])
    assert Plan.objects.get().legal_may_read


def test_bad_input_is_a_400_with_a_message_and_nothing_saved(neighbour, chapter, zone):
    cases: list[dict[str, Any]] = [
        form_data(**{"c0-name": "", "c0-phone": ""}),  # no contact
        form_data(**{"c0-phone": "12"}),
        form_data(**{"c0-message": "x" * 301}),
        form_data(pin="12ab"),
        form_data(zip_code="6060"),
        form_data(name="Rosa\x00"),
        form_data(notes="y" * 1_000_000),
    ]
    for data in cases:
        response = neighbour.post(reverse("plan_start"), data)
        assert response.status_code == 400, data
    assert not Plan.objects.exists() and not DataKey.objects.filter(purpose="plan").exists()


def test_the_plan_page_fits_a_phone_and_loads_nothing_from_elsewhere(neighbour, chapter):
    page = neighbour.get(reverse("plan_start")).content.decode()
    assert 'name="viewport"' in page
    assert "http://" not in page and "https://" not in page
    assert "<script>" not in page and "onclick" not in page


def open_plan(client: Client, code: str, pin: str = ROSA_PIN) -> Any:
    return client.post(reverse("plan_open"), {"code": code, "pin": pin})


def test_rosa_opens_her_plan_changes_a_contact_and_her_pin(neighbour, chapter, zone):
    plan, code = make_rosa_plan()

    assert open_plan(neighbour, code)["Location"] == reverse("plan_edit")
    page = neighbour.get(reverse("plan_edit"))
    assert page.status_code == 200 and b"Marta Flores" in page.content
    data = form_data(**{"c1-name": "Luz", "c1-phone": "773 555 0110", "c1-language": "en", "c1-message": "Hi Luz"})
    data.pop("zip_code")
    data.pop("pin")
    assert neighbour.post(reverse("plan_edit"), {"action": "save", **data}).status_code == 302
    assert neighbour.post(reverse("plan_edit"), {"action": "pin", "pin": "97531"}).status_code == 302

    plan = Plan.objects.select_related("data_key").get(pk=plan.pk)
    assert [c.name for c in plan.contacts.all()] == ["Marta Flores", "Luz"]
    assert plans.open_plan(code, "97531") == plan and plans.open_plan(code, ROSA_PIN) is None


def test_rosa_gives_and_withdraws_consent(neighbour, chapter, zone):
    plan, code = make_rosa_plan()
    open_plan(neighbour, code)

    neighbour.post(reverse("plan_edit"), {"action": "consent", "consent": "1"})
    assert Plan.objects.get(pk=plan.pk).legal_may_read
    neighbour.post(reverse("plan_edit"), {"action": "consent", "consent": "0"})
    assert not Plan.objects.get(pk=plan.pk).legal_may_read


def test_deleting_the_plan_shreds_its_key(neighbour, chapter, zone):
    plan, code = make_rosa_plan()
    key_id = plan.data_key_id
    open_plan(neighbour, code)

    assert neighbour.post(reverse("plan_edit"), {"action": "delete"}).status_code == 400  # not confirmed
    response = neighbour.post(reverse("plan_edit"), {"action": "delete", "confirm": "on"})

    assert response.status_code == 200
    assert not Plan.objects.exists() and not PlanContact.objects.exists()
    assert not DataKey.objects.filter(pk=str(key_id)).exists()
    assert neighbour.get(reverse("plan_edit")).status_code == 302


def test_a_deleted_plans_code_is_never_given_to_another_family(neighbour, chapter, zone, monkeypatch):
    """An old contact texting DETAINED with a deleted plan's code must fire nobody's plan."""
    plan, code = make_rosa_plan()
    assert plans.delete_plan(plan.pk, now=timezone.now())
    assert RetiredPlanCode.objects.filter(code_index=plans.code_index(code)).exists()

    # The next family's random draw lands on the retired code first: it is drawn again.
    draws = iter([int(code), 424242 if code != "424242" else 525252])
    monkeypatch.setattr(plans.secrets, "randbelow", lambda _n: next(draws))
    _new_plan, new_code = make_rosa_plan()

    assert new_code != code and plans.plan_for_code(code) is None


def test_the_edit_page_needs_an_opened_plan_and_closes_after_15_minutes(neighbour, chapter, zone):
    _plan, code = make_rosa_plan()
    assert neighbour.get(reverse("plan_edit")).status_code == 302
    open_plan(neighbour, code)
    session = neighbour.session
    held = session["families.plan_edit"]
    session["families.plan_edit"] = {**held, "until": held["until"] - 15 * 60 - 1}
    session.save()

    assert neighbour.get(reverse("plan_edit")).status_code == 302


def test_a_wrong_code_or_pin_gets_the_same_message_and_the_limit_answers_429(neighbour, chapter, zone, settings):
    _plan, code = make_rosa_plan()
    wrong_code = open_plan(neighbour, "000000" if code != "000000" else "111111")
    wrong_pin = open_plan(neighbour, code, "0000")
    assert wrong_code.status_code == wrong_pin.status_code == 400
    assert wrong_code.context["notice"] == wrong_pin.context["notice"]
    for _ in range(settings.PLAN_ATTEMPTS_PER_HOUR - 2):
        open_plan(neighbour, code, "0000")

    refused = open_plan(neighbour, code)  # the right PIN, but over the limit

    assert refused.status_code == 429
    assert refused.context["notice"] == wrong_pin.context["notice"]
    assert "plan_edit" not in str(refused.get("Location", ""))


def test_nothing_personal_reaches_the_logs(neighbour, chapter, zone, caplog):
    caplog.set_level(logging.DEBUG)
    neighbour.post(reverse("plan_start"), form_data(pin="2468"))
    code = neighbour.get(reverse("plan_made")).context["code"]
    open_plan(neighbour, code, "2468")
    for secret in (code, "2468", "Rosa Flores", "Marta", "5550177", "5550188"):
        assert secret not in caplog.text
