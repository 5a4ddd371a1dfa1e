from django.urls import path

from vigil.cases import views

urlpatterns = [
    path("", views.case_board, name="case_board"),
    path("new/", views.case_new, name="case_new"),
    path("from-incident/<int:incident_id>/", views.case_from_incident, name="case_from_incident"),
    path("find/", views.case_find, name="case_find"),
    path("<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("<uuid:case_id>/edit/", views.case_edit, name="case_edit"),
    path("<uuid:case_id>/assign/", views.case_assign, name="case_assign"),
    path("<uuid:case_id>/tasks/", views.case_task_add, name="case_task_add"),
    path("<uuid:case_id>/tasks/<uuid:task_id>/", views.case_task_update, name="case_task_update"),
    path("<uuid:case_id>/family/", views.case_family_add, name="case_family_add"),
    path("<uuid:case_id>/children/", views.case_child_add, name="case_child_add"),
    path("<uuid:case_id>/notes/", views.case_note_add, name="case_note_add"),
]
