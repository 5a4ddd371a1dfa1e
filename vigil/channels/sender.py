"""The sender: one asyncio loop that claims deliveries, sends them and records the results.

Database work runs on one dedicated thread (one connection; SQLite serialises writes anyway)
while sends run concurrently on the event loop, at most DELIVERY_CONCURRENCY at once and at
most `per_second()` per channel (a token bucket). Before each send the sender checks, by its
own clock, that its lease still has time left and the message is still valid: a worker that
was frozen past its lease sends nothing when it wakes, and nothing goes out after the window.
A 429 with Retry-After pauses the whole channel. Results are recorded in batches.

`clock` is injectable so tests can step simulated time (retry schedules, validity windows,
Retry-After) instead of sleeping; the token bucket alone runs on the real monotonic clock,
since it limits real requests per second.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from vigil.channels import ledger
from vigil.channels.models import Endpoint, Message, Outcome
from vigil.channels.transports import transport_for
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError
from vigil.core import heartbeats
from vigil.core.fields import LockedValue

log = logging.getLogger("vigil.channels.sender")

FLUSH_SECONDS = 1.0
Clock = Callable[[], datetime]
T = TypeVar("T")
TransportLookup = Callable[[str], Transport | None]


class TokenBucket:
    """`rate` tokens per second, bursts of up to a tenth of a second's worth (at least 1)."""

    def __init__(self, rate: float) -> None:
        self.rate = max(float(rate), 0.001)
        self.capacity = max(1.0, self.rate / 10)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def reserve(self, max_wait: float) -> float | None:
        """Take a token: the seconds to wait before using it, or None (nothing taken) when
        that wait would exceed `max_wait`."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        wait = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
        if wait > max_wait:
            return None
        self.tokens -= 1.0
        return wait


def _body_of(message: Message) -> str:
    """The text to send: the sealed (personal) body when there is one. A sealed body that
    cannot be opened (no key loaded) is empty: `_handle` fails it as transient, never sending
    the lock sign in its place."""
    if message.sealed_body is None:
        return message.body
    sealed = message.sealed_body
    return "" if isinstance(sealed, LockedValue) else str(sealed)


@dataclass(slots=True)
class _MessageText:
    body: str
    subject: str
    url: str
    language: str
    is_drill: bool
    valid_until: datetime


class _EndpointRow:
    """What EncryptedTextField needs to open an endpoint's address (table, column, row)."""

    _meta = Endpoint._meta
    __slots__ = ("pk",)

    def __init__(self, pk: UUID) -> None:
        self.pk = pk


_ADDRESS: Any = Endpoint._meta.get_field("address")


@dataclass(slots=True)
class Job:
    delivery_id: int
    message_id: int
    token: str
    channel: str
    lease_until: datetime
    endpoint_id: UUID
    # Ciphertext until the moment of sending.
    address: bytes | None
    enabled: bool
    text: _MessageText

    def open_address(self) -> str:
        if self.address is None:
            return ""
        return _ADDRESS.open(_EndpointRow(self.endpoint_id), self.address)


class Sender:
    def __init__(
        self,
        *,
        clock: Clock = timezone.now,
        transports: TransportLookup = transport_for,
        name: str = "",
        batch_size: int = 500,
        concurrency: int | None = None,
        flush_every: int = 200,
    ) -> None:
        self.clock = clock
        self._lookup = transports
        # A fixed name lets a restarted sender take back what its crashed predecessor held.
        self.name = (name or secrets.token_hex(6))[:20]
        self.batch_size = batch_size
        self.concurrency = concurrency or settings.DELIVERY_CONCURRENCY
        self.flush_every = flush_every
        self.lease_margin = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS / 3)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-sender-db")
        self._transports: dict[str, Transport | None] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._paused_until: dict[str, datetime] = {}
        self._texts: dict[int, _MessageText] = {}
        self._claims = 0
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sent = 0

    # --- database thread ---------------------------------------------------------------

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, self._call, fn, args)

    @staticmethod
    def _call(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        close_old_connections()
        return fn(*args)

    def _claim_jobs(self, token: str, limit: int, now: datetime) -> list[Job]:
        deliveries = ledger.claim(token, limit, now)
        if not deliveries:
            return []
        missing = {d.message_id for d in deliveries} - self._texts.keys()
        if missing and len(self._texts) > 1000:
            # Old sends are done with; a long-running sender need not keep every body.
            self._texts.clear()
            missing = {d.message_id for d in deliveries}
        if missing:
            for message in Message.objects.filter(id__in=missing):
                self._texts[message.pk] = _MessageText(
                    _body_of(message),
                    message.subject,
                    message.url,
                    message.language,
                    message.is_drill,
                    message.valid_until,
                )
        # Addresses stay ciphertext until the moment of sending.
        endpoints = {
            pk: (bytes(address) if address is not None else None, disabled_at is None)
            for pk, address, disabled_at in Endpoint.objects.filter(pk__in={d.endpoint_id for d in deliveries})
            .values_list("pk", "address", "disabled_at")
            .iterator()
        }
        return [
            Job(
                d.id,
                d.message_id,
                token,
                d.channel,
                d.lease_until,
                d.endpoint_id,
                *endpoints[d.endpoint_id],
                self._texts[d.message_id],
            )
            for d in deliveries
            # An endpoint deleted since the claim took its deliveries with it (cascade).
            if d.endpoint_id in endpoints
        ]

    def _record(self, results: list[ledger.Result], now: datetime) -> None:
        for attempt in range(3):
            try:
                ledger.record(results, now)
                return
            except DatabaseError:
                # Unrecorded rows are re-sent after their lease (at least once): try hard first.
                log.exception("sender: recording %d results failed (try %d)", len(results), attempt + 1)
                time.sleep(0.5 * (attempt + 1))

    def _beat(self) -> None:
        heartbeats.beat(heartbeats.SENDER)

    def _close_db(self) -> None:
        connection.close()

    # --- transports ------------------------------------------------------------------

    def transport(self, channel: str) -> Transport | None:
        if channel not in self._transports:
            transport = self._lookup(channel)
            self._transports[channel] = transport
            if transport is not None:
                self._buckets[channel] = TokenBucket(transport.per_second())
        return self._transports[channel]

    # --- one cycle -------------------------------------------------------------------

    def _claim_limit(self) -> int:
        # No more than the slowest known channel can send before the leases run short.
        rates = [bucket.rate for bucket in self._buckets.values()]
        if not rates:
            return self.batch_size
        budget = settings.DELIVERY_LEASE_SECONDS - self.lease_margin.total_seconds()
        return max(1, min(self.batch_size, int(min(rates) * budget)))

    async def _claim(self) -> list[Job]:
        self._claims += 1
        token = f"{self.name}.{self._claims:x}"[:32]
        return await self._in_db(self._claim_jobs, token, self._claim_limit(), self.clock())

    async def step(self) -> int:
        """Claim one batch of due deliveries, send them, record the results; how many were claimed."""
        jobs = await self._claim()
        if jobs:
            await self._send(jobs)
        return len(jobs)

    async def _send(self, jobs: list[Job], on_drained: Callable[[], None] | None = None) -> None:
        """Send (or refuse) every job and record the results; `on_drained` runs once the last
        job has been taken up, while the final sends are still in flight."""
        queue = deque(jobs)
        results: list[ledger.Result] = []
        flushes: list[asyncio.Future[None]] = []
        flushed_at = time.monotonic()

        def flush() -> None:
            nonlocal flushed_at
            flushed_at = time.monotonic()
            if results:
                batch = results[:]
                results.clear()
                flushes.append(asyncio.ensure_future(self._in_db(self._record, batch, self.clock())))

        async def work() -> None:
            nonlocal on_drained
            while queue:
                job = queue.popleft()
                if not queue and on_drained is not None:
                    on_drained()
                    on_drained = None
                results.append(await self._handle(job))
                # Every `flush_every` results, and at least every second on a slow channel, so
                # the alert page's progress stays live.
                if len(results) >= self.flush_every or time.monotonic() - flushed_at >= FLUSH_SECONDS:
                    flush()

        await asyncio.gather(*(work() for _ in range(min(self.concurrency, len(jobs)))))
        flush()
        for pending in flushes:
            await pending

    def _released(self, job: Job, started: datetime, resume_at: datetime | None = None) -> ledger.Result:
        return ledger.Result(job.delivery_id, job.token, ledger.RELEASED, started, resume_at=resume_at)

    def _refusal(self, job: Job) -> ledger.Result | None:
        """Why this job must not be sent now, as a result; None when it may go."""
        now = self.clock()
        if self._stopping:
            return self._released(job, now)
        if now >= job.text.valid_until:
            return ledger.Result(job.delivery_id, job.token, Outcome.EXPIRED, now)
        if now >= job.lease_until - self.lease_margin:
            # Our lease may already belong to another worker: sending now could duplicate.
            return self._released(job, now)
        paused = self._paused_until.get(job.channel)
        if paused is not None and now < paused:
            return self._released(job, now, paused)
        return None

    async def _handle(self, job: Job) -> ledger.Result:
        refusal = self._refusal(job)
        if refusal is not None:
            return refusal
        transport = self.transport(job.channel)
        if transport is None:
            return ledger.Result(
                job.delivery_id, job.token, Outcome.TRANSIENT, self.clock(), error="channel not configured"
            )
        if not job.enabled:
            return ledger.Result(job.delivery_id, job.token, Outcome.PERMANENT, self.clock(), error="endpoint disabled")
        if not job.text.body:
            return ledger.Result(job.delivery_id, job.token, Outcome.TRANSIENT, self.clock(), error="text is locked")
        left = (job.lease_until - self.lease_margin - self.clock()).total_seconds()
        wait = self._buckets[job.channel].reserve(left)
        if wait is None:
            return self._released(job, self.clock())
        if wait > 0:
            await asyncio.sleep(wait)
            refusal = self._refusal(job)
            if refusal is not None:
                return refusal
        address = job.open_address()
        if isinstance(address, LockedValue) or not address:
            # No data key loaded (or a tampered row): nothing to send to. Retried, never sent blind.
            error = "address unreadable (tampered)" if getattr(address, "tampered", False) else "address locked"
            return ledger.Result(job.delivery_id, job.token, Outcome.TRANSIENT, self.clock(), error=error)
        text = job.text
        outgoing = Outgoing(
            delivery_id=job.delivery_id,
            address=address,
            body=text.body,
            subject=text.subject,
            url=text.url,
            language=text.language,
            idempotency_key=f"vigil-{job.message_id}-{job.delivery_id}",
            is_drill=text.is_drill,
        )
        started = self.clock()
        began = time.perf_counter()
        try:
            receipt: Receipt = await transport.send(outgoing)
        except TransportError as error:
            duration = int((time.perf_counter() - began) * 1000)
            if error.retry_after is not None:
                until = self.clock() + timedelta(seconds=max(error.retry_after, 0.0))
                current = self._paused_until.get(job.channel)
                if current is None or until > current:
                    self._paused_until[job.channel] = until
            outcome = Outcome.PERMANENT if error.permanent else Outcome.TRANSIENT
            return ledger.Result(
                job.delivery_id,
                job.token,
                outcome,
                started,
                duration,
                error=error.message[:200],
                retry_after=error.retry_after,
            )
        except Exception as error:  # noqa: BLE001 - a transport bug must not stop every other alert
            log.error("sender: %s transport raised %s", job.channel, type(error).__name__)
            duration = int((time.perf_counter() - began) * 1000)
            return ledger.Result(
                job.delivery_id, job.token, Outcome.TRANSIENT, started, duration, error=type(error).__name__
            )
        self.sent += 1
        duration = int((time.perf_counter() - began) * 1000)
        return ledger.Result(
            job.delivery_id, job.token, Outcome.SENT, started, duration, provider_id=receipt.provider_id[:64]
        )

    # --- the loop --------------------------------------------------------------------

    def stop(self) -> None:
        """Finish what is in flight, hand back the rest, and leave `run` (thread-safe)."""
        self._stopping = True
        loop = self._loop
        if loop is None or self._wake is None or loop.is_closed():
            return  # not started, or already finished (a second stop: the signal, then `finally`)
        try:
            loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:
            pass  # the loop closed between the check and the call: the sender has finished

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def _heartbeat(self) -> None:
        """Beat every WORKER_HEARTBEAT_SECONDS, however long a batch takes (its own task)."""
        while not self._stopping:
            try:
                await self._in_db(self._beat)
            except DatabaseError:
                # A locked or restarting database must not end the heartbeat; /healthz shows the gap.
                log.exception("sender: heartbeat failed; retrying")
            await asyncio.sleep(settings.WORKER_HEARTBEAT_SECONDS)

    async def start(self, *, release_own: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if release_own:
            await self._in_db(ledger.release_leases, self.name + ".", self.clock())

    async def _claim_or_nothing(self) -> list[Job]:
        try:
            return await self._claim()
        except DatabaseError:
            log.exception("sender: claim failed; retrying")
            return []

    async def run(self, *, idle_wait: float = 0.2, until_idle: bool = False, release_own: bool = False) -> None:
        """Send until `stop()` (or, with `until_idle`, until nothing is due).

        The next batch is claimed while the last sends of the current one are in flight, so
        the connections never sit idle waiting for the database.
        """
        await self.start(release_own=release_own)
        assert self._wake is not None
        prefetch: asyncio.Future[list[Job]] | None = None
        beating = asyncio.ensure_future(self._heartbeat())

        def claim_ahead() -> None:
            nonlocal prefetch
            if prefetch is None and not self._stopping:
                prefetch = asyncio.ensure_future(self._claim_or_nothing())

        try:
            while not self._stopping:
                jobs = await (prefetch or self._claim_or_nothing())
                prefetch = None
                if jobs:
                    await self._send(jobs, claim_ahead)
                    continue
                if until_idle:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=idle_wait)
                except TimeoutError:
                    pass
        finally:
            beating.cancel()
            if prefetch is not None:
                # Claimed after the stop was asked for: handed straight back (stopping refuses all).
                leftover = await prefetch
                if leftover:
                    await self._send(leftover)
            await self.close()

    async def close(self) -> None:
        try:
            await self._in_db(ledger.release_leases, self.name + ".", self.clock())
        except DatabaseError:
            log.exception("sender: could not release leases; they expire on their own")
        for transport in self._transports.values():
            if transport is not None:
                await transport.aclose()
        self._transports.clear()
        await self._in_db(self._close_db)
        self._db.shutdown(wait=True)


def run_in_thread(sender: Sender, **options: Any) -> threading.Thread:
    """Run a sender on its own event loop in a daemon thread (inside `manage.py worker`)."""

    def target() -> None:
        try:
            asyncio.run(sender.run(**options))
        except Exception:
            log.exception("sender: stopped by an error")

    thread = threading.Thread(target=target, name="vigil-sender", daemon=True)
    thread.start()
    return thread
