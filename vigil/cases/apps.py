from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vigil.cases"
    label = "cases"

    def ready(self) -> None:
        from vigil.cases import reminders, retention  # noqa: F401
        from vigil.core import schedule

        schedule.register("cases.reminders", every=60, job=reminders.send_due_reminders)
