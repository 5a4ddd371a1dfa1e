from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "vigil.families"
    label = "families"

    def ready(self) -> None:
        from vigil.families import sms

        sms.register()
