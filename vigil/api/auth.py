from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from vigil.accounts.middleware import has_mfa, user_needs_mfa
from vigil.accounts.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    """Personal API tokens: `Authorization: Bearer vgl_...`. Only the hash is stored."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        record = (
            ApiToken.objects.select_related("user")
            .filter(digest=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if record is None:
            return None
        # A token must not be a way around the MFA rule: it works only while its owner has MFA.
        if user_needs_mfa(record.user) and not has_mfa(record.user):
            return None
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
        request.user = record.user
        return record.user
