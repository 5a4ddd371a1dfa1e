import re
from datetime import timedelta

from django.db import connection
from django.utils import timezone, translation

from vigil.core import geo
from vigil.core.models import AuditEvent
from vigil.core.phones import phone_index
from vigil.intake.forms import ReportForm
from vigil.intake.models import Report
from vigil.intake.tests.helpers import send_report


def test_the_form_renders_in_english_for_a_neighbour_without_an_account(neighbour, db):
    response = neighbour.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "What is happening?" in page
    assert 'action="/report/"' in page
    assert 'enctype="multipart/form-data"' in page


def test_the_form_renders_in_spanish_for_a_spanish_browser(neighbour, db):
    response = neighbour.get("/", headers={"accept-language": "es"})

    page = response.content.decode()
    assert '<html lang="es">' in page
    with translation.override("es"):
        form = ReportForm()
        for name in ("kind", "address", "zip_code", "observed_at", "details", "contact_phone"):
            assert str(form.fields[name].label) in page
    assert 'name="language" value="en"' in page


def test_the_form_works_without_javascript(neighbour, db):
    page = neighbour.get("/").content.decode()

    assert '<noscript><input type="hidden" name="nojs" value="1"></noscript>' in page
    assert re.search(r'name="pow_token" value="[^"]+"', page)
    # The location button is offered only once script has shown it; coordinates start empty.
    assert re.search(r'<div class="location" id="location" hidden', page)
    assert '<input type="hidden" name="latitude" id="id_latitude">' in page


def test_pages_load_nothing_from_another_origin_and_run_no_inline_script(neighbour, db):
    form_page = neighbour.get("/")
    thanks_page = neighbour.get("/report/thanks/")

    for response in (form_page, thanks_page):
        page = response.content.decode()
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert response["Cache-Control"] == "no-store"
        assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", page) == []
        assert " style=" not in page
        assert re.findall(r"(?:src|href|action)=\"(?:https?:)?//", page) == []


def test_a_report_is_stored_with_its_sensitive_parts_as_ciphertext(neighbour, db):
    response = send_report(
        neighbour,
        address="1831 S Racine Ave",
        details="Two vans outside the laundromat canary-7731",
        contact_phone="(312) 555-0142",
    )

    assert response.status_code == 200
    report = Report.objects.get()
    assert report.channel == "web"
    assert report.kind == "checkpoint"
    assert (report.agents_count, report.vehicles_count, report.agency) == (6, 3, "ice")
    assert report.details == "Two vans outside the laundromat canary-7731"
    assert report.contact_phone == "+13125550142"
    assert report.contact_index == phone_index("+13125550142")
    assert report.source_hash and "127.0.0.1" not in report.source_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, details, contact_phone, contact_index FROM intake_report")
        address, details, phone, index = cursor.fetchone()
    for column, plaintext in ((address, b"Racine"), (details, b"canary-7731"), (phone, b"5550142")):
        assert bytes(column)[:2] == b"V1"
        assert plaintext not in bytes(column)
    assert index == phone_index("+13125550142")
    assert AuditEvent.objects.filter(action="report.receive", object_id=str(report.pk)).count() == 1


def test_the_thanks_page_says_a_volunteer_verifies_before_anything_is_broadcast(neighbour, db):
    response = neighbour.get("/report/thanks/")

    assert response.status_code == 200
    assert "a trained volunteer checks every report first" in response.content.decode()


def test_a_script_in_the_details_is_escaped_on_the_thanks_page(neighbour, db):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'

    response = send_report(neighbour, details=payload, address=payload)

    page = response.content.decode()
    assert response.status_code == 200
    assert payload not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_invalid_callback_number_is_a_clear_form_error(neighbour, db):
    response = send_report(neighbour, contact_phone="call me maybe")

    assert response.status_code == 400
    assert "This does not look like a phone number" in response.content.decode()
    assert Report.objects.count() == 0


def test_the_answers_are_kept_when_the_form_comes_back_with_an_error(neighbour, db):
    response = send_report(neighbour, contact_phone="12", details="three trucks on Ashland")

    assert "three trucks on Ashland" in response.content.decode()


def test_a_report_needs_some_place(neighbour, db):
    response = send_report(neighbour, address="", zip_code="")

    assert response.status_code == 400
    assert "Tell us where" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_zip_code_alone_is_enough_and_places_the_report(neighbour, zone):
    send_report(neighbour, address="", zip_code="60608-1234")

    report = Report.objects.get()
    assert report.zip_code == "60608"
    assert report.zone == zone
    assert report.chapter == zone.chapter


def test_a_malformed_zip_code_is_refused(neighbour, db):
    response = send_report(neighbour, zip_code="6060")

    assert response.status_code == 400
    assert "5-digit ZIP code" in response.content.decode()


def test_an_empty_time_means_now(neighbour, db):
    before = timezone.now()

    send_report(neighbour, observed_at="")

    observed_at = Report.objects.get().observed_at
    assert observed_at is not None and observed_at >= before


def test_a_given_time_is_read_in_the_networks_time_zone(neighbour, db):
    local = timezone.localtime() - timedelta(minutes=30)

    send_report(neighbour, observed_at=local.strftime("%Y-%m-%dT%H:%M"))

    observed_at = Report.objects.get().observed_at
    assert observed_at is not None and abs(observed_at - local) < timedelta(minutes=1)


def test_a_time_in_the_future_is_refused(neighbour, db):
    later = timezone.localtime() + timedelta(days=2)

    response = send_report(neighbour, observed_at=later.strftime("%Y-%m-%dT%H:%M"))

    assert response.status_code == 400
    assert "in the future" in response.content.decode()
    assert Report.objects.count() == 0


def test_shared_location_is_kept_only_as_a_coarse_cell(neighbour, zone):
    send_report(neighbour, address="", zip_code="", latitude="41.8575", longitude="-87.66")

    report = Report.objects.get()
    assert report.cell == geo.cell_for(41.8575, -87.66)
    assert report.zone == zone
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM intake_report")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "41.85" not in row and "87.66" not in row


def test_half_a_location_is_not_a_place(neighbour, db):
    response = send_report(neighbour, address="", zip_code="", latitude="41.8575")

    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_a_report_sent_from_the_spanish_page_is_marked_spanish(neighbour, db):
    send_report(neighbour, headers={"accept-language": "es"})

    assert Report.objects.get().language == "es"


def test_opening_the_submit_address_goes_back_to_the_form(neighbour, db):
    response = neighbour.get("/report/")

    assert response.status_code == 302
    assert response["Location"] == "/"
