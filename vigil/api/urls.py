from django.urls import path

from vigil.api.routes import api

urlpatterns = [path("", api.urls)]
