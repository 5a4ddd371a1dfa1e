"""Staff evidence pages, mounted at /staff/evidence/ (vigil/urls.py)."""

from django.urls import URLPattern, path

from vigil.responders import evidence_views

urlpatterns: list[URLPattern] = [
    path("incident/<int:incident_id>/", evidence_views.evidence_list, name="evidence_list"),
    path("<uuid:evidence_id>/", evidence_views.evidence_file, name="evidence_file"),
    path("<uuid:evidence_id>/original/", evidence_views.evidence_original, name="evidence_original"),
    path("<uuid:evidence_id>/export/", evidence_views.evidence_export, name="evidence_export"),
    path("<uuid:evidence_id>/custody/", evidence_views.evidence_custody, name="evidence_custody"),
]
