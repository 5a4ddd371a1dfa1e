"""Writes of the alerts stage: templates, sending an alert, follow-ups and two-person approval.

Invariant 1: nothing reaches subscribers without a named staff member's confirmation. An alert
is sent only for a confirmed incident (the incidents app's corroboration gate guards that
status), only by a dispatcher, organizer or admin of the incident's chapter, and only with
every language's template approved. The alert, its messages and every delivery row are
written in one durable transaction, so a failure leaves nothing half-sent (H1).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from vigil.accounts.models import Role, User
from vigil.alerts import fanout
from vigil.alerts.models import FOLLOW_UP_KINDS, Alert, AlertKind, AlertStatus, AlertTemplate
from vigil.alerts.selectors import AlertNotFound, alert_chapter_ids, target_zones
from vigil.channels.models import Message, Purpose
from vigil.core.audit import audit
from vigil.core.models import Zone
from vigil.incidents.clustering import record_event
from vigil.incidents.errors import IncidentNotFound
from vigil.incidents.models import Incident, Status

PLACEHOLDERS = ("zone", "time", "network")
# Added in front of every drill message so nobody mistakes a drill for a real alert.
DRILL_PREFIX = {"en": "DRILL: ", "es": "SIMULACRO: "}
FIRST_KINDS = (AlertKind.ACTIVITY, AlertKind.CHECKPOINT)
MAX_RING = 3
MAX_TEMPLATE_LENGTH = 1000
TEMPLATE_EDITORS = (Role.ORGANIZER, Role.ADMIN)
# The incident timeline's kind for "an alert was sent" (see the incidents app's EventKind).
ALERT_EVENT = "alert"


class AlertError(ValueError):
    """A request the alert's or incident's state does not allow; `message` says why."""

    default_message: Any = _("This alert cannot be sent.")

    def __init__(self, message: Any = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class NotConfirmed(AlertError):
    default_message = _(
        "Alerts can only be sent for a confirmed incident. Confirm it first (it needs a verifier on scene "
        "or independent sources)."
    )


class TemplateNotApproved(AlertError):
    default_message = _("The text of this alert is not approved in every language yet. An organizer must approve it.")


class InvalidTemplate(AlertError):
    default_message = _("This template text is not valid.")


class ApprovalRefused(AlertError):
    default_message = _("This alert is not waiting for approval.")


# --- templates ----------------------------------------------------------------------------


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def check_template_body(body: str) -> str:
    """The cleaned text, or InvalidTemplate saying exactly what is wrong."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidTemplate(_("The text is empty."))
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise InvalidTemplate(_("The text is too long (at most 1,000 characters)."))
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidTemplate(
            _("A curly brace is not closed. Use {zone}, {time} or {network}; write {{ or }} for a brace.")
        ) from None
    unknown = []
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            unknown.append("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    if unknown:
        raise InvalidTemplate(
            _("Unknown placeholder %(names)s. Only {zone}, {time} and {network} can be used.")
            % {"names": ", ".join(sorted(set(unknown)))}
        )
    return text


def fill_template(body: str, *, zone: str, time: str, language: str, drill: bool) -> str:
    """The text a subscriber receives; a drill is labelled in the message's language."""
    try:
        text = check_template_body(body).format(zone=zone, time=time, network=settings.NETWORK_NAME)
    except (InvalidTemplate, IndexError, KeyError, ValueError):
        raise InvalidTemplate(
            _("A stored alert text is not valid; an organizer must correct and approve it again.")
        ) from None
    if drill:
        text = DRILL_PREFIX.get(language, DRILL_PREFIX["en"]) + text
    return text


def _require_template_editor(user: Any) -> None:
    if getattr(user, "role", None) not in TEMPLATE_EDITORS or not getattr(user, "is_active", False):
        raise PermissionDenied


@transaction.atomic(durable=True)
def save_template(kind: str, language: str, body: str, *, acting_user: User) -> AlertTemplate:
    """Write a template's text. Every edit clears its approval: the new text must be approved."""
    _require_template_editor(acting_user)
    if kind not in AlertKind.values or language not in languages():
        raise InvalidTemplate(_("Unknown alert type or language."))
    text = check_template_body(body)
    template, _created = AlertTemplate.objects.select_for_update().get_or_create(
        kind=kind, language=language, defaults={"body": text, "updated_by": acting_user}
    )
    template.body = text
    template.updated_by = acting_user
    template.approved_by = None
    template.approved_at = None
    template.save()
    audit(acting_user, "alerttemplate.edit", template)
    return template


def _approve(template: AlertTemplate, user: User, now: datetime) -> None:
    check_template_body(template.body)
    template.approved_by = user
    template.approved_at = now
    template.save(update_fields=["approved_by", "approved_at"])
    audit(user, "alerttemplate.approve", template)


@transaction.atomic(durable=True)
def approve_template(template: AlertTemplate, *, acting_user: User) -> AlertTemplate:
    """An organizer (or admin) approves the current text; only approved texts can be sent."""
    _require_template_editor(acting_user)
    current = AlertTemplate.objects.select_for_update().get(pk=template.pk)
    if current.body != template.body:
        raise InvalidTemplate(_("The text changed while you were reading it. Read the new text, then approve it."))
    _approve(current, acting_user, timezone.now())
    return current


@transaction.atomic
def approve_all_templates(user: User) -> int:
    """Approve every template not yet approved (the demo seed); the number approved."""
    _require_template_editor(user)
    now = timezone.now()
    count = 0
    for template in AlertTemplate.objects.select_for_update().filter(approved_at__isnull=True):
        _approve(template, user, now)
        count += 1
    return count


def _approved_templates(kind: str) -> dict[str, AlertTemplate]:
    found = {t.language: t for t in AlertTemplate.objects.filter(kind=kind, language__in=languages())}
    missing = [code for code in languages() if code not in found or found[code].approved_at is None]
    if missing:
        raise TemplateNotApproved(
            _("The %(kind)s text is not approved for: %(languages)s. An organizer must approve it first.")
            % {"kind": AlertKind(kind).label, "languages": ", ".join(missing)}
        )
    return found


# --- sending ------------------------------------------------------------------------------


def _require_sender(user: Any, chapter_id: int, *, not_found: type[Exception]) -> None:
    """Another chapter's (or a non-reader's) object is missing; a reader who may not send is refused."""
    if chapter_id not in alert_chapter_ids(user):
        raise not_found
    if not getattr(user, "can_dispatch", False):
        raise PermissionDenied


@dataclass(frozen=True)
class Outgoing:
    """What a send writes for one language."""

    language: str
    subject: str
    body: str


def compose(kind: str, *, zone_name: str, at: datetime, drill: bool) -> list[Outgoing]:
    """The filled text in every language (approved templates only), as subscribers receive it."""
    templates = _approved_templates(kind)
    time = timezone.localtime(at).strftime("%H:%M")
    outgoing = []
    for language in languages():
        with translation.override(language):
            subject = f"{settings.NETWORK_NAME}: {AlertKind(kind).label}"
        if drill:
            subject = DRILL_PREFIX.get(language, DRILL_PREFIX["en"]) + subject
        body = fill_template(templates[language].body, zone=zone_name, time=time, language=language, drill=drill)
        outgoing.append(Outgoing(language=language, subject=subject[:160], body=body))
    return outgoing


def public_url(alert: Alert) -> str:
    return f"{settings.PUBLIC_URL}/alerts/{alert.batch}/"


def _zone_name(alert: Alert) -> str:
    incident = alert.incident
    return incident.zone.name if incident.zone_id and incident.zone else ""


def _write(alert: Alert, now: datetime) -> int:
    """The messages and delivery rows of an alert about to go out; the number of recipients."""
    alert.sent_at = now
    alert.valid_until = now + timedelta(minutes=settings.ALERT_VALID_MINUTES)
    for out in compose(alert.kind, zone_name=_zone_name(alert), at=now, drill=alert.is_drill):
        Message.objects.create(
            chapter_id=alert.chapter_id,
            batch=alert.batch,
            purpose=Purpose.ALERT,
            language=out.language,
            subject=out.subject,
            body=out.body,
            url=public_url(alert),
            is_drill=alert.is_drill,
            created_at=now,
            valid_until=alert.valid_until,
        )
    if alert.follows is not None:
        written = fanout.write_follow_up_deliveries(batch=alert.batch, original_batch=alert.follows.batch, now=now)
    else:
        written = fanout.write_alert_deliveries(
            batch=alert.batch,
            chapter_id=alert.chapter_id,
            zone_ids=alert.zones.values_list("id", flat=True),
            drill=alert.is_drill,
            now=now,
        )
    alert.recipients = written
    alert.save(update_fields=["sent_at", "valid_until", "recipients", "status", "approved_by"])
    return written


def _timeline(alert: Alert, user: User, now: datetime, what: str) -> None:
    reason = f"{what}: {AlertKind(alert.kind).label}"
    if alert.is_drill:
        reason += " (drill)"
    record_event(alert.incident, ALERT_EVENT, at=now, actor=user, reason=reason)


@transaction.atomic(durable=True)
def send_alert(incident: Incident, kind: str, *, acting_user: User, ring: int = 0, drill: bool = False) -> Alert:
    """Alert the incident's zone (plus `ring` h3 rings of neighbouring zones) in every language.

    With two-person approval on, the alert waits for a second staff member and nothing is
    written to the ledger until then.
    """
    _require_sender(acting_user, incident.chapter_id, not_found=IncidentNotFound)
    current = Incident.objects.select_for_update(of=("self",)).select_related("zone").get(pk=incident.pk)
    if current.status != Status.CONFIRMED:
        raise NotConfirmed
    if kind not in FIRST_KINDS:
        raise AlertError(_("Choose the type of alert: enforcement activity or checkpoint."))
    if not isinstance(ring, int) or not 0 <= ring <= MAX_RING:
        raise AlertError(_("The ring of neighbouring areas must be between 0 and 3."))
    if current.zone is None:
        raise AlertError(_("This incident has no zone, so there is nobody to alert. Set its place first."))
    _approved_templates(kind)
    return _open_alert(
        acting_user,
        target_zones(current.zone, ring),
        what="Alert",
        chapter_id=current.chapter_id,
        incident=current,
        kind=kind,
        is_drill=bool(drill),
        ring=ring,
    )


def _open_alert(acting_user: User, zones: list[Zone], *, what: str, **fields: Any) -> Alert:
    """Create an alert (or follow-up): with the two-person rule it waits for a second staff
    member's approval and nothing reaches the ledger; otherwise its messages and deliveries
    are written now, in the caller's transaction."""
    now = timezone.now()
    two_person = settings.ALERT_TWO_PERSON
    alert = Alert.objects.create(
        status=AlertStatus.AWAITING_APPROVAL if two_person else AlertStatus.SENDING,
        created_by=acting_user,
        created_at=now,
        valid_until=now + timedelta(minutes=settings.ALERT_VALID_MINUTES),
        **fields,
    )
    alert.zones.set(zones)
    if two_person:
        _timeline(alert, acting_user, now, f"{what} waiting for a second approval")
        audit(acting_user, "alert.request", alert)
    else:
        _write(alert, now)
        _timeline(alert, acting_user, now, f"{what} sent")
        audit(acting_user, "alert.send", alert)
    return alert


@transaction.atomic(durable=True)
def send_follow_up(alert: Alert, kind: str, *, acting_user: User) -> Alert:
    """A false alarm or all-clear to exactly the recipients of `alert` (nobody who joined since)."""
    _require_sender(acting_user, alert.chapter_id, not_found=AlertNotFound)
    original = Alert.objects.select_for_update(of=("self",)).select_related("incident__zone").get(pk=alert.pk)
    if kind not in FOLLOW_UP_KINDS:
        raise AlertError(_("A follow-up is a false alarm or an all-clear."))
    if original.follows_id is not None or original.status != AlertStatus.SENDING:
        raise AlertError(_("Follow-ups can only be sent for an alert that went out."))
    if original.follow_ups.filter(kind=kind).exclude(status=AlertStatus.CANCELLED).exists():
        raise AlertError(_("This follow-up was already sent for this alert."))
    _approved_templates(kind)
    return _open_alert(
        acting_user,
        list(original.zones.all()),
        what="Follow-up",
        chapter_id=original.chapter_id,
        incident=original.incident,
        kind=kind,
        is_drill=original.is_drill,
        follows=original,
        ring=original.ring,
    )


def send_false_alarm(alert: Alert, *, acting_user: User) -> Alert:
    return send_follow_up(alert, AlertKind.FALSE_ALARM, acting_user=acting_user)


def send_all_clear(alert: Alert, *, acting_user: User) -> Alert:
    return send_follow_up(alert, AlertKind.ALL_CLEAR, acting_user=acting_user)


def _awaiting(alert: Alert, user: User) -> Alert:
    _require_sender(user, alert.chapter_id, not_found=AlertNotFound)
    current = Alert.objects.select_for_update(of=("self",)).select_related("incident__zone", "follows").get(pk=alert.pk)
    if current.status != AlertStatus.AWAITING_APPROVAL:
        raise ApprovalRefused
    return current


@transaction.atomic(durable=True)
def approve_alert(alert: Alert, *, acting_user: User) -> Alert:
    """The second person's approval: the messages and deliveries are written now."""
    current = _awaiting(alert, acting_user)
    if current.created_by_id == acting_user.pk:
        raise ApprovalRefused(_("A staff member other than the sender must approve this alert."))
    if current.follows_id is None and current.incident.status != Status.CONFIRMED:
        raise NotConfirmed(_("The incident is no longer confirmed, so this alert cannot be sent. Cancel it."))
    now = timezone.now()
    current.status = AlertStatus.SENDING
    current.approved_by = acting_user
    _write(current, now)
    _timeline(current, acting_user, now, "Alert approved and sent")
    audit(acting_user, "alert.approve", current)
    return current


@transaction.atomic(durable=True)
def cancel_alert(alert: Alert, *, acting_user: User) -> Alert:
    """Withdraw an alert still waiting for approval (its author or another dispatcher)."""
    current = _awaiting(alert, acting_user)
    now = timezone.now()
    current.status = AlertStatus.CANCELLED
    current.save(update_fields=["status"])
    _timeline(current, acting_user, now, "Alert cancelled before sending")
    audit(acting_user, "alert.cancel", current)
    return current


__all__ = [
    "AlertError",
    "ApprovalRefused",
    "InvalidTemplate",
    "NotConfirmed",
    "TemplateNotApproved",
    "approve_alert",
    "approve_all_templates",
    "approve_template",
    "cancel_alert",
    "check_template_body",
    "compose",
    "fill_template",
    "save_template",
    "send_alert",
    "send_all_clear",
    "send_false_alarm",
    "send_follow_up",
]
