from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "vigil.channels"
    label = "channels"
