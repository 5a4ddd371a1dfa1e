from __future__ import annotations

import phonenumbers
from django.conf import settings

from vigil.core.crypto import blind_index


class InvalidPhone(ValueError):
    pass


def normalize_phone(text: str, region: str | None = None) -> str:
    """E.164 form of a phone number, or InvalidPhone."""
    try:
        number = phonenumbers.parse(text.strip()[:40], region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(text) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_index(e164: str) -> str:
    return blind_index(e164, purpose="phone")
