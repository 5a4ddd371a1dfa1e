from django.urls import include, path
from django.views.i18n import set_language

from vigil.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("vigil.api.urls")),
    path("webhooks/", include("vigil.intake.webhook_urls")),
    path("staff/", include("vigil.incidents.urls")),
    path("", include("vigil.intake.urls")),
]
