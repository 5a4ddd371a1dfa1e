"""A fake Web Push service: subscriptions' endpoints are http://127.0.0.1:PORT/push/<token>.

    python -m tests.fakes.push --port 8767

Records each POST (token, TTL, encoding, whether a VAPID Authorization came, body size) and
answers 201 with a Location, or what the script says: mode "error" with `status` 410 or 404
(subscription gone), 429 with Retry-After, 500/503, timeout, slow, drop. Per-subscription rules
use the token as the destination.
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from tests.fakes._server import FakeServer, Request, Response, Script, json_response, main
from tests.fakes.client import FakeProcess


def build(args: argparse.Namespace) -> FakeServer:
    script = Script()

    async def push(request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/push/"):
            return json_response(404, {})
        token = request.path.removeprefix("/push/")
        record: dict[str, Any] = {
            "at": time.time(),
            "to": token,
            "ttl": request.headers.get("ttl", ""),
            "encoding": request.headers.get("content-encoding", ""),
            "vapid": request.headers.get("authorization", "").startswith("vapid "),
            "bytes": len(request.body),
        }
        script.records.append(record)
        rule = script.rule_for(token)
        if rule.mode in ("ok", "slow"):
            response = Response(
                status=201, headers=[("Location", f"http://127.0.0.1:{args.port}/m/{uuid.uuid4().hex}")]
            )
            response.delay = rule.delay_ms / 1000 if rule.mode == "slow" else 0.0
        elif rule.mode == "429":
            response = Response(status=429, headers=[("Retry-After", rule.retry_after)] if rule.retry_after else [])
        elif rule.mode in ("500", "503"):
            response = Response(status=int(rule.mode))
        elif rule.mode == "timeout":
            response = Response(action="hang")
        elif rule.mode == "drop":
            response = Response(action="drop")
        else:
            response = Response(status=rule.status)
        record["status"] = response.action or response.status
        return response

    return FakeServer(push, script)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


class FakePush(FakeProcess):
    module = "tests.fakes.push"

    def endpoint(self, token: str | None = None) -> str:
        return f"{self.url}/push/{token or uuid.uuid4().hex}"

    def gone(self, tokens: list[str], status: int = 410) -> None:
        self.set_mode("error", numbers=tokens, status=status)


if __name__ == "__main__":
    main(build, add_arguments)
