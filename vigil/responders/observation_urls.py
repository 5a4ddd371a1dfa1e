from django.urls import path

from vigil.responders import observation_views

urlpatterns = [
    path("", observation_views.observation_list, name="observation_list"),
    path("<int:incident_id>/", observation_views.observation_log, name="observation_log"),
]
