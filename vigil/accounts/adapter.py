from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by organizers, never by signing up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth keys its IP rate limits by this value; it lives only in the cache.
        return str(request.META.get("REMOTE_ADDR", "0.0.0.0"))  # noqa: S104

    def add_message(self, *args: Any, **kwargs: Any) -> None:
        return None
