from django.urls import URLPattern, path

from vigil.responders import mobile_views as views

urlpatterns: list[URLPattern] = [
    path("", views.responder_home, name="responder_home"),
    path("available/", views.responder_available, name="responder_available"),
    path("off/", views.responder_off, name="responder_off"),
    path("incidents/<int:incident_id>/", views.responder_incident, name="responder_incident"),
    path("incidents/<int:incident_id>/respond/", views.responder_respond, name="responder_respond"),
    path("incidents/<int:incident_id>/report/", views.responder_field_report, name="responder_field_report"),
    path("incidents/<int:incident_id>/on-scene/", views.responder_on_scene, name="responder_on_scene"),
    path("incidents/<int:incident_id>/done/", views.responder_done, name="responder_done"),
    path("schedule/", views.responder_schedule, name="responder_schedule"),
    path("schedule.ics", views.responder_schedule_ics, name="responder_schedule_ics"),
]
