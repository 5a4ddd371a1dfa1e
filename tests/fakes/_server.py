"""A small, fast HTTP/1.1 server for fake providers, scriptable over HTTP under /_fake/.

Each fake runs in its own process (`python -m tests.fakes.<name> --port N`), so the provider
never shares a GIL with the code under test. asyncio streams with keep-alive handle several
thousand requests per second on loopback, more than any sender under test pushes.

A script is a list of rules, newest first; the first active rule that matches the request's
destination decides the answer: ok | 429 | 500 | 503 | timeout (hang) | slow (delay, then
ok) | drop (close without answering) | error (a provider error, e.g. Twilio 400 code 21211).
A rule may last for its next `count` requests, for `seconds`, or forever, and may apply only
to some destinations (`numbers`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MODES = ("ok", "429", "500", "503", "timeout", "slow", "drop", "error")
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
MAX_BODY = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    # "hang": never answer (the client times out); "drop": close without an answer.
    action: str = ""
    delay: float = 0.0


def json_response(status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status=status, body=json.dumps(data).encode(), headers=headers or [])


@dataclass
class Rule:
    mode: str
    count: int | None = None
    until: float | None = None
    numbers: frozenset[str] | None = None
    retry_after: str | None = None
    delay_ms: int = 0
    status: int = 400
    code: Any = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        mode = str(data.get("mode", "ok"))
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode}")
        seconds = data.get("seconds")
        numbers = data.get("numbers")
        return cls(
            mode=mode,
            count=int(data["count"]) if data.get("count") is not None else None,
            until=time.monotonic() + float(seconds) if seconds is not None else None,
            numbers=frozenset(str(n) for n in numbers) if numbers is not None else None,
            retry_after=str(data["retry_after"]) if data.get("retry_after") is not None else None,
            delay_ms=int(data.get("delay_ms") or 0),
            status=int(data.get("status") or 400),
            code=data.get("code"),
        )

    def active(self, now: float) -> bool:
        return (self.count is None or self.count > 0) and (self.until is None or now < self.until)


class Script:
    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.records: list[dict[str, Any]] = []
        self.stats: dict[str, int] = {}

    def reset(self) -> None:
        self.rules.clear()
        self.records.clear()
        self.stats.clear()

    def count(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    def rule_for(self, destination: str) -> Rule:
        now = time.monotonic()
        self.rules = [rule for rule in self.rules if rule.active(now)]
        for rule in reversed(self.rules):
            if rule.numbers is None or destination in rule.numbers:
                if rule.count is not None:
                    rule.count -= 1
                return rule
        return Rule(mode="ok")


Handler = Callable[[Request], Awaitable[Response]]


class FakeServer:
    """Routes /_fake/ to the control API and everything else to the provider's handler."""

    def __init__(self, provider: Handler, script: Script, extra_control: dict[str, Handler] | None = None) -> None:
        self.provider = provider
        self.script = script
        self.extra_control = extra_control or {}

    async def control(self, request: Request) -> Response:
        name = request.path.removeprefix("/_fake/")
        if name == "health":
            return json_response(200, {"ok": True})
        if name == "reset" and request.method == "POST":
            self.script.reset()
            for reset in self.extra_control.values():
                await reset(Request("RESET", "", {}, {}, b""))
            return json_response(200, {"ok": True})
        if name == "rules" and request.method == "POST":
            try:
                self.script.rules.append(Rule.from_json(request.json()))
            except (ValueError, TypeError, KeyError) as error:
                return json_response(400, {"error": str(error)})
            return json_response(200, {"rules": len(self.script.rules)})
        if name == "requests":
            since = int(request.query.get("since", "0"))
            return json_response(200, self.script.records[since:])
        if name == "stats":
            return json_response(200, {"requests": len(self.script.records), **self.script.stats})
        if name in self.extra_control:
            return await self.extra_control[name](request)
        return json_response(404, {"error": "no such control"})

    async def handle(self, request: Request) -> Response:
        if request.path.startswith("/_fake/"):
            return await self.control(request)
        return await self.provider(request)

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                response = await self.handle(request)
                if response.delay:
                    await asyncio.sleep(response.delay)
                if response.action == "drop":
                    break
                if response.action == "hang":
                    while await reader.read(65536):
                        pass
                    break
                writer.write(encode(response))
                await writer.drain()
                if request.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise ValueError("headers too large") from None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
            if len(body) > MAX_BODY:
                raise ValueError("body too large")
    else:
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    return Request(method=method, path=parts.path, query=dict(parse_qsl(parts.query)), headers=headers, body=body)


def encode(response: Response) -> bytes:
    head = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Status')}"]
    head.append(f"Content-Type: {response.content_type}")
    head.append(f"Content-Length: {len(response.body)}")
    head.extend(f"{name}: {value}" for name, value in response.headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body


def main(
    build: Callable[[argparse.Namespace], FakeServer], add_arguments: Callable[[argparse.ArgumentParser], None]
) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    add_arguments(parser)
    args = parser.parse_args()
    server = build(args)

    parent = os.getppid()

    async def orphaned() -> None:
        # A test run that crashed (or was killed) cannot stop us: leave with our parent.
        while os.getppid() == parent:
            await asyncio.sleep(1)

    async def run() -> None:
        listener = await asyncio.start_server(server.connection, args.host, args.port, backlog=1024, limit=65536)
        async with listener:
            watch = asyncio.create_task(orphaned())
            serving = asyncio.create_task(listener.serve_forever())
            await asyncio.wait([watch, serving], return_when=asyncio.FIRST_COMPLETED)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
