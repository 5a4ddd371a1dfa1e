from django.apps import AppConfig


class OrganizingConfig(AppConfig):
    name = "vigil.organizing"
    label = "organizing"

    def ready(self) -> None:
        from vigil.core import schedule
        from vigil.organizing import reminders, sms

        sms.register()
        schedule.register("organizing.reminders", every=30, job=reminders.send_due_reminders)
