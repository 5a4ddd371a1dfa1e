from django.urls import URLPattern, path

from vigil.organizing import views

urlpatterns: list[URLPattern] = [
    path("", views.event_list, name="event_list"),
    path("new/", views.event_new, name="event_new"),
    path("<uuid:event_id>/", views.event_detail, name="event_detail"),
    path("<uuid:event_id>/edit/", views.event_edit, name="event_edit"),
    path("<uuid:event_id>/cancel/", views.event_cancel, name="event_cancel"),
    path("<uuid:event_id>/attendance/", views.event_attendance, name="event_attendance"),
]
