"""Writes for the intake stage. Every channel stores a report through receive_report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from vigil.accounts.models import User
from vigil.core import geo
from vigil.core.audit import audit
from vigil.core.crypto import rate_key
from vigil.core.models import Chapter, Zone
from vigil.core.phones import normalize_phone, phone_index
from vigil.intake.models import Agency, Kind, Report
from vigil.intake.signals import report_received


@dataclass
class ReportInput:
    channel: str
    kind: str = Kind.OTHER
    details: str = ""
    address: str = ""
    zip_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    observed_at: datetime | None = None
    agents_count: int | None = None
    vehicles_count: int | None = None
    agency: str = Agency.UNKNOWN
    language: str = "en"
    contact_phone: str = ""
    photo_name: str = ""
    # Where it came from (client address, phone number): only a keyed hash is kept.
    source: str = ""
    # The chapter for a report outside every zone (a hotline call: the dispatcher's chapter).
    fallback_chapter: Chapter | None = None
    # Set when something must be bound to the report before it exists (an encrypted photo).
    report_id: uuid.UUID | None = None


def default_chapter() -> Chapter:
    chapter = Chapter.objects.order_by("id").first()
    if chapter is None:
        # Simultaneous first reports on a new network race to create it; the losers use it.
        try:
            with transaction.atomic():
                chapter = Chapter.objects.create(slug="main", name=settings.NETWORK_NAME)
        except IntegrityError:
            chapter = Chapter.objects.get(slug="main")
    return chapter


def locate(data: ReportInput) -> tuple[str, Zone | None, Chapter]:
    """The report's coarse cell, its zone (if any) and the chapter that owns it."""
    zones = list(Zone.objects.select_related("chapter"))
    cell = ""
    if data.latitude is not None and data.longitude is not None:
        cell = geo.cell_for(data.latitude, data.longitude)
    elif data.zip_code:
        cell = geo.cell_for_zip(data.zip_code) or ""
    zone = geo.zone_for_cell(cell, zones) if cell else None
    if zone is None and data.zip_code:
        zone = geo.zone_for_zip(data.zip_code, zones)
    chapter = zone.chapter if zone else (data.fallback_chapter or default_chapter())
    return cell, zone, chapter


@transaction.atomic(durable=True)
def receive_report(data: ReportInput, *, entered_by: User | None = None) -> Report:
    return store_report(data, entered_by=entered_by)


def store_report(data: ReportInput, *, entered_by: User | None = None) -> Report:
    """receive_report inside a transaction the caller owns (the SMS webhook records the
    provider's message id in the same transaction, for exactly-once processing)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_report needs the caller's transaction; use receive_report")
    now = timezone.now()
    cell, zone, chapter = locate(data)
    report = Report(
        id=data.report_id or uuid.uuid4(),
        chapter=chapter,
        received_at=now,
        channel=data.channel,
        kind=data.kind if data.kind in Kind.values else Kind.OTHER,
        observed_at=data.observed_at,
        language=data.language if data.language in ("en", "es") else "en",
        zip_code=data.zip_code[:5],
        cell=cell,
        zone=zone,
        agents_count=data.agents_count,
        vehicles_count=data.vehicles_count,
        agency=data.agency if data.agency in Agency.values else Agency.UNKNOWN,
        photo_name=data.photo_name,
        source_hash=rate_key(data.source, purpose="source") if data.source else "",
        entered_by=entered_by,
        purge_after=now + timedelta(days=settings.RETAIN_REPORT_DAYS),
    )
    report.address = data.address.strip()
    report.details = data.details.strip()
    if data.contact_phone:
        e164 = normalize_phone(data.contact_phone)
        report.contact_phone = e164
        report.contact_index = phone_index(e164)
        report.contact_expires_at = now + timedelta(days=settings.RETAIN_CONTACT_DAYS)
    report.save(force_insert=True)
    audit(entered_by or f"public:{data.channel}", "report.receive", report)
    report_received.send(sender=Report, report=report)
    return report


@transaction.atomic(durable=True)
def update_report_place(report: Report, *, zip_code: str = "", address: str = "") -> Report:
    return store_report_place(report, zip_code=zip_code, address=address)


def store_report_place(report: Report, *, zip_code: str = "", address: str = "") -> Report:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_report_place needs the caller's transaction; use update_report_place")
    """A later answer (SMS guided flow) adds the place; the report is re-clustered."""
    data = ReportInput(channel=report.channel, zip_code=zip_code)
    cell, zone, chapter = locate(data)
    report.zip_code = zip_code[:5] or report.zip_code
    report.cell = cell or report.cell
    report.zone = zone or report.zone
    if zone is not None:
        report.chapter = chapter
    if address:
        report.address = address.strip()
    report.save(update_fields=["zip_code", "cell", "zone", "chapter", "address"])
    audit(f"public:{report.channel}", "report.update_place", report)
    report_received.send(sender=Report, report=report, updated=True)
    return report
