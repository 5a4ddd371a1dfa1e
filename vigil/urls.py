from django.urls import include, path, re_path
from django.views.i18n import set_language

from vigil.core.views import healthz, not_found

# allauth pages a staff network must not offer: accounts are created and reset by organizers,
# never by sign-up, e-mail links or login codes. Matched before allauth's own patterns (whose
# names stay reversible for allauth's internals).
CLOSED_ACCOUNT_PAGES = [
    re_path(r"^accounts/(signup|email|confirm-email|password/reset|password/set|login/code)(/.*)?$", not_found),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    *CLOSED_ACCOUNT_PAGES,
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("vigil.api.urls")),
    path("webhooks/", include("vigil.intake.webhook_urls")),
    path("staff/", include("vigil.incidents.urls")),
    path("staff/responders/", include("vigil.responders.roster_urls")),
    path("staff/oncall/", include("vigil.responders.schedule_urls")),
    path("staff/paging/", include("vigil.responders.paging_urls")),
    path("staff/evidence/", include("vigil.responders.evidence_urls")),
    path("staff/observations/", include("vigil.responders.observation_urls")),
    path("staff/events/", include("vigil.organizing.urls")),
    path("staff/cases/", include("vigil.cases.urls")),
    path("staff/cases/", include("vigil.cases.legal_urls")),
    path("staff/cases/", include("vigil.cases.closing_urls")),
    path("staff/facilities/", include("vigil.cases.facility_urls")),
    path("staff/exports/", include("vigil.cases.export_urls")),
    path("staff/plans/", include("vigil.families.staff_urls")),
    path("plan/", include("vigil.families.urls")),
    path("volunteer/", include("vigil.responders.apply_urls")),
    path("r/", include("vigil.responders.mobile_urls")),
    path("r/evidence/", include("vigil.responders.mobile_evidence_urls")),
    path("r/events/", include("vigil.organizing.mobile_urls")),
    path("", include("vigil.cases.campaign_public_urls")),
    path("", include("vigil.channels.urls")),
    path("", include("vigil.alerts.urls")),
    path("", include("vigil.alerts.subscriber_urls")),
    path("", include("vigil.incidents.public_urls")),
    path("", include("vigil.intake.urls")),
]
