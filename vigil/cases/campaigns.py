"""Pressure campaigns: a public page for a case, published only with the family's consent.

The legal team first records the family's consent (who gave it, when, and what may be public),
then writes the page: title, story, call script, officials to call ("Name | phone" a line)
and petition text. Without consent nothing is published. The public page lives at /c/<slug>/
with a random slug (never the case number) and shows only those texts and the number of
signatures. A signature keeps a name only if the supporter asked to be listed and an email
only if they asked for updates: no IP address, no phone. Closing the case takes the page down
(vigil.cases.closing); shredding it deletes the campaign and its signatures.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from vigil.cases.closing import ClosingError
from vigil.cases.models import Campaign, CampaignUpdate, Case, CaseStatus, Signature
from vigil.channels import outbox
from vigil.channels.models import Purpose
from vigil.core.audit import audit
from vigil.core.fields import LockedValue

SLUG_BYTES = 9  # 12 URL-safe characters
CONSENT_BY_MAX = 200
CONSENT_SCOPE_MAX = 1000
TITLE_MAX = 200
STORY_MAX = 6000
SCRIPT_MAX = 3000
OFFICIALS_MAX = 3000
PETITION_MAX = 3000
SIGNER_NAME_MAX = 100
EMAIL_MAX = 254
# Signatures shown by name on the public page (the newest ones who asked to be listed).
NAMES_SHOWN = 30
LANGUAGES = ("en", "es")

_PHONE_CHARS = re.compile(r"[^\d+]")


@dataclass
class Official:
    name: str
    phone: str
    tel: str


def officials(text: str) -> list[Official]:
    """ "Name | phone" per line; the tel: link keeps only digits and a leading +."""
    found: list[Official] = []
    for line in str(text or "").splitlines():
        if not line.strip():
            continue
        name, _sep, phone = line.partition("|")
        digits = _PHONE_CHARS.sub("", phone)
        tel = ("+" if digits.startswith("+") else "") + digits.replace("+", "")
        found.append(Official(name.strip(), phone.strip(), tel if len(tel.lstrip("+")) >= 3 else ""))
    return found


@dataclass
class CampaignTexts:
    title: str = ""
    story: str = ""
    call_script: str = ""
    officials: str = ""
    petition: str = ""


def has_consent(campaign: Campaign | None) -> bool:
    return bool(campaign is not None and campaign.consent_at is not None and campaign.consent_scope)


def is_locked(campaign: Campaign) -> bool:
    return any(isinstance(getattr(campaign, f), LockedValue) for f in ("title", "story", "consent_scope"))


def _new_campaign(case: Case) -> Campaign:
    for _attempt in range(5):
        campaign = Campaign(case=case, slug=secrets.token_urlsafe(SLUG_BYTES))
        try:
            with transaction.atomic():
                campaign.save(force_insert=True)
            return campaign
        except IntegrityError:
            continue  # the slug was taken (or another request made the campaign first)
    existing = Campaign.objects.filter(case=case).first()
    if existing is None:
        raise IntegrityError("could not make a campaign slug")
    return existing


def _campaign_for_update(case: Case) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(case=case).first()
    if campaign is None:
        campaign = _new_campaign(case)
    # The texts are sealed with the case key: reach it through the case already loaded.
    campaign.case = case
    return campaign


def _writable(case: Case) -> None:
    if not case.is_open:
        raise ClosingError(_("This case is closed: its campaign cannot change."))


@transaction.atomic(durable=True)
def record_consent(case: Case, *, given_by: str, scope: str, acting_user: Any, now: datetime) -> Campaign:
    _writable(case)
    given_by, scope = given_by.strip(), scope.strip()
    if not given_by or not scope:
        raise ClosingError(_("Write who gave consent and what may be public."))
    campaign = _campaign_for_update(case)
    campaign.consent_by = given_by[:CONSENT_BY_MAX]
    campaign.consent_scope = scope[:CONSENT_SCOPE_MAX]
    campaign.consent_at = now
    campaign.consent_recorded_by = acting_user
    campaign.save()
    audit(acting_user, "case.campaign_consent", case)
    return campaign


@transaction.atomic(durable=True)
def withdraw_consent(case: Case, *, acting_user: Any, now: datetime) -> None:
    """The family takes consent back: the page comes down at once."""
    campaign = Campaign.objects.select_for_update().filter(case=case).first()
    if campaign is None or campaign.consent_at is None:
        raise ClosingError(_("No consent is recorded."))
    campaign.case = case
    campaign.consent_by = None
    campaign.consent_scope = None
    campaign.consent_at = None
    campaign.consent_recorded_by = None
    if campaign.is_public:
        campaign.unpublished_at = now
    campaign.save()
    audit(acting_user, "case.campaign_withdraw", case)


@transaction.atomic(durable=True)
def save_texts(case: Case, texts: CampaignTexts, *, acting_user: Any) -> Campaign:
    _writable(case)
    campaign = _campaign_for_update(case)
    campaign.title = texts.title.strip()[:TITLE_MAX]
    campaign.story = texts.story.strip()[:STORY_MAX]
    campaign.call_script = texts.call_script.strip()[:SCRIPT_MAX]
    campaign.officials = texts.officials.strip()[:OFFICIALS_MAX]
    campaign.petition = texts.petition.strip()[:PETITION_MAX]
    campaign.save()
    audit(acting_user, "case.campaign_edit", case)
    return campaign


@transaction.atomic(durable=True)
def publish(case: Case, *, acting_user: Any, now: datetime) -> Campaign:
    _writable(case)
    campaign = Campaign.objects.select_for_update().filter(case=case).first()
    if campaign is not None:
        campaign.case = case
    if not has_consent(campaign):
        raise ClosingError(_("Record the family's consent before publishing anything."))
    assert campaign is not None
    if is_locked(campaign):
        raise ClosingError(_("The data key is not loaded, so the campaign cannot be published now."))
    if not str(campaign.title or "").strip() or not str(campaign.story or "").strip():
        raise ClosingError(_("Write a title and the story before publishing."))
    campaign.published_at = now
    campaign.unpublished_at = None
    campaign.save(update_fields=["published_at", "unpublished_at"])
    audit(acting_user, "case.campaign_publish", case)
    return campaign


@transaction.atomic(durable=True)
def unpublish(case: Case, *, acting_user: Any, now: datetime) -> None:
    updated = Campaign.objects.filter(case=case, published_at__isnull=False, unpublished_at__isnull=True).update(
        unpublished_at=now
    )
    if not updated:
        raise ClosingError(_("The campaign is not published."))
    audit(acting_user, "case.campaign_unpublish", case)


def public_campaign(slug: str) -> Campaign | None:
    """The published campaign at this address, or None (unpublished, closed or shredded)."""
    return (
        Campaign.objects.select_related("case__data_key", "case__chapter")
        .filter(
            slug=slug,
            published_at__isnull=False,
            unpublished_at__isnull=True,
            case__status=CaseStatus.OPEN,
        )
        .first()
    )


@transaction.atomic(durable=True)
def sign(
    campaign: Campaign, *, name: str, show_name: bool, email: str, updates: bool, now: datetime, language: str = "en"
) -> Signature:
    """One signature. The name is stored only with `show_name`, the email (and the endpoint
    the updates go to) only with `updates`; nothing else about the supporter is."""
    signature = Signature(campaign=campaign, signed_at=now, language=language if language in LANGUAGES else "en")
    name = name.strip()[:SIGNER_NAME_MAX] if show_name else ""
    email = email.strip()[:EMAIL_MAX] if updates else ""
    signature.display_name = name
    signature.email = email
    if email:
        signature.email_endpoint = outbox.email_endpoint(campaign.case.chapter_id, email)
    signature.save(force_insert=True)
    audit(
        "public",
        "campaign.sign",
        object_type="cases.campaign",
        object_id=str(campaign.pk),
        chapter=campaign.case.chapter,
    )
    return signature


def shown_names(campaign: Campaign) -> list[str]:
    """The newest signers who asked to be listed, by name."""
    names: list[str] = []
    rows = campaign.signatures.filter(display_name__isnull=False).order_by("-signed_at")[:NAMES_SHOWN]
    for signature in rows:
        signature.campaign = campaign
        value = signature.display_name
        if value and not isinstance(value, LockedValue):
            names.append(str(value))
    return names


# --- Updates to supporters -----------------------------------------------------------------

UPDATE_MAX = 2000
UPDATE_VALID_FOR = timedelta(days=3)
UPDATES_SHOWN = 20
UPDATE_SUBJECT = gettext_noop("{network}: news from the campaign “{title}”")
UPDATE_TEXT = gettext_noop(
    "{body}\n\nThe campaign: {page}\n\nYou get this because you signed and asked for updates. To stop them: {stop}"
)


def _public_url(name: str, *args: Any) -> str:
    return settings.PUBLIC_URL + reverse(name, args=args)


@transaction.atomic(durable=True)
def post_update(case: Case, body: str, *, acting_user: Any, now: datetime) -> CampaignUpdate:
    """Post news on the public page and email it to every supporter who asked for updates, in
    the language they signed in, each with their own stop link. Only a published campaign."""
    _writable(case)
    campaign = Campaign.objects.select_for_update().filter(case=case).first()
    if campaign is None or not campaign.is_public:
        raise ClosingError(_("Publish the campaign before posting updates."))
    campaign.case = case
    if is_locked(campaign):
        raise ClosingError(_("The data key is not loaded, so the campaign cannot be updated now."))
    text = body.strip()[:UPDATE_MAX]
    if not text:
        raise ClosingError(_("Write the update first."))
    update = CampaignUpdate(campaign=campaign, posted_at=now, posted_by=acting_user)
    update.body = text
    page = _public_url("campaign_page", campaign.slug)
    title = str(campaign.title or "")
    wording = {}
    for language in LANGUAGES:
        with translation.override(language):
            subject = gettext(UPDATE_SUBJECT).format(network=settings.NETWORK_NAME, title=title)
            wording[language] = (subject, gettext(UPDATE_TEXT))
    supporters = campaign.signatures.filter(email_endpoint__isnull=False, email_endpoint__disabled_at__isnull=True)
    letters = []
    for signature in supporters.select_related("email_endpoint").order_by("signed_at"):
        assert signature.email_endpoint is not None
        subject, template = wording.get(signature.language, wording["en"])
        stop = _public_url("campaign_stop", campaign.slug, signature.pk)
        message = template.format(body=text, page=page, stop=stop)
        letters.append(outbox.Letter(signature.email_endpoint, signature.language, subject, message))
    update.emailed = outbox.queue_each(
        chapter_id=case.chapter_id,
        purpose=Purpose.CAMPAIGN,
        letters=letters,
        now=now,
        valid_until=now + UPDATE_VALID_FOR,
    )
    update.save(force_insert=True)
    audit(acting_user, "case.campaign_update", case)
    return update


def updates_of(campaign: Campaign) -> list[tuple[datetime, str]]:
    """The newest updates for the public page: (when, text)."""
    shown: list[tuple[datetime, str]] = []
    for update in campaign.updates.order_by("-posted_at")[:UPDATES_SHOWN]:
        update.campaign = campaign
        body = update.body
        if body and not isinstance(body, LockedValue):
            shown.append((update.posted_at, str(body)))
    return shown


@transaction.atomic(durable=True)
def stop_updates(slug: str, signature_id: Any) -> bool:
    """The supporter's stop link: forget their email and release its endpoint. The signature
    still counts. False when there is no such signature (or it already stopped)."""
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .filter(pk=signature_id, campaign__slug=slug, email_endpoint__isnull=False)
        .first()
    )
    if signature is None:
        return False
    endpoint_id = signature.email_endpoint_id
    Signature.objects.filter(pk=signature.pk).update(email=None, email_endpoint=None)
    if endpoint_id is not None:
        outbox.release_endpoints([endpoint_id])
    audit("public", "campaign.stop_updates", object_type="cases.campaign", object_id=str(signature.campaign_id))
    return True
