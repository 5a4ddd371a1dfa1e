from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from vigil.accounts.signals import MFA_OK, SESSION_STARTED

MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")


class SessionLimitsMiddleware:
    """Absolute session lifetime (the idle timeout is SESSION_COOKIE_AGE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED)
            if started is None or time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)


def user_needs_mfa(user: object) -> bool:
    if settings.MFA_DEMO_BYPASS:
        return False
    return getattr(user, "role", None) in settings.MFA_REQUIRED_ROLES


def has_mfa(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


def session_has_mfa(request: HttpRequest) -> bool:
    # Only the positive answer is kept: a user who enrols mid-session is let through on the
    # next request, and removing an authenticator drops the mark (signals.forget_mfa).
    if request.session.get(MFA_OK) == request.user.pk:
        return True
    if has_mfa(request.user):
        request.session[MFA_OK] = request.user.pk
        return True
    return False


class RequireMFAMiddleware:
    """Staff with sensitive access get nothing but MFA enrolment until they have MFA (C4)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and user_needs_mfa(user)
            and not session_has_mfa(request)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "MFA enrolment required"}, status=403)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
