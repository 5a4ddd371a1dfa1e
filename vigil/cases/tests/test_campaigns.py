"""Pressure campaigns: consent first, a public page with a random address, signatures that
keep no more than the supporter agreed to, and 404 once the page is down."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.cases import actions, campaigns
from vigil.cases.models import Campaign, CampaignUpdate, Case, CaseStatus, Signature
from vigil.cases.tests.closing_helpers import CANARY_NAME, full_case
from vigil.channels.models import Delivery, DeliveryStatus, Endpoint, Message, Purpose
from vigil.core.crypto import blind_index
from vigil.core.models import AuditEvent, Chapter

STORY = "Don Beto has lived in Pilsen for 20 years. He coaches the kids' soccer team."
TEXTS = {
    "action": "save",
    "title": "Bring Beto home",
    "story": STORY,
    "call_script": "Hello, I am calling about Beto. Please release him.",
    "officials": "ICE Chicago Field Office | (312) 347-2400\nSenator's office | +1 312-886-3506\nNo phone here",
    "petition": "We ask ICE to release Beto to his family.",
}


@pytest.fixture
def case(chapter: Chapter, legal_coordinator: User) -> Case:
    return full_case(chapter, legal_coordinator)


@pytest.fixture
def staff(legal_coordinator: User) -> Client:
    return login(Client(), legal_coordinator)


def campaign_url(case: Case) -> str:
    return reverse("case_campaign", args=[case.pk])


def give_consent(staff: Client, case: Case) -> None:
    response = staff.post(
        campaign_url(case), {"action": "consent", "given_by": "Rosa, his wife, by phone", "scope": "First name, story"}
    )
    assert response.status_code == 302


def published(staff: Client, case: Case) -> Campaign:
    give_consent(staff, case)
    assert staff.post(campaign_url(case), TEXTS).status_code == 302
    assert staff.post(campaign_url(case), {"action": "publish"}).status_code == 302
    return Campaign.objects.get(case=case)


def test_without_the_familys_consent_nothing_is_published(staff: Client, case: Case) -> None:
    assert staff.post(campaign_url(case), TEXTS).status_code == 302  # a draft may be written
    response = staff.post(campaign_url(case), {"action": "publish"})
    assert response.status_code == 400 and b"consent" in response.content
    campaign = Campaign.objects.get(case=case)
    assert not campaign.is_public
    assert Client().get(reverse("campaign_page", args=[campaign.slug])).status_code == 404


def test_consent_needs_who_and_what(staff: Client, case: Case) -> None:
    response = staff.post(campaign_url(case), {"action": "consent", "given_by": "", "scope": ""})
    assert response.status_code == 400
    assert not Campaign.objects.filter(case=case, consent_at__isnull=False).exists()


def test_a_published_page_shows_the_story_officials_and_count_and_nothing_else(
    staff: Client, case: Case, neighbour: Client
) -> None:
    campaign = published(staff, case)
    assert len(campaign.slug) >= 12 and str(case.number) not in campaign.slug.split("-")
    page = neighbour.get(reverse("campaign_page", args=[campaign.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert STORY.replace("'", "&#x27;") in html
    assert 'href="tel:3123472400"' in html and 'href="tel:+13128863506"' in html
    assert "0 people have signed" in html
    assert CANARY_NAME not in html and case.label not in html and "Rosa" not in html
    assert AuditEvent.objects.filter(action="case.campaign_publish", object_id=str(case.pk)).count() == 1


def test_a_signature_without_the_ticks_stores_no_name_and_no_email(
    staff: Client, case: Case, neighbour: Client
) -> None:
    campaign = published(staff, case)
    sign = reverse("campaign_sign", args=[campaign.slug])
    response = neighbour.post(sign, {"name": "Hidden Person", "email": "hidden@example.org"})
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.display_name is None and signature.email is None
    page = neighbour.get(response["Location"]).content.decode()
    assert "1 person has signed" in page and "Hidden Person" not in page and "Thank you" in page


def test_a_signature_with_the_ticks_keeps_name_and_email_and_shows_the_name(
    staff: Client, case: Case, neighbour: Client
) -> None:
    campaign = published(staff, case)
    sign = reverse("campaign_sign", args=[campaign.slug])
    data = {"name": "Marta <b>G</b>", "show_name": "on", "email": "marta@example.org", "updates": "on"}
    assert neighbour.post(sign, data).status_code == 302
    signature = Signature.objects.select_related("campaign__case__data_key").get()
    assert signature.display_name == "Marta <b>G</b>" and signature.email == "marta@example.org"
    page = neighbour.get(reverse("campaign_page", args=[campaign.slug])).content.decode()
    assert "Marta &lt;b&gt;G&lt;/b&gt;" in page and "marta@example.org" not in page


def test_bad_signatures_are_a_clear_400(staff: Client, case: Case, neighbour: Client) -> None:
    campaign = published(staff, case)
    sign = reverse("campaign_sign", args=[campaign.slug])
    for data in (
        {"show_name": "on", "name": ""},
        {"updates": "on", "email": "not-an-email"},
        {"name": "x" * 5000, "show_name": "on"},
        {"name": "nul\x00byte", "show_name": "on"},
    ):
        response = neighbour.post(sign, data)
        assert response.status_code == 400, data
    assert not Signature.objects.exists()


def test_signing_is_rate_limited_per_source(staff: Client, case: Case, neighbour: Client) -> None:
    campaign = published(staff, case)
    sign = reverse("campaign_sign", args=[campaign.slug])
    for _ in range(10):
        assert neighbour.post(sign, {}).status_code == 302
    response = neighbour.post(sign, {})
    assert response.status_code == 429 and b"Too many" in response.content
    assert Signature.objects.count() == 10
    # From another address it still works.
    assert Client(REMOTE_ADDR="198.51.100.7").post(sign, {}).status_code == 302


def test_an_unpublished_closed_or_shredded_campaign_is_404(
    staff: Client, case: Case, neighbour: Client, legal_coordinator: User
) -> None:
    campaign = published(staff, case)
    page = reverse("campaign_page", args=[campaign.slug])
    sign = reverse("campaign_sign", args=[campaign.slug])
    assert staff.post(campaign_url(case), {"action": "unpublish"}).status_code == 302
    assert neighbour.get(page).status_code == 404
    assert neighbour.post(sign, {}).status_code == 404
    assert staff.post(campaign_url(case), {"action": "publish"}).status_code == 302
    assert neighbour.get(page).status_code == 200
    staff.post(reverse("case_close", args=[case.pk]), {"action": "close", "outcome": "released"})
    assert neighbour.get(page).status_code == 404
    # A closed case's campaign cannot be published again.
    assert staff.post(campaign_url(case), {"action": "publish"}).status_code == 400
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.SHREDDED)
    Campaign.objects.filter(pk=campaign.pk).update(unpublished_at=None)
    assert neighbour.get(page).status_code == 404
    assert neighbour.get(reverse("campaign_page", args=["madeUpSlug12"])).status_code == 404


def test_withdrawn_consent_takes_the_page_down(staff: Client, case: Case, neighbour: Client) -> None:
    campaign = published(staff, case)
    assert staff.post(campaign_url(case), {"action": "withdraw"}).status_code == 302
    assert neighbour.get(reverse("campaign_page", args=[campaign.slug])).status_code == 404
    assert staff.post(campaign_url(case), {"action": "publish"}).status_code == 400


def test_the_staff_page_is_legal_only_and_reading_it_is_audited(
    staff: Client, case: Case, dispatcher: User, outsider: User, admin_user: User, legal_coordinator: User
) -> None:
    page = staff.get(campaign_url(case))
    assert page.status_code == 200 and b"consent" in page.content
    assert AuditEvent.objects.filter(action="case.read", object_id=str(case.pk), actor=legal_coordinator).exists()
    with transaction.atomic():
        actions.assign(case, dispatcher, now=timezone.now(), acting_user=dispatcher)
    assert login(Client(), dispatcher).get(campaign_url(case)).status_code == 404
    assert login(Client(), dispatcher).post(campaign_url(case), {"action": "publish"}).status_code == 404
    for person in (outsider, admin_user):
        assert login(Client(), person).get(campaign_url(case)).status_code == 404
        assert login(Client(), person).post(campaign_url(case), {"action": "publish"}).status_code == 404
    assert staff.get(reverse("case_campaign", args=[uuid.uuid4()])).status_code == 404
    assert staff.post(campaign_url(case), {"action": "explode"}).status_code == 400


def test_story_html_is_escaped_everywhere(staff: Client, case: Case, neighbour: Client) -> None:
    give_consent(staff, case)
    hostile = {**TEXTS, "story": "<script>alert(1)</script>", "title": "<img src=x onerror=alert(1)>"}
    assert staff.post(campaign_url(case), hostile).status_code == 302
    staff.post(campaign_url(case), {"action": "publish"})
    campaign = Campaign.objects.get()
    for html in (
        neighbour.get(reverse("campaign_page", args=[campaign.slug])).content.decode(),
        staff.get(campaign_url(case)).content.decode(),
    ):
        assert "<script>alert(1)" not in html and "<img src=x" not in html


@pytest.mark.parametrize(
    ("line", "tel"),
    [
        ("Office | (312) 347-2400", "3123472400"),
        ("Office | +1 312 886 3506", "+13128863506"),
        ("Office | javascript:alert(1)", "1"),
        ("Office", ""),
    ],
)
def test_official_lines_become_safe_tel_links(line: str, tel: str) -> None:
    (official,) = campaigns.officials(line)
    assert official.name == "Office"
    assert official.tel == (tel if len(tel.lstrip("+")) >= 3 else "")


def test_the_public_page_is_cheap(
    staff: Client, case: Case, neighbour: Client, django_assert_max_num_queries: Any
) -> None:
    campaign = published(staff, case)
    for n in range(20):
        signature = Signature(campaign=campaign, signed_at=timezone.now())
        signature.display_name = f"Signer {n}"
        signature.save(force_insert=True)
    with django_assert_max_num_queries(6):
        assert neighbour.get(reverse("campaign_page", args=[campaign.slug])).status_code == 200


# --- updates to supporters --------------------------------------------------------------------

UPDATE = "The bond hearing is on Friday at 9. Come to the court: 55 E Monroe St."


def sign_up(neighbour: Client, campaign: Campaign, email: str, language: str = "en") -> Signature:
    data = {"email": email, "updates": "on"} if email else {}
    response = neighbour.post(reverse("campaign_sign", args=[campaign.slug]), data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 302
    return Signature.objects.order_by("-signed_at").first()  # type: ignore[return-value]


def campaign_emails() -> dict[str, Message]:
    """Endpoint index -> the campaign message it was sent."""
    deliveries = Delivery.objects.select_related("message", "endpoint").filter(message__purpose=Purpose.CAMPAIGN)
    return {d.endpoint.address_index: d.message for d in deliveries}


def test_an_update_reaches_each_supporter_who_asked_in_their_language_with_their_own_stop_link(
    staff: Client, case: Case, neighbour: Client
) -> None:
    campaign = published(staff, case)
    marta = sign_up(neighbour, campaign, "marta@example.org")
    luis = sign_up(Client(), campaign, "Luis@Example.org", language="es")
    sign_up(Client(), campaign, "")  # signed, asked for nothing

    response = staff.post(campaign_url(case), {"action": "post_update", "body": UPDATE})

    assert response.status_code == 302
    update = CampaignUpdate.objects.get()
    assert update.emailed == 2
    sent = campaign_emails()
    assert set(sent) == {
        blind_index("marta@example.org", purpose="email"),
        blind_index("luis@example.org", purpose="email"),
    }
    to_marta, to_luis = (
        sent[blind_index("marta@example.org", purpose="email")],
        sent[blind_index("luis@example.org", purpose="email")],
    )
    assert UPDATE in to_marta.body and f"/c/{campaign.slug}/stop/{marta.pk}/" in to_marta.body
    assert f"/c/{campaign.slug}/stop/{luis.pk}/" in to_luis.body and str(marta.pk) not in to_luis.body
    assert "Bring Beto home" in to_marta.subject
    assert (to_marta.language, to_luis.language) == ("en", "es")
    assert "La campaña:" in to_luis.body and "noticias de la campaña" in to_luis.subject
    assert "marta" not in to_luis.body.lower() and CANARY_NAME not in to_marta.body
    assert UPDATE in neighbour.get(reverse("campaign_page", args=[campaign.slug])).content.decode()
    assert AuditEvent.objects.filter(action="case.campaign_update", object_id=str(case.pk)).count() == 1


def test_a_long_title_makes_a_subject_the_mail_column_holds(staff: Client, case: Case, neighbour: Client) -> None:
    campaign = published(staff, case)
    staff.post(campaign_url(case), {**TEXTS, "title": "Bring Beto home " * 12})
    sign_up(neighbour, campaign, "marta@example.org")

    assert staff.post(campaign_url(case), {"action": "post_update", "body": UPDATE}).status_code == 302

    (message,) = campaign_emails().values()
    assert 0 < len(message.subject) <= (Message._meta.get_field("subject").max_length or 0)


def test_the_stop_link_forgets_the_email_and_the_signature_still_counts(
    staff: Client, case: Case, neighbour: Client
) -> None:
    campaign = published(staff, case)
    marta = sign_up(neighbour, campaign, "marta@example.org")
    stop = reverse("campaign_stop", args=[campaign.slug, marta.pk])

    assert neighbour.get(stop).status_code == 200  # a mail scanner following the link stops nothing
    assert Signature.objects.get(pk=marta.pk).email_endpoint_id is not None
    assert neighbour.post(stop).status_code == 200

    marta = Signature.objects.get(pk=marta.pk)
    assert marta.email_endpoint_id is None and raw_email(marta) is None
    assert not Endpoint.objects.filter(address_index=blind_index("marta@example.org", purpose="email")).exists()
    assert neighbour.post(stop).status_code == 404 and neighbour.get(stop).status_code == 404
    staff.post(campaign_url(case), {"action": "post_update", "body": UPDATE})
    assert CampaignUpdate.objects.get().emailed == 0 and Signature.objects.count() == 1
    assert neighbour.get(reverse("campaign_stop", args=[campaign.slug, uuid.uuid4()])).status_code == 404


def raw_email(signature: Signature) -> Any:
    return Signature.objects.filter(pk=signature.pk).values_list("email", flat=True).get()


def test_updates_need_a_published_page_and_some_text(staff: Client, case: Case) -> None:
    give_consent(staff, case)
    draft = staff.post(campaign_url(case), {"action": "post_update", "body": UPDATE})
    assert draft.status_code == 400 and b"Publish the campaign" in draft.content
    published(staff, case)
    assert staff.post(campaign_url(case), {"action": "post_update", "body": "   "}).status_code == 400
    assert staff.post(campaign_url(case), {"action": "post_update", "body": "x" * 2001}).status_code == 400
    assert not CampaignUpdate.objects.exists()


def test_shredding_the_case_takes_the_updates_and_the_supporters_emails(
    staff: Client, case: Case, neighbour: Client, legal_coordinator: User, settings: Any
) -> None:
    from datetime import timedelta

    from vigil.cases import closing, retention

    campaign = published(staff, case)
    sign_up(neighbour, campaign, "marta@example.org")
    staff.post(campaign_url(case), {"action": "post_update", "body": UPDATE})
    now = timezone.now()
    closing.close_case(case.pk, outcome="released", acting_user=legal_coordinator, now=now)
    Delivery.objects.update(status=DeliveryStatus.DELIVERED)

    assert retention.shred_due_cases(now + timedelta(days=settings.CASE_RETENTION_DAYS + 1)) == 1

    assert not CampaignUpdate.objects.exists() and not Signature.objects.exists()
    assert not Endpoint.objects.filter(address_index=blind_index("marta@example.org", purpose="email")).exists()
