from __future__ import annotations

import time
from typing import Any

from allauth.account.signals import user_logged_in as allauth_logged_in
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from vigil.core.audit import audit

SESSION_STARTED = "vigil_session_started"


@receiver(user_logged_in)
def remember_login_time(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED] = int(time.time())
    with transaction.atomic():
        audit(user, "auth.login")


@receiver(user_logged_out)
def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with transaction.atomic():
            audit(user, "auth.logout")


@receiver(user_login_failed)
def record_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The attempted username is not recorded: it may be a password typed in the wrong box.
    with transaction.atomic():
        audit("anonymous", "auth.login_failed")


_ = allauth_logged_in
