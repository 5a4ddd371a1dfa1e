"""A fake Twilio: the Messages API and its status callbacks, on 127.0.0.1, in its own process.

    python -m tests.fakes.twilio --port 8765 [--account-sid AC...] [--auth-token TOKEN]

POST /2010-04-01/Accounts/{AccountSid}/Messages.json (basic auth AccountSid:AuthToken, form
To, Body, From or MessagingServiceSid, StatusCallback) answers 201 with a message resource
("SM" + 32 hex, status "queued"), or what the script says. Errors are Twilio's JSON
{code, message, more_info, status}. With callbacks on, each accepted message is followed by
a POST to its StatusCallback (MessageSid, MessageStatus, ErrorCode), signed with
X-Twilio-Signature like Twilio's, after an optional delay.

Tests use `FakeTwilio` (a context manager) or the `fake_twilio` fixture (tests/fakes/fixtures.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
import uuid
from typing import Any

from tests.fakes._server import FakeServer, Request, Response, Rule, Script, json_response, main
from tests.fakes.client import FakeProcess
from tests.twilio import twilio_signature

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "test-twilio-token"  # the test suite's token (vigil/settings_test.py)
FROM_NUMBER = "+13125550100"

ERRORS: dict[int, str] = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
}


def twilio_error(status: int, code: int, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(
        status,
        {
            "code": code,
            "message": ERRORS.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        headers,
    )


class Callbacks:
    """Status callbacks: off by default; a status per destination number may override."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.enabled = False
        self.status = "delivered"
        self.error_code: str = ""
        self.delay = 0.0
        self.per_number: dict[str, tuple[str, str]] = {}
        self.client: Any = None
        self.tasks: set[asyncio.Task[None]] = set()

    def configure(self, data: dict[str, Any]) -> None:
        self.enabled = bool(data.get("enabled", True))
        self.status = str(data.get("status") or "delivered")
        self.error_code = str(data.get("error_code") or "")
        self.delay = float(data.get("delay_ms") or 0) / 1000
        self.per_number = {
            str(number): (str(value[0]), str(value[1] if len(value) > 1 and value[1] is not None else ""))
            for number, value in (data.get("per_number") or {}).items()
        }

    def reset(self) -> None:
        self.configure({"enabled": False})

    def schedule(self, script: Script, url: str, fields: dict[str, str]) -> None:
        if not self.enabled or not url:
            return
        status, code = self.per_number.get(fields["To"], (self.status, self.error_code))
        task = asyncio.get_running_loop().create_task(self._send(script, url, fields, status, code))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, script: Script, url: str, message: dict[str, str], status: str, code: str) -> None:
        import httpx

        if self.delay:
            await asyncio.sleep(self.delay)
        params = {
            "AccountSid": message["AccountSid"],
            "ApiVersion": "2010-04-01",
            "From": message["From"],
            "MessageSid": message["MessageSid"],
            "MessageStatus": status,
            "SmsSid": message["MessageSid"],
            "SmsStatus": status,
            "To": message["To"],
        }
        if status in ("failed", "undelivered"):
            params["ErrorCode"] = code or "30003"
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=20))
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params)}
        try:
            response = await self.client.post(url, data=params, headers=headers)
            script.count("callbacks_sent")
            script.count(f"callbacks_{response.status_code}")
        except httpx.HTTPError:
            script.count("callbacks_failed")


def build(args: argparse.Namespace) -> FakeServer:
    script = Script()
    callbacks = Callbacks(args.auth_token)
    account_path = f"/2010-04-01/Accounts/{args.account_sid}/Messages.json"
    expected_auth = "Basic " + base64.b64encode(f"{args.account_sid}:{args.auth_token}".encode()).decode()

    async def messages(request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/2010-04-01/Accounts/"):
            return twilio_error(404, 20404)
        if request.headers.get("authorization") != expected_auth or request.path != account_path:
            script.count("unauthorized")
            return twilio_error(401, 20003)
        form = request.form()
        to = form.get("To", "")
        record: dict[str, Any] = {
            "at": time.time(),
            "to": to,
            "body": form.get("Body", ""),
            "from": form.get("From", ""),
            "messaging_service_sid": form.get("MessagingServiceSid", ""),
            "status_callback": form.get("StatusCallback", ""),
            "idempotency_key": request.headers.get("idempotency-key", ""),
            "twilio_idempotency_token": request.headers.get("i-twilio-idempotency-token", ""),
        }
        script.records.append(record)
        rule = script.rule_for(to)
        response, sid = answer(rule, form, args.account_sid)
        record["status"] = response.action or response.status
        if sid:
            script.count("accepted")
            record["sid"] = sid
            callbacks.schedule(
                script,
                record["status_callback"],
                {
                    "To": to,
                    "From": record["from"] or "+15005550006",
                    "MessageSid": record["sid"],
                    "AccountSid": args.account_sid,
                },
            )
        return response

    async def configure_callbacks(request: Request) -> Response:
        if request.method == "RESET":
            callbacks.reset()
        else:
            callbacks.configure(request.json())
        return json_response(200, {"ok": True})

    return FakeServer(messages, script, {"callbacks": configure_callbacks})


def answer(rule: Rule, form: dict[str, str], account_sid: str) -> tuple[Response, str]:
    """The answer to one send, and the new message's sid when it is accepted."""
    if rule.mode in ("ok", "slow"):
        sid = "SM" + uuid.uuid4().hex
        body = {
            "sid": sid,
            "account_sid": account_sid,
            "status": "queued",
            "to": form.get("To", ""),
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "body": form.get("Body", ""),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        }
        response = json_response(201, body)
        response.delay = rule.delay_ms / 1000 if rule.mode == "slow" else 0.0
        return response, sid
    if rule.mode == "429":
        return twilio_error(429, 20429, [("Retry-After", rule.retry_after)] if rule.retry_after else []), ""
    if rule.mode in ("500", "503"):
        return twilio_error(int(rule.mode), 20500 if rule.mode == "500" else 20503), ""
    if rule.mode == "timeout":
        return Response(action="hang"), ""
    if rule.mode == "drop":
        return Response(action="drop"), ""
    return twilio_error(rule.status, int(rule.code or 21211)), ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account-sid", default=ACCOUNT_SID)
    parser.add_argument("--auth-token", default=AUTH_TOKEN)


class FakeTwilio(FakeProcess):
    """A running fake Twilio: `with FakeTwilio() as twilio: twilio.set_mode("503", count=3)`."""

    module = "tests.fakes.twilio"

    def __init__(self, *, port: int | None = None, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        super().__init__(port=port, args=["--account-sid", account_sid, "--auth-token", auth_token])
        self.account_sid = account_sid
        self.auth_token = auth_token

    def fail_numbers(self, numbers: list[str], code: int = 21211, status: int = 400) -> None:
        """These destinations answer a Twilio error (21211 invalid number by default)."""
        self.set_mode("error", numbers=numbers, code=code, status=status)

    def callbacks(
        self,
        *,
        enabled: bool = True,
        status: str = "delivered",
        error_code: str | int | None = None,
        delay_ms: int = 0,
        per_number: dict[str, tuple[str, str | int | None]] | None = None,
    ) -> None:
        """Send a status callback after each accepted message (per_number: {To: (status, code)})."""
        self._call(
            "POST",
            "callbacks",
            {
                "enabled": enabled,
                "status": status,
                "error_code": error_code,
                "delay_ms": delay_ms,
                "per_number": {k: list(v) for k, v in (per_number or {}).items()},
            },
        )


if __name__ == "__main__":
    main(build, add_arguments)
