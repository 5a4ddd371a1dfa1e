"""System checks with stable ids (vigil.E001...) for configuration we refuse."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from vigil.core import crypto


@register()
def check_keys(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    try:
        ring = crypto.keyring()
    except ValueError as exc:
        return [Error(str(exc), hint="See docs/configuration.md#data-keys", id="vigil.E001")]
    if not ring.loaded:
        problems.append(
            Warning(
                "No data keys are loaded: sensitive fields show as locked and intake cannot store contacts.",
                hint="Set VIGIL_DATA_KEYS and VIGIL_BLIND_INDEX_KEY (docs/configuration.md).",
                id="vigil.W001",
            )
        )
    if ring.blind_key is not None and ring.blind_key in ring.keys.values():
        problems.append(Error("The blind index key must differ from every data key.", id="vigil.E002"))
    if (
        settings.DATA_KEYS
        and settings.SECRET_KEY
        and any(settings.SECRET_KEY.encode() == key for key in ring.keys.values())
    ):
        problems.append(Error("A data key must not be the SECRET_KEY.", id="vigil.E003"))
    return problems
