from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vigil.core"
    label = "core"
    verbose_name = "Vigil core"

    def ready(self) -> None:
        from vigil.core import checks, db  # noqa: F401  (registers checks and signal handlers)
