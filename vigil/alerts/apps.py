from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "vigil.alerts"
    label = "alerts"
