"""Email through Django's email backend (SMTP in production, locmem in tests).

Sending blocks, so it runs in a worker thread; SMTP servers are slow to greet, so the
per-second limit (VIGIL_EMAIL_PER_SECOND) is low and one connection per message is fine.
"""

from __future__ import annotations

import asyncio
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def message_id(idempotency_key: str) -> str:
    """The same delivery always gets the same Message-ID, so a mail system can drop a duplicate."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "vigil.invalid"
    return f"<{idempotency_key}@{domain}>"


class Email(Transport):
    channel = "email"

    @classmethod
    def missing_settings(cls) -> list[str]:
        if settings.EMAIL_BACKEND == LOCMEM:
            return []
        missing = []
        if not settings.EMAIL_HOST:
            missing.append("VIGIL_EMAIL_HOST")
        if not settings.DEFAULT_FROM_EMAIL:
            missing.append("VIGIL_EMAIL_FROM")
        return missing

    @classmethod
    def configured(cls) -> bool:
        return not cls.missing_settings()

    def __init__(self, *, timeout: float | None = None) -> None:
        self._timeout = timeout if timeout is not None else float(settings.EMAIL_TIMEOUT)

    def per_second(self) -> float:
        return float(settings.EMAIL_PER_SECOND)

    async def send(self, message: Outgoing) -> Receipt:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: Outgoing) -> Receipt:
        body = message.body + (f"\n\n{message.url}" if message.url else "")
        subject = (message.subject or message.body).splitlines()[0][:150] if (message.subject or message.body) else ""
        mid = message_id(message.idempotency_key)
        email = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL or None,
            to=[message.address],
            headers={"Message-ID": mid, "Content-Language": message.language},
            connection=get_connection(fail_silently=False, timeout=self._timeout),
        )
        try:
            sent = email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            code = codes[0] if codes else 0
            raise TransportError(f"SMTP {code} recipient refused", permanent=500 <= code < 600) from None
        except smtplib.SMTPResponseException as error:
            # Sender refused, data refused, authentication: our configuration or our text.
            raise TransportError(f"SMTP {error.smtp_code} {type(error).__name__}") from None
        except TimeoutError:
            raise TransportError("SMTP timeout") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TransportError(f"SMTP connection error ({type(error).__name__})") from None
        if sent != 1:
            raise TransportError("SMTP server accepted nothing")
        return Receipt(provider_id=mid.strip("<>")[:64])
