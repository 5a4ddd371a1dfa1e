"""The public volunteer application: no account, EN/ES, rate limited, the same answer whatever
happened (no learning who volunteers), hostile input a 4xx, extra fields ignored (D3)."""

from __future__ import annotations

import pytest
from django.test import Client

from vigil.accounts.models import User
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.core.phones import phone_index
from vigil.responders.apply_views import APPLICATIONS_PER_SOURCE
from vigil.responders.models import Responder, ResponderStatus
from vigil.responders.tests.conftest import make_responder, phone_of

PHONE = "773-555-0142"


def form(zone: Zone, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Rosa Martinez",
        "phone": PHONE,
        "language": "es",
        "languages": ["es", "en"],
        "zones": [str(zone.pk)],
        "roles": ["verifier", "interpreter"],
    }
    data.update(changes)
    return data


def test_the_form_in_english_and_spanish(neighbour: Client, zone: Zone, other_zone: Zone) -> None:
    english = neighbour.get("/volunteer/")
    assert english.status_code == 200
    assert b'<html lang="en">' in english.content
    assert b"Pilsen" in english.content and b"Cicero" in english.content
    assert b'type="tel"' in english.content
    spanish = Client().get("/volunteer/", headers={"accept-language": "es"})
    assert spanish.status_code == 200
    assert b'<html lang="es">' in spanish.content
    assert b'<option value="es" selected>' in spanish.content


def test_an_application_waits_for_an_organizer(neighbour: Client, chapter: Chapter, zone: Zone) -> None:
    response = neighbour.post("/volunteer/", form(zone))
    assert response.status_code == 302 and response["Location"] == "/volunteer/thanks/"
    thanks = neighbour.get(response["Location"])
    assert thanks.status_code == 200 and b"An organizer will contact you" in thanks.content
    rosa = Responder.objects.get()
    assert rosa.chapter == chapter and rosa.status == ResponderStatus.APPLIED
    assert rosa.phone == "+17735550142" and rosa.phone_index == phone_index("+17735550142")
    assert rosa.name == "Rosa Martinez" and rosa.language == "es" and rosa.languages == ["en", "es"]
    assert list(rosa.home_zones.all()) == [zone]
    assert rosa.user is None
    event = AuditEvent.objects.get(action="responder.apply")
    assert event.actor is None and event.actor_label == "public:volunteer"


def test_zones_of_two_chapters_make_one_application_each(neighbour: Client, zone: Zone, other_zone: Zone) -> None:
    response = neighbour.post("/volunteer/", form(zone, zones=[str(zone.pk), str(other_zone.pk)]))
    assert response.status_code == 302
    assert sorted(Responder.objects.values_list("chapter__slug", flat=True)) == ["cicero", "pilsen"]


def test_the_answer_is_the_same_for_someone_already_on_the_roster(chapter: Chapter, zone: Zone) -> None:
    make_responder(chapter, 7)
    known = Client(REMOTE_ADDR="198.51.100.1").post("/volunteer/", form(zone, phone=phone_of(7), name="Impostor"))
    fresh = Client(REMOTE_ADDR="198.51.100.2").post("/volunteer/", form(zone))
    assert (known.status_code, known["Location"]) == (fresh.status_code, fresh["Location"])
    assert known.content == fresh.content
    assert Responder.objects.count() == 2
    assert Responder.objects.get(phone_index=phone_index(phone_of(7))).name == "Volunteer 7"


def test_applications_are_rate_limited_per_connection(zone: Zone) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(APPLICATIONS_PER_SOURCE):
        assert client.post("/volunteer/", form(zone, phone=f"+1312555{n:04d}")).status_code == 302
    refused = client.post("/volunteer/", form(zone, phone="+13125559999"))
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert Responder.objects.count() == APPLICATIONS_PER_SOURCE
    other = Client(REMOTE_ADDR="203.0.113.10").post("/volunteer/", form(zone, phone="+13125559999"))
    assert other.status_code == 302


def test_a_bad_phone_is_a_400_with_a_message(neighbour: Client, zone: Zone) -> None:
    response = neighbour.post("/volunteer/", form(zone, phone="12"))
    assert response.status_code == 400
    assert b"does not look like a phone number" in response.content
    assert not Responder.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 1_000_000},
        {"name": "Rosa\x00"},
        {"phone": "\x00"},
        {"zones": []},
        {"zones": ["99999"]},
        {"zones": ["'; DROP TABLE responders_responder; --"]},
        {"language": "fr"},
        {"languages": ["zz"]},
        {"roles": ["admin"]},
    ],
)
def test_hostile_input_is_a_4xx_and_stores_nothing(neighbour: Client, zone: Zone, changes: dict[str, object]) -> None:
    response = neighbour.post("/volunteer/", form(zone, **changes))
    assert response.status_code == 400
    assert not Responder.objects.exists()


@pytest.mark.parametrize("raw_name", [b"Rosa%ED%A0%80", b"Rosa%FF%FE", b"%00"])
def test_invalid_utf8_and_lone_surrogates_never_500(neighbour: Client, zone: Zone, raw_name: bytes) -> None:
    """Django decodes form bodies with replacement characters: stored as such, or refused."""
    body = b"name=" + raw_name + b"&phone=7735550142&language=es&zones=" + str(zone.pk).encode()
    response = neighbour.post("/volunteer/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 400)
    for responder in Responder.objects.all():
        name = str(responder.name)
        assert "\x00" not in name
        name.encode("utf-8")


def test_wrong_content_types_and_methods(neighbour: Client, zone: Zone) -> None:
    assert neighbour.post("/volunteer/", b'{"name": 1}', content_type="application/json").status_code == 400
    assert neighbour.put("/volunteer/").status_code == 405
    many = {f"field{n}": "x" for n in range(10_000)}
    assert neighbour.post("/volunteer/", {**form(zone), **many}).status_code in (302, 400)
    assert neighbour.post("/volunteer/thanks/").status_code == 405


def test_extra_fields_change_nothing(neighbour: Client, zone: Zone) -> None:
    response = neighbour.post(
        "/volunteer/",
        form(zone, status="approved", role="admin", is_staff="on", verified="1", is_backup="on", user="1"),
    )
    assert response.status_code == 302
    rosa = Responder.objects.get()
    assert rosa.status == ResponderStatus.APPLIED and not rosa.is_backup and rosa.user is None
    assert not User.objects.exists()


def test_a_name_with_markup_is_escaped_for_staff(
    client: Client, neighbour: Client, zone: Zone, organizer: User
) -> None:
    from conftest import login

    neighbour.post("/volunteer/", form(zone, name="<img src=x onerror=alert(1)>"))
    login(client, organizer)
    for path in [
        "/staff/responders/",
        "/staff/responders/applications/",
        f"/staff/responders/{Responder.objects.get().pk}/",
    ]:
        page = client.get(path)
        assert b"<img src=x" not in page.content and b"&lt;img src=x onerror=alert(1)&gt;" in page.content
