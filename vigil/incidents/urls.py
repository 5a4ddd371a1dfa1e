from django.urls import path

from vigil.incidents import sse, views

urlpatterns = [
    path("", views.board, name="board"),
    path("board/stream", sse.board_stream, name="board_stream"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("calls/new", views.call_log, name="call_log"),
    path("map", views.incident_map, name="incident_map"),
]
