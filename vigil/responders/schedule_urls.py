"""On-call pages, mounted at /staff/oncall/."""

from django.urls import path

from vigil.responders import schedule_views as views

urlpatterns = [
    path("", views.oncall_calendar, name="oncall_calendar"),
    path("load/", views.oncall_load, name="oncall_load"),
    path("rotations/", views.rotation_list, name="oncall_rotations"),
    path("rotations/new/", views.rotation_create, name="oncall_rotation_create"),
    path("rotations/<int:pk>/", views.rotation_edit, name="oncall_rotation_edit"),
    path("overrides/new/", views.override_add, name="oncall_override_add"),
    path("overrides/<int:pk>/remove/", views.override_remove, name="oncall_override_remove"),
    path("<int:zone_id>.ics", views.zone_ics, name="oncall_zone_ics"),
]
