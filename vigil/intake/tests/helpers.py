"""Helpers for the intake tests: solving the proof of work the way report.js does."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from vigil.intake import pow

TOKEN = re.compile(r'name="pow_token" value="([^"]+)"')


def solve(token: str, bits: int | None = None) -> str:
    bits = pow.bits_of(token) if bits is None else bits
    counter = 0
    while not pow.is_solution(token, str(counter), bits):
        counter += 1
    return str(counter)


def token_from(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the form carries no proof-of-work token"
    return found.group(1)


def solved_fields(token: str | None = None) -> dict[str, str]:
    token = token or pow.issue_token()
    return {"pow_token": token, "pow_answer": solve(token)}


def report_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": "checkpoint",
        "address": "18th St and Blue Island Ave",
        "zip_code": "60608",
        "agents_count": "6",
        "vehicles_count": "3",
        "agency": "ice",
        "details": "Agents stopping cars at the corner",
        "contact_phone": "",
        **solved_fields(),
    }
    fields.update(overrides)
    return fields


def send_report(client: Client, *, headers: Any = None, **overrides: Any) -> Any:
    return client.post("/report/", report_fields(**overrides), headers=headers)
