from django.urls import path

from vigil.incidents import views

urlpatterns = [
    path("rumors/", views.rumor_log_page, name="rumor_log"),
]
