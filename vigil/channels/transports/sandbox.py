"""The sandbox transport: every channel's messages land in the in-app phone inbox.

Database writes from the sender's event loop run on one thread owned by this transport, so it
keeps one connection (closed in `aclose`) and its writes never contend with each other.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from vigil.channels.sandbox import store_outgoing
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError
from vigil.core.crypto import DataLocked


class Sandbox(Transport):
    channel = "sandbox"

    @classmethod
    def configured(cls) -> bool:
        return True

    def __init__(self, channel: str) -> None:
        self.channel_name = channel
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sandbox-{channel}")

    def per_second(self) -> float:
        return 1000.0

    async def send(self, message: Outgoing) -> Receipt:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._store, message)

    def _store(self, message: Outgoing) -> Receipt:
        body = message.body if not message.url else f"{message.body}\n{message.url}"
        try:
            store_outgoing(self.channel_name, message.address, body, delivery_id=message.delivery_id)
        except DataLocked:
            raise TransportError("sandbox: data key not loaded") from None
        return Receipt(provider_id=f"sandbox-{uuid.uuid4()}")

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, connections.close_all)
        self._executor.shutdown(wait=True)
