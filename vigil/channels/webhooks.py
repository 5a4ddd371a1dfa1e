"""Twilio's StatusCallback: the carrier's verdict on a message Twilio accepted from us.

Checked exactly like inbound SMS (vigil.intake.webhooks.twilio_sms): size, signature (403,
nothing stored), fields (400), then the ledger. The form carries the recipient's number in
`To`: it is never read, logged or stored.
"""

from __future__ import annotations

import logging
import re

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vigil.channels.ledger import record_status_callback
from vigil.intake.webhooks import refuse_unsigned

log = logging.getLogger("vigil.channels.webhooks")

_SID = re.compile(r"[A-Za-z0-9]{1,64}")
_STATUS = re.compile(r"[a-z_]{1,20}")
_ERROR_CODE = re.compile(r"[0-9]{1,10}")


def _answer(status: int, message: str = "") -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    refused = refuse_unsigned(request, "status callback")
    if refused is not None:
        return refused
    fields = request.POST
    sid = fields.get("MessageSid", "")
    status = fields.get("MessageStatus", "")
    error_code = fields.get("ErrorCode", "")
    if not _SID.fullmatch(sid):
        return _answer(400, "Invalid MessageSid.")
    if not _STATUS.fullmatch(status):
        return _answer(400, "Invalid MessageStatus.")
    if error_code and not _ERROR_CODE.fullmatch(error_code):
        return _answer(400, "Invalid ErrorCode.")
    # An unknown sid (another system's message, or one we have not recorded yet) is not an
    # error Twilio could fix by retrying: answer 204 either way.
    record_status_callback(sid, status, error_code, timezone.now())
    return _answer(204)
