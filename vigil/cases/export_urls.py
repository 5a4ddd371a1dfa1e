from django.urls import path

from vigil.cases import closing_views

urlpatterns = [
    path("", closing_views.export_queue, name="export_queue"),
    path("<uuid:export_id>/approve/", closing_views.export_approve, name="export_approve"),
    path("<uuid:export_id>/refuse/", closing_views.export_refuse, name="export_refuse"),
]
