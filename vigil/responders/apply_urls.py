"""The public volunteer application, mounted at /volunteer/."""

from django.urls import path

from vigil.responders import apply_views as views

urlpatterns = [
    path("", views.volunteer_apply, name="volunteer_apply"),
    path("thanks/", views.volunteer_thanks, name="volunteer_thanks"),
]
