"""Roster writes: applying, vetting (approval by an organizer), changes, trainings, logins.

Every action is one durable transaction with its audit row ("responder.*"); the audit row
names the object and the acting account, never the person's name or phone. A public
application and an organizer's "add" both make an APPLIED responder: approval is always a
separate, named step (vetting: infiltrators are a threat).

Approval creates the volunteer's account (role VOLUNTEER, "vol-" + 8 hex characters, no
usable password, blank names: the account never says who the person is) and the contact
endpoint pages go to (the delivery ledger's Endpoint, shared with alerts by its keyed index).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from vigil.accounts.models import Role, User
from vigil.channels import outbox
from vigil.channels.models import ChannelKind
from vigil.core.audit import audit
from vigil.core.fields import LockedValue
from vigil.core.models import Chapter, Zone
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.responders.models import Responder, ResponderRole, ResponderStatus, Training

EDITOR_ROLES = (Role.ADMIN, Role.ORGANIZER)
LANGUAGES = ("en", "es")
# Languages a volunteer may say they speak (interpreting); codes only, shown translated.
SPOKEN_LANGUAGES = ("en", "es", "pt", "fr", "ht", "zh", "vi", "ar", "qu", "yua", "mam", "kic")
PAGE_CHANNELS = (ChannelKind.SMS, ChannelKind.SIGNAL)
MAX_NAME = 120
USERNAME_PREFIX = "vol-"


class RosterError(ValueError):
    """Input or a state change we refuse; the message is safe to show."""


class NotAllowed(PermissionError):
    """The acting user may not make this change (a 403: they can already see the responder)."""


@dataclass(frozen=True)
class Phone:
    e164: str
    index: str


def clean_phone(text: str) -> Phone:
    try:
        e164 = normalize_phone(text or "")
    except InvalidPhone:
        raise RosterError(gettext("That does not look like a phone number.")) from None
    return Phone(e164, phone_index(e164))


def clean_name(text: str) -> str:
    name = " ".join((text or "").replace("\x00", "").split())
    if not name:
        raise RosterError(gettext("Enter a name."))
    if len(name) > MAX_NAME:
        raise RosterError(gettext("That name is too long."))
    return name


def clean_languages(language: str, languages: Iterable[str]) -> tuple[str, list[str]]:
    if language not in LANGUAGES:
        raise RosterError(gettext("Choose English or Spanish for messages."))
    spoken = sorted({code for code in languages if code in SPOKEN_LANGUAGES} | {language})
    return language, spoken


def _zones(chapter_id: int, zone_ids: Iterable[int]) -> list[Zone]:
    ids = {int(z) for z in zone_ids}
    zones = list(Zone.objects.filter(chapter_id=chapter_id, pk__in=ids))
    if len(zones) != len(ids):
        raise RosterError(gettext("Choose areas of this chapter only."))
    return zones


def can_edit(user: Any, chapter_id: int) -> bool:
    return isinstance(user, User) and user.is_active and user.role in EDITOR_ROLES and chapter_id in user.chapter_ids()


def _require_editor(user: Any, responder: Responder | None = None, chapter: Chapter | None = None) -> None:
    chapter_id = responder.chapter_id if responder is not None else (chapter.pk if chapter is not None else -1)
    if not can_edit(user, chapter_id):
        raise NotAllowed


def _phone_taken(chapter_id: int, index: str, *, exclude: Any = None) -> bool:
    found = Responder.objects.filter(chapter_id=chapter_id, phone_index=index).exclude(status=ResponderStatus.LEFT)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.exists()


def _create(
    chapter: Chapter,
    *,
    name: str,
    phone: Phone,
    language: str,
    languages: Sequence[str],
    zones: Sequence[Zone],
    now: datetime,
) -> Responder | None:
    if _phone_taken(chapter.pk, phone.index):
        return None
    responder = Responder(
        chapter=chapter,
        phone_index=phone.index,
        language=language,
        languages=list(languages),
        status=ResponderStatus.APPLIED,
        applied_at=now,
    )
    responder.name = name
    responder.phone = phone.e164
    try:
        with transaction.atomic():
            responder.save(force_insert=True)
    except IntegrityError:
        return None  # the same phone applied at the same moment
    responder.home_zones.set(zones)
    return responder


@transaction.atomic(durable=True)
def apply(
    chapter: Chapter,
    *,
    name: str,
    phone: str,
    language: str,
    languages: Iterable[str] = (),
    zone_ids: Iterable[int] = (),
    roles_wanted: Iterable[str] = (),
    now: datetime | None = None,
) -> Responder | None:
    """A public application. None (and nothing written) when the phone is already on the roster:
    the caller answers the same either way, so the form cannot tell who volunteers.

    `roles_wanted` is what the applicant is interested in; it is not stored (a role only counts
    with a training an organizer records), the organizer asks about it when they call."""
    del roles_wanted
    clean = clean_phone(phone)
    lang, spoken = clean_languages(language, languages)
    zones = _zones(chapter.pk, zone_ids)
    responder = _create(
        chapter,
        name=clean_name(name),
        phone=clean,
        language=lang,
        languages=spoken,
        zones=zones,
        now=now or timezone.now(),
    )
    if responder is not None:
        audit("public:volunteer", "responder.apply", responder)
    return responder


@transaction.atomic(durable=True)
def add_responder(
    chapter: Chapter,
    *,
    name: str,
    phone: str,
    language: str,
    languages: Iterable[str] = (),
    zone_ids: Iterable[int] = (),
    is_backup: bool = False,
    acting_user: User,
    now: datetime | None = None,
) -> Responder:
    """An organizer adds someone they met; still APPLIED until approved."""
    _require_editor(acting_user, chapter=chapter)
    clean = clean_phone(phone)
    lang, spoken = clean_languages(language, languages)
    responder = _create(
        chapter,
        name=clean_name(name),
        phone=clean,
        language=lang,
        languages=spoken,
        zones=_zones(chapter.pk, zone_ids),
        now=now or timezone.now(),
    )
    if responder is None:
        raise RosterError(gettext("Someone with this phone number is already on the roster."))
    if is_backup:
        responder.is_backup = True
        responder.save(update_fields=["is_backup"])
    audit(acting_user, "responder.add", responder)
    return responder


def _lock(responder: Responder) -> Responder:
    return Responder.objects.select_for_update(of=("self",)).select_related("user", "endpoint").get(pk=responder.pk)


def _new_username() -> str:
    while True:
        username = USERNAME_PREFIX + secrets.token_hex(4)
        if not User.objects.filter(username=username).exists():
            return username


@transaction.atomic(durable=True)
def approve(responder: Responder, *, acting_user: User, now: datetime | None = None) -> Responder:
    _require_editor(acting_user, responder)
    responder = _lock(responder)
    if responder.status != ResponderStatus.APPLIED:
        raise RosterError(gettext("Only a waiting application can be approved."))
    if isinstance(responder.phone, LockedValue):
        raise RosterError(gettext("The data key is not loaded, so this responder cannot be changed now."))
    now = now or timezone.now()
    user = responder.user
    if user is None:
        user = User(username=_new_username(), role=Role.VOLUNTEER, first_name="", last_name="", email="")
        user.set_unusable_password()
        user.save()
        user.chapters.set([responder.chapter_id])
    else:
        user.is_active = True
        user.save(update_fields=["is_active"])
    responder.user = user
    responder.endpoint = outbox.endpoint_for(
        responder.chapter_id, ChannelKind.SMS, str(responder.phone), responder.phone_index
    )
    responder.status = ResponderStatus.APPROVED
    responder.approved_at = now
    responder.approved_by = acting_user
    responder.save(update_fields=["user", "endpoint", "status", "approved_at", "approved_by"])
    audit(acting_user, "responder.approve", responder)
    return responder


def _set_status(
    responder: Responder, acting_user: User, *, allowed_from: Sequence[str], to: str, action: str
) -> Responder:
    _require_editor(acting_user, responder)
    responder = _lock(responder)
    if responder.status not in allowed_from:
        raise RosterError(gettext("This change does not apply to the responder's current status."))
    responder.status = to
    fields = ["status"]
    if to == ResponderStatus.LEFT:
        responder.endpoint = None
        fields.append("endpoint")
    if responder.user is not None:
        active = to == ResponderStatus.APPROVED
        if responder.user.is_active != active:
            responder.user.is_active = active
            responder.user.save(update_fields=["is_active"])
    responder.save(update_fields=fields)
    audit(acting_user, action, responder)
    return responder


@transaction.atomic(durable=True)
def suspend(responder: Responder, *, acting_user: User) -> Responder:
    """No pages, no login, until reinstated."""
    return _set_status(
        responder,
        acting_user,
        allowed_from=[ResponderStatus.APPROVED],
        to=ResponderStatus.SUSPENDED,
        action="responder.suspend",
    )


@transaction.atomic(durable=True)
def reinstate(responder: Responder, *, acting_user: User) -> Responder:
    return _set_status(
        responder,
        acting_user,
        allowed_from=[ResponderStatus.SUSPENDED],
        to=ResponderStatus.APPROVED,
        action="responder.reinstate",
    )


@transaction.atomic(durable=True)
def mark_left(responder: Responder, *, acting_user: User) -> Responder:
    """Left the network (or an application turned down): endpoint link dropped, account off."""
    return _set_status(
        responder,
        acting_user,
        allowed_from=[ResponderStatus.APPLIED, ResponderStatus.APPROVED, ResponderStatus.SUSPENDED],
        to=ResponderStatus.LEFT,
        action="responder.left",
    )


@transaction.atomic(durable=True)
def update(
    responder: Responder,
    *,
    acting_user: User,
    name: str,
    phone: str,
    language: str,
    languages: Iterable[str] = (),
    zone_ids: Iterable[int] = (),
    is_backup: bool = False,
    channel: str = ChannelKind.SMS,
) -> Responder:
    _require_editor(acting_user, responder)
    responder = _lock(responder)
    if responder.status == ResponderStatus.LEFT:
        raise RosterError(gettext("This responder has left the roster."))
    if channel not in PAGE_CHANNELS:
        raise RosterError(gettext("Pages go by SMS or Signal."))
    clean = clean_phone(phone)
    lang, spoken = clean_languages(language, languages)
    zones = _zones(responder.chapter_id, zone_ids)
    if clean.index != responder.phone_index and _phone_taken(responder.chapter_id, clean.index, exclude=responder.pk):
        raise RosterError(gettext("Someone with this phone number is already on the roster."))
    responder.name = clean_name(name)
    responder.phone = clean.e164
    responder.phone_index = clean.index
    responder.language = lang
    responder.languages = spoken
    responder.is_backup = bool(is_backup)
    fields = ["name", "phone", "phone_index", "language", "languages", "is_backup"]
    if responder.status != ResponderStatus.APPLIED:
        current = responder.endpoint
        if current is None or current.channel != channel or current.address_index != clean.index:
            responder.endpoint = outbox.endpoint_for(responder.chapter_id, channel, clean.e164, clean.index)
            fields.append("endpoint")
    responder.save(update_fields=fields)
    responder.home_zones.set(zones)
    audit(acting_user, "responder.update", responder)
    return responder


@transaction.atomic(durable=True)
def add_training(
    responder: Responder,
    *,
    role: str,
    completed_on: date,
    expires_on: date,
    acting_user: User | None,
    source: str = "manual",
    now: datetime | None = None,
) -> Training:
    """`acting_user` None only for source "event" run by the system (attendance recorded it)."""
    if source == "manual" or acting_user is not None:
        _require_editor(acting_user, responder)
    if role not in ResponderRole.values:
        raise RosterError(gettext("Choose a role."))
    if expires_on < completed_on:
        raise RosterError(gettext("A training cannot expire before it was completed."))
    if responder.status == ResponderStatus.LEFT:
        raise RosterError(gettext("This responder has left the roster."))
    training = Training.objects.create(
        responder=responder,
        role=role,
        completed_on=completed_on,
        expires_on=expires_on,
        recorded_by=acting_user,
        recorded_at=now or timezone.now(),
        source=source[:10],
    )
    audit(acting_user or "system", "responder.training_add", responder)
    return training


@transaction.atomic(durable=True)
def remove_training(training: Training, *, acting_user: User) -> None:
    responder = training.responder
    _require_editor(acting_user, responder)
    training.delete()
    audit(acting_user, "responder.training_remove", responder)


def _password() -> str:
    # Four groups of five letters and digits: easy to read out on a phone call, ~100 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@transaction.atomic(durable=True)
def give_login(responder: Responder, *, acting_user: User) -> str:
    """A one-time password for the volunteer's account, shown once to the organizer (never
    stored in clear, never sent by SMS). The volunteer enrols MFA at first login (middleware)."""
    _require_editor(acting_user, responder)
    responder = _lock(responder)
    if responder.status != ResponderStatus.APPROVED or responder.user is None:
        raise RosterError(gettext("Only an approved responder can get a login."))
    password = _password()
    user = responder.user
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(acting_user, "responder.give_login", responder)
    return password
