from django.urls import URLPattern, URLResolver, path

from vigil.channels import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/channels/", views.channel_status, name="channel_status"),
    path("sandbox/", views.sandbox_phones, name="sandbox_phones"),
    path("sandbox/phone/<str:index>/", views.sandbox_phone, name="sandbox_phone"),
    path("sandbox/phone/<str:index>/thread", views.sandbox_thread, name="sandbox_thread"),
]
