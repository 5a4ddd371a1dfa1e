"""Shared set-up for benchmarks: a throwaway var dir with its own keys and database.

Each benchmark prints one JSON object; every figure sits next to the raw limit measured in
the same run on the same machine, so the numbers mean something on any box.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def bench_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "vigil.settings",
        "VIGIL_DEBUG": "False",
        "VIGIL_DEMO": "True",
        "VIGIL_DEMO_SKIP_MFA": "True",
        "VIGIL_VAR_DIR": str(var_dir),
        "VIGIL_SECRET_KEY": secrets.token_urlsafe(50),
        "VIGIL_DATA_KEYS": "b1:" + _key(),
        "VIGIL_BLIND_INDEX_KEY": _key(),
        "VIGIL_RATE_LIMIT_KEY": _key(),
        "VIGIL_TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "VIGIL_LOG_LEVEL": "WARNING",
        "VIGIL_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    env.update(extra)
    return env


def setup_django(**extra: str) -> Path:
    """Configure Django in this process on a fresh database; returns the var dir."""
    var_dir = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    os.environ.update(bench_env(var_dir, **extra))
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    return var_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_uvicorn(app: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["VIGIL_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=full_env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2, sort_keys=True))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{result['benchmark']}.json").write_text(json.dumps(result, indent=2, sort_keys=True))
