"""Zones for organizers: counts only, ZIP codes resolved from bundled data, chapter-scoped, audited."""

from __future__ import annotations

import h3
import pytest

from conftest import login
from vigil.alerts.bulk import add_subscribers, fake_phone
from vigil.alerts.models import SubscriberStatus
from vigil.alerts.zones import ZONE_RESOLUTION, cells_for_zips
from vigil.core.models import AuditEvent, Zone


def test_the_organizer_sees_counts_and_never_a_contact(client, organizer, chapter, zone, other_zone):
    subscribers = add_subscribers(chapter, [zone], 3)
    subscribers[0].status = SubscriberStatus.PENDING
    subscribers[0].save(update_fields=["status"])
    add_subscribers(other_zone.chapter, [other_zone], 2, start=100)

    response = login(client, organizer).get("/staff/zones/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pilsen" in page and "Cicero" not in page
    assert [row.active for row in response.context["rows"]] == [2]
    assert [row.pending for row in response.context["rows"]] == [1]
    # No subscriber's number, in any form ("555" alone turns up in CSRF tokens).
    for n in range(3):
        assert fake_phone(n)[2:] not in page and fake_phone(n)[5:] not in page


def test_the_dispatcher_reads_the_list_but_cannot_edit(client, dispatcher, zone):
    login(client, dispatcher)
    response = client.get("/staff/zones/")
    assert response.status_code == 200
    assert b"/staff/zones/new" not in response.content
    assert client.get("/staff/zones/new").status_code == 403
    assert client.get(f"/staff/zones/{zone.pk}/").status_code == 403
    assert client.post(f"/staff/zones/{zone.pk}/", {"name": "Taken", "zip_codes": "60608"}).status_code == 403
    zone.refresh_from_db()
    assert zone.name == "Pilsen"


@pytest.mark.parametrize("persona", ["verifier", "legal_coordinator"])
def test_other_roles_do_not_see_zones(client, zone, persona, request):
    login(client, request.getfixturevalue(persona))
    assert client.get("/staff/zones/").status_code == 403
    assert client.get(f"/staff/zones/{zone.pk}/").status_code == 404


def test_an_outsider_gets_404_for_another_chapters_zone(client, outsider, zone):
    login(client, outsider)
    assert client.get(f"/staff/zones/{zone.pk}/").status_code == 404
    assert client.post(f"/staff/zones/{zone.pk}/", {"name": "Mine", "zip_codes": "60608"}).status_code == 404
    assert client.get("/staff/zones/999999/").status_code == 404


def test_anonymous_is_sent_to_login(client, zone):
    assert client.get("/staff/zones/").status_code == 302


def test_creating_a_zone_from_zip_codes_stores_them_and_their_cells(client, organizer, chapter):
    login(client, organizer)
    response = client.post("/staff/zones/new", {"name": "Little Village", "zip_codes": "60623, 60632", "cells": ""})
    assert response.status_code == 302

    created = Zone.objects.get(name="Little Village")
    assert created.chapter == chapter
    assert created.zip_codes == ["60623", "60632"]
    assert set(created.cells) == set(cells_for_zips(["60623", "60632"]))
    centroid_cell = h3.latlng_to_cell(41.849, -87.7157, ZONE_RESOLUTION)
    assert centroid_cell in created.cells
    assert AuditEvent.objects.filter(action="zone.create", object_id=str(created.pk), actor=organizer).exists()


def test_cells_picked_on_the_map_are_kept(client, admin_user, zone):
    login(client, admin_user)
    page = client.get(f"/staff/zones/{zone.pk}/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b'data-cell="' in page.content
    picked = h3.latlng_to_cell(41.86, -87.65, ZONE_RESOLUTION)

    response = client.post(f"/staff/zones/{zone.pk}/", {"name": "Pilsen", "zip_codes": "60608", "cells": picked})
    assert response.status_code == 302
    zone.refresh_from_db()
    assert picked in zone.cells
    assert set(cells_for_zips(["60608"])) <= set(zone.cells)
    assert AuditEvent.objects.filter(action="zone.update", object_id=str(zone.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "X", "zip_codes": "6060"}, b"five digits"),
        ({"name": "X", "zip_codes": "00000"}, b"00000"),
        ({"name": "X", "zip_codes": "", "cells": ""}, b"ZIP codes or cells"),
        ({"name": "X", "zip_codes": "", "cells": "not-a-cell"}, b"map selection"),
        ({"name": "", "zip_codes": "60608"}, b"name"),
        ({"name": "Pilsen", "zip_codes": "60608"}, b"already has a zone"),
    ],
)
def test_bad_zone_input_is_a_400_with_a_clear_message(client, organizer, zone, fields, message):
    login(client, organizer)
    response = client.post("/staff/zones/new", fields)
    assert response.status_code == 400
    assert message in response.content
    assert Zone.objects.count() == 1


def test_the_map_page_draws_cells_around_a_zip_without_any_other_origin(client, organizer, chapter):
    login(client, organizer)
    response = client.get("/staff/zones/new?near=60623")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<polygon") > 30
    assert "https://" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
