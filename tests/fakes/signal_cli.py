"""A fake signal-cli JSON-RPC HTTP daemon (POST /api/v1/rpc, method "send"), in its own process.

    python -m tests.fakes.signal_cli --port 8766

Answers like `signal-cli -a ACCOUNT daemon --http`: {"result": {"timestamp": ..., "results":
[{"recipientAddress": {...}, "type": "SUCCESS"}]}}. Scripted errors (mode "error", `code`):
"unregistered" (JSON-RPC error -1 "... is not registered." with UNREGISTERED_FAILURE in
data.response.results, as newer signal-cli versions answer), "unregistered_result" (older
versions: a result whose recipient type is UNREGISTERED_FAILURE), "rate_limit" (error -5 with
RATE_LIMIT_FAILURE and retryAfterSeconds = `retry_after`). Modes 429/500/503/timeout/slow/drop
work as for the fake Twilio.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tests.fakes._server import FakeServer, Request, Response, Rule, Script, json_response, main
from tests.fakes.client import FakeProcess


def _result(recipient: str, kind: str, retry_after: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"recipientAddress": {"uuid": None, "number": recipient}, "type": kind}
    if retry_after is not None:
        result["token"] = "challenge-token"
        result["retryAfterSeconds"] = int(float(retry_after))
    return result


def answer(rule: Rule, request_id: Any, recipient: str) -> Response:
    if rule.mode in ("ok", "slow"):
        reply = {
            "jsonrpc": "2.0",
            "id": request_id,
            "result": {"timestamp": int(time.time() * 1000), "results": [_result(recipient, "SUCCESS")]},
        }
        response = json_response(200, reply)
        response.delay = rule.delay_ms / 1000 if rule.mode == "slow" else 0.0
        return response
    if rule.mode == "429":
        return json_response(429, {}, [("Retry-After", rule.retry_after)] if rule.retry_after else [])
    if rule.mode in ("500", "503"):
        return json_response(int(rule.mode), {})
    if rule.mode == "timeout":
        return Response(action="hang")
    if rule.mode == "drop":
        return Response(action="drop")
    if rule.code == "unregistered_result":
        reply = {
            "jsonrpc": "2.0",
            "id": request_id,
            "result": {"timestamp": 1, "results": [_result(recipient, "UNREGISTERED_FAILURE")]},
        }
        return json_response(200, reply)
    if rule.code == "rate_limit":
        error = {
            "code": -5,
            "message": "Failed to send message due to rate limiting",
            "data": {
                "response": {
                    "timestamp": 1,
                    "results": [_result(recipient, "RATE_LIMIT_FAILURE", rule.retry_after or "60")],
                }
            },
        }
        return json_response(200, {"jsonrpc": "2.0", "id": request_id, "error": error})
    error = {
        "code": -1,
        "message": f"The user {recipient} is not registered.",
        "data": {"response": {"timestamp": 1, "results": [_result(recipient, "UNREGISTERED_FAILURE")]}},
    }
    return json_response(200, {"jsonrpc": "2.0", "id": request_id, "error": error})


def build(args: argparse.Namespace) -> FakeServer:
    script = Script()

    async def rpc(request: Request) -> Response:
        if request.method != "POST" or request.path != "/api/v1/rpc":
            return json_response(404, {})
        try:
            call = request.json()
        except ValueError:
            return json_response(
                200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
            )
        params = call.get("params") or {}
        recipients = params.get("recipient") or []
        recipient = str(recipients[0] if isinstance(recipients, list) and recipients else recipients)
        if call.get("method") != "send":
            return json_response(
                200,
                {
                    "jsonrpc": "2.0",
                    "id": call.get("id"),
                    "error": {"code": -32601, "message": "Method not implemented"},
                },
            )
        if params.get("account") != args.account:
            error = {"code": -32602, "message": "Specified account does not exist"}
            return json_response(200, {"jsonrpc": "2.0", "id": call.get("id"), "error": error})
        record: dict[str, Any] = {
            "at": time.time(),
            "to": recipient,
            "body": params.get("message", ""),
            "id": call.get("id"),
        }
        script.records.append(record)
        response = answer(script.rule_for(recipient), call.get("id"), recipient)
        record["status"] = response.action or response.status
        return response

    return FakeServer(rpc, script)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", default=ACCOUNT)


ACCOUNT = "+13125550199"


class FakeSignal(FakeProcess):
    module = "tests.fakes.signal_cli"

    def __init__(self, *, port: int | None = None, account: str = ACCOUNT) -> None:
        super().__init__(port=port, args=["--account", account])
        self.account = account

    def unregistered(self, numbers: list[str], *, old_style: bool = False) -> None:
        self.set_mode("error", numbers=numbers, code="unregistered_result" if old_style else "unregistered")

    def rate_limit(self, *, retry_after: int = 60, count: int | None = None) -> None:
        self.set_mode("error", code="rate_limit", retry_after=retry_after, count=count)


if __name__ == "__main__":
    main(build, add_arguments)
