"""The volunteer's evidence pages, mounted at /r/evidence/ (vigil/urls.py)."""

from django.urls import URLPattern, path

from vigil.responders import evidence_views

urlpatterns: list[URLPattern] = [
    path("<int:incident_id>/", evidence_views.evidence_upload, name="evidence_upload"),
    path("file/<uuid:evidence_id>/", evidence_views.evidence_own_file, name="evidence_own_file"),
]
