from django.urls import path

from vigil.cases import legal_views

urlpatterns = [
    path("<uuid:case_id>/detention/", legal_views.case_detention_add, name="case_detention_add"),
    path("<uuid:case_id>/locator/", legal_views.case_locator_add, name="case_locator_add"),
    path("<uuid:case_id>/hearings/", legal_views.case_hearing_add, name="case_hearing_add"),
    path("<uuid:case_id>/hearings/<uuid:hearing_id>/", legal_views.case_hearing_update, name="case_hearing_update"),
    path("<uuid:case_id>/deadlines/", legal_views.case_deadline_add, name="case_deadline_add"),
    path("<uuid:case_id>/deadlines/<uuid:deadline_id>/", legal_views.case_deadline_done, name="case_deadline_done"),
    path("<uuid:case_id>/legal/", legal_views.case_legal_edit, name="case_legal_edit"),
]
