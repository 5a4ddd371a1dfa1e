from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac

from vigil.accounts.models import Role
from vigil.core import crypto
from vigil.core.http import client_ip


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by organizers, never by signing up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth puts this value into its rate-limit cache keys, and the cache is a database
        # table: store a keyed hash, never the address. client_ip honours VIGIL_PROXY_COUNT
        # (behind a proxy every client would otherwise share one bucket) and buckets IPv6 per /64.

        address = client_ip(request)
        try:
            return "h" + crypto.rate_key(address, purpose="staff-login")
        except crypto.DataLocked:
            return "h" + salted_hmac("vigil.staff-login", address, algorithm="sha256").hexdigest()[:40]

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth prefixes the request's host, so every name in ALLOWED_HOSTS would be a
        # fresh set of five guesses for the same account.
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{str(login).lower()}"

    def add_message(self, *args: Any, **kwargs: Any) -> None:
        return None

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # A volunteer's home is their pages on the phone, not the dispatch board.
        if getattr(request.user, "role", None) == Role.VOLUNTEER:
            return reverse("responder_home")
        return str(super().get_login_redirect_url(request))
