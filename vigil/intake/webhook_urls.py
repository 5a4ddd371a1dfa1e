from django.urls import URLPattern, path

from vigil.channels.webhooks import twilio_status
from vigil.intake.webhooks import twilio_sms

urlpatterns: list[URLPattern] = [
    path("twilio/sms", twilio_sms, name="twilio_sms"),
    path("twilio/status", twilio_status, name="twilio_status"),
]
