from django.urls import URLPattern, path

from vigil.organizing import views

urlpatterns: list[URLPattern] = [
    path("", views.responder_events, name="responder_events"),
    path("<uuid:event_id>/", views.responder_event, name="responder_event"),
]
