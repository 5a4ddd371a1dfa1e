from django.urls import path

from vigil.cases import closing_views

urlpatterns = [
    path("<uuid:case_id>/export/", closing_views.case_export_request, name="case_export_request"),
    path("exports/<uuid:export_id>/download/", closing_views.case_export_download, name="case_export_download"),
    path("<uuid:case_id>/close/", closing_views.case_close, name="case_close"),
    path("<uuid:case_id>/campaign/", closing_views.case_campaign, name="case_campaign"),
]
