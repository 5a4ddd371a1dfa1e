from django.apps import AppConfig


class RespondersConfig(AppConfig):
    name = "vigil.responders"
    label = "responders"

    def ready(self) -> None:
        from vigil.core import schedule
        from vigil.incidents.signals import incident_closed, incident_opened, incidents_merged
        from vigil.intake.sms import interceptors
        from vigil.responders import paging, retention, sms

        # A new incident pages its zone's on-call verifiers once the report is committed; the
        # sweep pages any incident that signal missed (a crash between commit and paging).
        incident_opened.connect(paging.on_incident_opened, dispatch_uid="vigil.responders.page_new_incident")
        # Closing an incident ends its volunteers' assignments (rest, load, what they may read).
        incident_closed.connect(paging.on_incident_closed, dispatch_uid="vigil.responders.end_on_close")
        incidents_merged.connect(paging.on_incidents_merged, dispatch_uid="vigil.responders.move_on_merge")
        schedule.register("paging.escalate", every=0.2, job=paging.escalate_due)
        schedule.register("paging.sweep", every=2.0, job=paging.page_new_incidents)
        interceptors.register("responders", sms.intercept)
        retention.connect()
