from django.urls import path

from vigil.intake import views

urlpatterns = [
    path("", views.report_form, name="report_form"),
    path("report/", views.report_submit, name="report_submit"),
    path("report/thanks/", views.report_thanks, name="report_thanks"),
]
