"""Setup for the volunteer-page, field-report and paging-panel tests: a neighbour reports a raid
in Pilsen (with a call-back number), the on-call volunteers are paged the real way."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from conftest import login
from vigil.accounts.models import User
from vigil.incidents.models import Incident, IncidentReport
from vigil.intake.actions import ReportInput, receive_report
from vigil.responders import paging
from vigil.responders.models import Assignment, PageResponse, Responder

PILSEN = (41.8575, -87.6600)
CICERO = (41.8456, -87.7539)
REPORTER_PHONE = "+13125550199"
ADDRESS = "1800 S Blue Island Ave, at 18th St"
DETAILS = "Three grey vans, agents knocking on doors <script>alert('x')</script>"


def raid_reported(at: tuple[float, float] = PILSEN) -> Incident:
    """A neighbour's web report with an address, details and a call-back number."""
    report = receive_report(
        ReportInput(
            channel="web",
            kind="home",
            latitude=at[0],
            longitude=at[1],
            address=ADDRESS,
            details=DETAILS,
            contact_phone=REPORTER_PHONE,
            source="neighbour-1",
        )
    )
    return IncidentReport.objects.select_related("incident", "incident__zone").get(report=report).incident


def page_now(incident: Incident) -> Incident:
    paging.start_paging(incident)
    return incident


def accept(responder: Responder, incident: Incident, *, eta: int = 10, role: str = "") -> Assignment:
    paging.respond(responder, PageResponse.ACCEPTED, eta_minutes=eta, incident=incident)
    assignment = Assignment.objects.get(incident=incident, responder=responder)
    if role:
        Assignment.objects.filter(pk=assignment.pk).update(role=role)
        assignment.refresh_from_db()
    return assignment


def with_mfa(user: User) -> User:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def phone_of(client: Client, responder: Responder) -> Client:
    """The volunteer's phone browser, signed in (MFA passed)."""
    assert responder.user is not None
    login(client, with_mfa(responder.user))
    return client
