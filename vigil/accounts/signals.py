from __future__ import annotations

import time
from typing import Any

from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver

from vigil.accounts.models import User
from vigil.accounts.sessions import end_all_sessions
from vigil.core.audit import audit

SESSION_STARTED = "vigil_session_started"
MFA_OK = "vigil_mfa_ok"


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


@receiver(authenticator_removed)
def forget_mfa(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(MFA_OK, None)
    with transaction.atomic():
        audit(user, "auth.mfa_removed")


@receiver(authenticator_added)
def record_mfa_added(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    with transaction.atomic():
        audit(user, "auth.mfa_added")


@receiver(pre_save, sender=User)
def end_sessions_on_deactivation(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    # Django already refuses an inactive user's session, but the row would come back to
    # life if the account were reactivated: deleting it makes deactivation final.
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    if sender.objects.filter(pk=instance.pk, is_active=True).exists():
        end_all_sessions(instance)
