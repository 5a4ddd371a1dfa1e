"""The public form in Chromium on a phone-size screen, through the live ASGI server."""

import pytest

from vigil.intake.models import Report

ANSWER_READY = "document.querySelector('input[name=pow_answer]').value !== ''"


def fill_in_the_form(page, details: str) -> None:
    page.locator('input[name="kind"][value="checkpoint"]').check()
    page.fill('input[name="address"]', "Cermak Rd and Blue Island Ave")
    page.fill('input[name="zip_code"]', "60608")
    page.fill('input[name="agents_count"]', "4")
    page.fill('input[name="vehicles_count"]', "2")
    page.select_option('select[name="agency"]', "ice")
    page.fill('textarea[name="details"]', details)
    page.fill('input[name="contact_phone"]', "312 555 0199")


@pytest.mark.browser
def test_a_neighbour_reports_from_a_phone_in_english(browser_page, live_asgi):
    page = browser_page
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    send = page.locator("#send-report").bounding_box()
    assert send is not None and send["width"] > 300  # one column, full-width button on a 390 px screen
    assert send["height"] >= 44

    fill_in_the_form(page, "Unmarked SUVs stopping cars")
    page.wait_for_function(ANSWER_READY)
    page.click("#send-report")
    page.wait_for_selector("h1")

    assert "Thank you" in page.locator("h1").inner_text()
    assert "Unmarked SUVs stopping cars" in page.content()
    report = Report.objects.get()
    assert (report.language, report.kind, report.zip_code, report.agents_count) == ("en", "checkpoint", "60608", 4)
    assert report.details == "Unmarked SUVs stopping cars"
    assert report.contact_phone == "+13125550199"


@pytest.mark.browser
def test_the_location_is_only_sent_after_the_person_presses_the_button(browser_page, live_asgi):
    page = browser_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 41.85753, "longitude": -87.66001})
    page.goto("/")
    assert page.input_value('input[name="latitude"]') == ""

    page.click("#use-location")
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")

    assert page.input_value('input[name="latitude"]') == "41.8575"
    assert page.locator("#clear-location").is_visible()
    page.locator('input[name="kind"][value="vehicles"]').check()
    page.wait_for_function(ANSWER_READY)
    page.click("#send-report")
    page.wait_for_selector("text=Thank you")
    report = Report.objects.get()
    assert report.cell and not report.address


@pytest.mark.browser
def test_a_neighbour_switches_to_spanish_and_reports(browser_page, live_asgi):
    page = browser_page
    page.goto("/")

    page.click('header form.lang button[value="es"]')
    page.wait_for_selector('html[lang="es"]')
    fill_in_the_form(page, "Agentes en la esquina")
    page.wait_for_function(ANSWER_READY)
    page.click("#send-report")
    page.wait_for_selector(".next-steps")

    assert page.locator("html").get_attribute("lang") == "es"
    report = Report.objects.get()
    assert report.language == "es"
    assert report.details == "Agentes en la esquina"
