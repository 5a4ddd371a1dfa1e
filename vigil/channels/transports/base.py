"""The one small interface every channel implements, and its one error type.

A transport sends one message to one address and returns the provider's id, or raises
TransportError. `permanent=True` means retrying cannot help (invalid number, unregistered
Signal user, push subscription gone): the ledger disables the endpoint. `retry_after` is the
provider's own wait (HTTP 429 Retry-After), honoured instead of our backoff.

Error messages must never contain the address or the message text: they are stored in the
ledger and shown to staff.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    # Decrypted just before sending: never log it, never put it in an error.
    address: str
    body: str
    subject: str
    url: str
    language: str
    idempotency_key: str
    is_drill: bool


@dataclass(frozen=True)
class Receipt:
    provider_id: str = ""


class Transport(abc.ABC):
    channel: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def configured(cls) -> bool:
        """Whether the settings this channel needs exist (a channel without them is off)."""

    @abc.abstractmethod
    def per_second(self) -> float:
        """Messages per second this sender may send (provider or carrier limit)."""

    @abc.abstractmethod
    async def send(self, message: Outgoing) -> Receipt:
        """Hand one message to the provider; TransportError on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most transports hold nothing
        """Release connections (called once when the sender stops)."""
