from django.urls import URLPattern, path

from vigil.responders import paging_views as views

urlpatterns: list[URLPattern] = [
    path("board/", views.paging_board, name="paging_board"),
    path("incident/<int:incident_id>/", views.paging_panel, name="paging_panel"),
    path("incident/<int:incident_id>/page/", views.paging_page, name="paging_page"),
]
