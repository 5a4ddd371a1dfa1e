from django.urls import URLPattern, URLResolver, path

from vigil.alerts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/alerts/", views.alert_list, name="alert_list"),
    path("staff/alerts/templates/", views.template_list, name="alert_templates"),
    path("staff/alerts/templates/<str:kind>/<str:language>/", views.template_edit, name="alert_template_edit"),
    path("staff/alerts/new/<int:incident_id>/", views.compose, name="alert_compose"),
    path("staff/alerts/<uuid:alert_id>/", views.alert_detail, name="alert_detail"),
    path("staff/alerts/<uuid:alert_id>/progress", views.alert_progress, name="alert_progress"),
    path("alerts/", views.public_alerts, name="public_alerts"),
    path("alerts/<uuid:ref>/", views.public_alert, name="public_alert"),
]
