"""Demo mode makes its own keys on first run and keeps them in var/ (never in the database).

Runs before Django settings load, so it reads the environment directly.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def load_demo_keys() -> None:
    if os.environ.get("VIGIL_DEMO") not in ("True", "true", "1"):
        return
    var = Path(os.environ.get("VIGIL_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    path = var / "demo-keys.env"
    if not path.exists():
        var.mkdir(parents=True, exist_ok=True)
        lines = [
            f"VIGIL_DATA_KEYS=demo1:{_key()}",
            f"VIGIL_BLIND_INDEX_KEY={_key()}",
            f"VIGIL_RATE_LIMIT_KEY={_key()}",
            f"VIGIL_SECRET_KEY={secrets.token_urlsafe(50)}",
            f"VIGIL_TWILIO_AUTH_TOKEN={secrets.token_hex(16)}",
        ]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and value:
            os.environ.setdefault(name, value)
