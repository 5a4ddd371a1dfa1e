from django.urls import path

from vigil.cases import facility_views

urlpatterns = [
    path("", facility_views.facility_list, name="facility_list"),
    path("import/", facility_views.facility_import, name="facility_import"),
]
