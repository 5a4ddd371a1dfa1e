from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "vigil.alerts"
    label = "alerts"

    def ready(self) -> None:
        from vigil.alerts import sms_keywords, subscriptions
        from vigil.intake.signals import sms_language_chosen, sms_opted_out

        sms_keywords.register()
        sms_opted_out.connect(subscriptions.on_sms_opted_out, dispatch_uid="vigil.alerts.stop_by_phone_index")
        sms_language_chosen.connect(
            subscriptions.on_sms_language_chosen, dispatch_uid="vigil.alerts.subscriber_language"
        )
