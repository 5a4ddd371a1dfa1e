from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "vigil.channels"
    label = "channels"

    def ready(self) -> None:
        from vigil.channels import ledger
        from vigil.core import schedule

        # A carrier's verdict that beat the sender's own record of the message (within a second).
        schedule.register("channels.early_callbacks", every=2.0, job=ledger.apply_early_callbacks)
