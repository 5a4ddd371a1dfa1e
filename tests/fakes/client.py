"""Start a fake provider in its own process and script it from tests and benchmarks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeProcess:
    module = ""

    def __init__(self, *, port: int | None = None, args: Iterable[str] = ()) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._args = list(args)
        self.process: subprocess.Popen[bytes] | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port), *self._args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited with {self.process.returncode}")
            try:
                self._call("GET", "health")
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.module} did not answer within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control API --------------------------------------------------------------------

    def _call(self, method: str, name: str, data: Any = None, query: str = "") -> Any:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(
            f"{self.url}/_fake/{name}{query}", data=body, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def set_mode(
        self,
        mode: str,
        *,
        count: int | None = None,
        seconds: float | None = None,
        numbers: Iterable[str] | None = None,
        retry_after: float | str | None = None,
        delay_ms: int = 0,
        status: int | None = None,
        code: Any = None,
    ) -> None:
        """Answer the next `count` requests (or for `seconds`, or from now on) this way."""
        self._call(
            "POST",
            "rules",
            {
                "mode": mode,
                "count": count,
                "seconds": seconds,
                "numbers": list(numbers) if numbers is not None else None,
                "retry_after": retry_after,
                "delay_ms": delay_ms,
                "status": status,
                "code": code,
            },
        )

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self._call("GET", "requests", query=f"?since={since}"))

    def stats(self) -> dict[str, int]:
        return dict(self._call("GET", "stats"))

    def count(self) -> int:
        return int(self.stats()["requests"])

    def wait_for(self, key: str, at_least: int, timeout: float = 10.0) -> dict[str, int]:
        """Poll the counters until `key` reaches `at_least` (status callbacks arrive later)."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats.get(key, 0) >= at_least or time.monotonic() > deadline:
                return stats
            time.sleep(0.02)
