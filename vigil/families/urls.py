from django.urls import path

from vigil.families import views

urlpatterns = [
    path("", views.plan_start, name="plan_start"),
    path("done/", views.plan_made, name="plan_made"),
    path("edit/", views.plan_open, name="plan_open"),
    path("edit/plan/", views.plan_edit, name="plan_edit"),
]
