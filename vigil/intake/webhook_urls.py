from django.urls import URLPattern, path

from vigil.intake.webhooks import twilio_sms

urlpatterns: list[URLPattern] = [
    path("twilio/sms", twilio_sms, name="twilio_sms"),
]
