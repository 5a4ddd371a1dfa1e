from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.models import Chapter


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    ORGANIZER = "organizer", _("Organizer")
    DISPATCHER = "dispatcher", _("Dispatcher")
    VERIFIER = "verifier", _("Verifier")
    LEGAL = "legal", _("Legal coordinator")
    # A trained volunteer on the roster (vigil.responders): sees only what they are assigned to.
    VOLUNTEER = "volunteer", _("Volunteer")


class User(AbstractUser):
    """A staff member. Community members never have accounts."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VERIFIER)
    chapters = models.ManyToManyField(Chapter, related_name="staff", blank=True)
    preferred_language = models.CharField(max_length=8, default="en")

    @property
    def can_dispatch(self) -> bool:
        return self.role in (Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER)

    @property
    def can_see_contacts(self) -> bool:
        return self.role in (Role.ADMIN, Role.DISPATCHER)

    def chapter_ids(self) -> list[int]:
        cached = getattr(self, "_chapter_ids", None)
        if cached is None:
            cached = list(self.chapters.values_list("id", flat=True))
            self._chapter_ids = cached
        return cached


TOKEN_PREFIX = "vgl_"  # noqa: S105 - a public prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
