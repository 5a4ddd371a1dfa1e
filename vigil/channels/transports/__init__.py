"""Which transport sends a channel's messages in this process.

A channel is live when its settings exist (docs/channels.md). In sandbox mode (demo and drills)
every channel is live and goes to the in-app phone inbox instead of a provider. Transports hold
connection pools: the sender creates them once per process and closes them with `aclose()`.
"""

from __future__ import annotations

from django.conf import settings

from vigil.channels.transports.base import Transport
from vigil.channels.transports.email import Email
from vigil.channels.transports.sandbox import Sandbox
from vigil.channels.transports.signal import SignalCli
from vigil.channels.transports.sms import TwilioSms
from vigil.channels.transports.webpush import WebPush

PROVIDERS: dict[str, type[TwilioSms] | type[SignalCli] | type[Email] | type[WebPush]] = {
    "sms": TwilioSms,
    "signal": SignalCli,
    "email": Email,
    "webpush": WebPush,
}


def transport_for(channel: str) -> Transport | None:
    """A new transport for this channel, or None when the channel is off."""
    if channel not in PROVIDERS:
        return None
    if settings.SANDBOX:
        return Sandbox(channel)
    provider = PROVIDERS[channel]
    return provider() if provider.configured() else None


def live_channels() -> dict[str, bool]:
    return {channel: bool(settings.SANDBOX) or provider.configured() for channel, provider in PROVIDERS.items()}


def missing_settings(channel: str) -> list[str]:
    """The settings a channel still needs to go live (empty when it is live)."""
    provider = PROVIDERS.get(channel)
    return provider.missing_settings() if provider is not None else []
