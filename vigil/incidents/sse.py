"""The board's live stream: server-sent events, one async generator per open board.

Polling board_version() once a second is one aggregate query per dispatcher; it needs no
broker and sees writes from every process (web, SMS webhooks, the worker) alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET

from vigil.accounts.models import User
from vigil.accounts.signals import SESSION_STARTED
from vigil.incidents import selectors
from vigil.incidents.rows import board_rows_html

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
# The browser reconnects by itself; a bounded stream lets sessions expire and code reload.
STREAM_SECONDS = 600.0
RETRY_MS = 2000


def sse_event(event: str, html: str) -> str:
    lines = html.strip().splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def _board_version(user: User) -> str:
    return selectors.board_version(user)


def _session_still_valid(session: SessionBase, user: User) -> bool:
    """Logout, expiry, deactivation or a password change elsewhere ends an open stream too."""
    key = session.session_key
    if not key:
        return False
    stored = type(session)(session_key=key).load()
    if stored.get(SESSION_KEY) != str(user.pk):
        return False
    started = stored.get(SESSION_STARTED)
    if started is None or time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
        return False
    fresh = User.objects.filter(pk=user.pk, is_active=True).only("password").first()
    return fresh is not None and constant_time_compare(stored.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash())


def _board_rows(user: User, language: str) -> tuple[str, str]:
    """The version and the rows rendered with it (version first: a write in between is resent)."""
    version = selectors.board_version(user)
    with translation.override(language):
        html = board_rows_html(selectors.board_incidents(user))
    return version, html


async def board_events(session: SessionBase, user: User, language: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    # Always send the rows first: the page may have been rendered before a change.
    version, html = await sync_to_async(_board_rows)(user, language)
    yield f"retry: {RETRY_MS}\n\n"
    yield sse_event("board", html)
    last_sent = last_checked = loop.time()
    while loop.time() - started < STREAM_SECONDS:
        await asyncio.sleep(POLL_SECONDS)
        if loop.time() - last_checked >= KEEPALIVE_SECONDS:
            if not await sync_to_async(_session_still_valid)(session, user):
                return
            last_checked = loop.time()
        if await sync_to_async(_board_version)(user) != version:
            version, html = await sync_to_async(_board_rows)(user, language)
            yield sse_event("board", html)
            last_sent = loop.time()
        elif loop.time() - last_sent >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            last_sent = loop.time()


@require_GET
async def board_stream(request: HttpRequest) -> HttpResponseBase:
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not isinstance(user, User) or user.role not in selectors.INCIDENT_READER_ROLES:
        raise PermissionDenied
    response = StreamingHttpResponse(
        board_events(request.session, user, translation.get_language() or "en"), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
