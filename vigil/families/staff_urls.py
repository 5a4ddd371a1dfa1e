from django.urls import path

from vigil.families import staff_views

urlpatterns = [
    path("panic/", staff_views.plan_panic, name="plan_panic"),
    path("<uuid:plan_id>/", staff_views.plan_detail, name="plan_detail"),
]
