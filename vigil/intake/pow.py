"""Proof of work for the public report form: abuse protection that needs no third party.

The form carries a token signed with django.core.signing (a random nonce, the issue time and
the difficulty in bits). Our own script (static/vigil/js/report.js) looks for a counter such
that SHA-256(token + ":" + counter) starts with that many zero bits and puts it in a hidden
field while the person fills in the form. The server checks the signature, the age (at most
two hours), the answer, and that the token was never used before (UsedToken keeps a digest
of each spent token until it would have expired anyway).

Nothing here identifies the person: no CAPTCHA provider, no cookie, no fingerprint, no IP
address (the per-source rate limit in the view keys on a keyed hash only).

The trade-off for people without JavaScript. A `<noscript>` input sends `nojs=1`; then no
answer is asked for, because there is no way to compute one without script. Instead the token
must be at least INTAKE_NOJS_MIN_SECONDS old (a person takes longer than that to fill in the
form; a script has to wait) and the view applies a tighter per-source limit to these
submissions. A flooder can of course claim to have no JavaScript: what they save in hashing
they pay in waiting and in the smaller hourly allowance. We accept that weaker protection
because a report from a flip-phone browser or a locked-down computer matters more than the
cost of a few extra false reports, which volunteers verify before anything is broadcast.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.core.models import UsedToken

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SALT = "vigil.intake.pow"
MAX_AGE = timedelta(hours=2)
MAX_TOKEN_LENGTH = 300
MAX_ANSWER_DIGITS = 12

FORM_UNCHECKED = _("This form could not be checked. Nothing was saved. Please press Send again.")
FORM_EXPIRED = _("This form was open for too long. Nothing was saved. Please press Send again.")
NOT_READY = _("Your browser had not finished getting the form ready. Please wait a moment and press Send again.")
TOO_FAST = _("Please wait a few seconds, then press Send again.")
ALREADY_SENT = _("This report was already sent. To report something else, fill in the form again.")


class PowRejected(Exception):
    """The submission's proof of work is not acceptable. `renew`: give the form a new token."""

    def __init__(self, reason: str, message: StrPromise, *, renew: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.renew = renew


@dataclass(frozen=True)
class Ticket:
    """A checked, not yet spent token."""

    token: str
    issued_at: float
    nojs: bool


def issue_token(*, issued_at: float | None = None, bits: int | None = None) -> str:
    payload = {
        "n": secrets.token_urlsafe(12),
        "t": int(time.time() if issued_at is None else issued_at),
        "b": settings.INTAKE_POW_BITS if bits is None else bits,
    }
    return signing.Signer(salt=SALT).sign_object(payload)


def bits_of(token: str) -> int:
    """The difficulty a token asks for (what the page's script must reach)."""
    try:
        return int(signing.Signer(salt=SALT).unsign_object(token)["b"])
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        return int(settings.INTAKE_POW_BITS)


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def is_solution(token: str, answer: str, bits: int) -> bool:
    digest = hashlib.sha256(f"{token}:{answer}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def check(token: str, answer: str, *, nojs: bool, now: float | None = None) -> Ticket:
    """Validate a submitted token and answer without spending the token."""
    now = time.time() if now is None else now
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise PowRejected("missing", FORM_UNCHECKED, renew=True)
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        issued_at = float(payload["t"])
        bits = int(payload["b"])
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise PowRejected("forged", FORM_UNCHECKED, renew=True) from None
    age = now - issued_at
    if age > MAX_AGE.total_seconds() or age < -60:
        raise PowRejected("expired", FORM_EXPIRED, renew=True)
    if answer:
        if len(answer) > MAX_ANSWER_DIGITS or not answer.isascii() or not answer.isdigit():
            raise PowRejected("unsolved", NOT_READY, renew=False)
        if not is_solution(token, answer, bits):
            raise PowRejected("unsolved", NOT_READY, renew=False)
        return Ticket(token=token, issued_at=issued_at, nojs=False)
    if not nojs:
        raise PowRejected("unsolved", NOT_READY, renew=False)
    if age < settings.INTAKE_NOJS_MIN_SECONDS:
        raise PowRejected("too_fast", TOO_FAST, renew=False)
    return Ticket(token=token, issued_at=issued_at, nojs=True)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def spend(ticket: Ticket) -> None:
    """Mark the token used; a second submission with it is a replay."""
    now = timezone.now()
    expires_at = datetime.fromtimestamp(ticket.issued_at, tz=UTC) + MAX_AGE
    with transaction.atomic():
        UsedToken.objects.filter(expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                UsedToken.objects.create(digest=token_digest(ticket.token), expires_at=expires_at)
        except IntegrityError:
            raise PowRejected("replayed", ALREADY_SENT, renew=True) from None
