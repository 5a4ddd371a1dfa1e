"""Ending a staff member's sessions on the server, not just refusing them."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from vigil.accounts.models import User


def end_all_sessions(user: User) -> int:
    """Delete every live session of ``user``. Staff sessions number in the hundreds at most."""
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=doomed).delete()
    return len(doomed)
