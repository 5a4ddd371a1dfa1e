"""Staff roster pages, mounted at /staff/responders/."""

from django.urls import path

from vigil.responders import roster_views as views

urlpatterns = [
    path("", views.responder_list, name="responder_list"),
    path("applications/", views.responder_applications, name="responder_applications"),
    path("new/", views.responder_add, name="responder_add"),
    path("<uuid:pk>/", views.responder_detail, name="responder_detail"),
    path("<uuid:pk>/edit/", views.responder_edit, name="responder_edit"),
    path("<uuid:pk>/approve/", views.responder_approve, name="responder_approve"),
    path("<uuid:pk>/suspend/", views.responder_suspend, name="responder_suspend"),
    path("<uuid:pk>/reinstate/", views.responder_reinstate, name="responder_reinstate"),
    path("<uuid:pk>/left/", views.responder_left, name="responder_left"),
    path("<uuid:pk>/trainings/", views.training_add, name="responder_training_add"),
    path("<uuid:pk>/trainings/<int:training_id>/remove/", views.training_remove, name="responder_training_remove"),
    path("<uuid:pk>/login/", views.responder_give_login, name="responder_give_login"),
]
