from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def vigil(request: HttpRequest) -> dict[str, Any]:
    return {
        "NETWORK_NAME": settings.NETWORK_NAME,
        "DEMO_MODE": settings.DEMO_MODE,
        "MFA_OFF_BANNER": settings.MFA_DEMO_BYPASS,
        "SANDBOX": settings.SANDBOX,
    }
