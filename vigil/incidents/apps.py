from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "vigil.incidents"
    label = "incidents"

    def ready(self) -> None:
        from vigil.incidents.actions import cluster_report
        from vigil.intake.signals import report_received

        report_received.connect(cluster_report, dispatch_uid="vigil.incidents.cluster_report")
