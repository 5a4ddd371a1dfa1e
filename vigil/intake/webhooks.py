"""Inbound SMS from Twilio: a neighbour texts what they see, often from a flip phone.

Order of checks: size, signature (403, nothing stored), fields (400, nothing stored), then one
transaction that records the MessageSid (exactly once), counts the sender's rate, runs the
keyword handler or the guided report flow, and returns TwiML. Phone numbers and message
bodies are never logged and never echoed back.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vigil.core import ratelimit
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.intake import signals, sms
from vigil.intake.actions import ReportInput, store_report, store_report_place
from vigil.intake.models import Channel, ConversationState, InboundMessage, Report, SmsConversation
from vigil.intake.twilio_signature import is_valid_signature

log = logging.getLogger("vigil.intake.sms")

# Twilio concatenates at most 10 segments: 1,600 characters.
MAX_BODY_CHARS = 1600
# A real Twilio form post is a few kilobytes; refuse anything far bigger before reading it.
MAX_REQUEST_BYTES = 64 * 1024
CONVERSATION_TTL = timedelta(minutes=30)
_SID = re.compile(r"[A-Za-z0-9]{1,64}")

ASK_WHAT = gettext_noop("What did you see, and where? Reply with details and the ZIP code or cross streets.")
ASK_PLACE = gettext_noop("Got it. Where is this happening? Reply with the ZIP code or cross streets, or SKIP to skip.")
THANKS = gettext_noop(
    "Thank you. A trained volunteer will verify this before any alert goes out. Stay safe and keep your distance."
)
HELP = gettext_noop(
    "%(network)s: to report immigration enforcement, text what you see and where (ZIP or corner). "
    "JOIN + ZIP: alerts. PLAN: family plan. LANG ES: Spanish. STOP: stop."
)
LANGUAGE_SET = gettext_noop("OK. We will reply in this language.")
LANGUAGE_USAGE = gettext_noop("Reply LANG EN for English or LANG ES for Spanish.")
REPLIES = (ASK_WHAT, ASK_PLACE, THANKS, HELP, LANGUAGE_SET, LANGUAGE_USAGE)


@dataclass(frozen=True)
class InboundSms:
    sid: str
    phone: str
    body: str


class BadInbound(ValueError):
    """A message we refuse with 400; the text is safe to show (it never quotes the input)."""


def clean_inbound(fields: QueryDict) -> InboundSms:
    for name in ("MessageSid", "From", "Body"):
        if name not in fields:
            raise BadInbound(f"Missing {name}.")
    if any("\x00" in value for _, values in fields.lists() for value in values):
        raise BadInbound("NUL bytes are not allowed.")
    sid, sender, body = (str(fields[name]) for name in ("MessageSid", "From", "Body"))
    if not _SID.fullmatch(sid):
        raise BadInbound("Invalid MessageSid.")
    if len(body) > MAX_BODY_CHARS:
        raise BadInbound("Body is too long.")
    if len(sender) > 32:
        raise BadInbound("Invalid From.")
    try:
        phone = normalize_phone(sender)
    except InvalidPhone:
        raise BadInbound("Invalid From.") from None
    return InboundSms(sid=sid, phone=phone, body=body)


def twiml(reply: str | None) -> HttpResponse:
    if reply:
        body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'
    else:
        body = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _refuse(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def signed_url(request: HttpRequest) -> str:
    query = request.META.get("QUERY_STRING", "")
    return settings.PUBLIC_URL + request.path + (f"?{query}" if query else "")


def refuse_unsigned(request: HttpRequest, hook: str) -> HttpResponse | None:
    """The 400 or 403 for a Twilio webhook too large or not signed with our auth token (size is
    checked before the body is read); None when the request may be processed."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_REQUEST_BYTES + 1
    if length > MAX_REQUEST_BYTES:
        return _refuse(400, "Request too large.")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not is_valid_signature(settings.TWILIO_AUTH_TOKEN, signed_url(request), request.POST.lists(), signature):
        log.warning("%s: refused a request without a valid Twilio signature", hook)
        return _refuse(403, "Invalid signature.")
    return None


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    refused = refuse_unsigned(request, "sms webhook")
    if refused is not None:
        return refused
    fields = request.POST
    try:
        inbound = clean_inbound(fields)
    except BadInbound as error:
        return _refuse(400, str(error))
    return twiml(receive_sms(inbound))


# --- Processing -------------------------------------------------------------------------


class _AlreadySeen(Exception):
    pass


def receive_sms(inbound: InboundSms) -> str | None:
    """Process one message exactly once; the reply text, or None for an empty TwiML."""
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            try:
                with transaction.atomic():
                    InboundMessage.objects.create(provider_id=inbound.sid, received_at=now)
            except IntegrityError:
                raise _AlreadySeen from None
            return _process(inbound, now)
    except _AlreadySeen:
        return None


def _process(inbound: InboundSms, now: datetime) -> str | None:
    command = sms.keywords.match(inbound.body)
    within_rate = ratelimit.hit(
        inbound.phone, purpose="sms-in", limit=settings.SMS_RATE_PER_MINUTE, window=timedelta(minutes=1)
    )
    # STOP is honoured even in a flood: it only deletes, and it must always work.
    if not within_rate and not (command and command.keyword.intent == "stop"):
        log.debug("sms webhook: dropped a message over the per-number rate")
        return None
    SmsConversation.objects.filter(expires_at__lte=now).delete()
    index = phone_index(inbound.phone)
    conversation = SmsConversation.objects.select_related("report").filter(phone_index=index).first()
    language = sms.reply_language(
        inbound.body,
        keyword_language=command.keyword.language if command else None,
        conversation_language=conversation.language if conversation else None,
    )
    context = sms.SmsContext(
        phone=inbound.phone,
        phone_index=index,
        text=inbound.body,
        argument=command.argument if command else inbound.body.strip(),
        language=language,
        conversation=conversation,
        now=now,
    )
    with override(language):
        handled = None if command and command.keyword.intent == "stop" else sms.interceptors.first(context)
        if handled is not None:
            reply = handled.reply
        else:
            reply = (command.keyword.handler if command else handle_text)(context)
    if not reply:
        return None
    if not ratelimit.hit(
        inbound.phone, purpose="sms-reply", limit=settings.SMS_REPLIES_PER_HOUR, window=timedelta(hours=1)
    ):
        log.debug("sms webhook: reply withheld over the per-number reply cap")
        return None
    return reply


def _save_conversation(
    context: sms.SmsContext, state: str, *, report: Report | None = None, language: str = ""
) -> None:
    SmsConversation.objects.update_or_create(
        phone_index=context.phone_index,
        defaults={
            "state": state,
            "language": language or context.language,
            "report": report,
            "expires_at": context.now + CONVERSATION_TTL,
        },
    )


def _start_report(context: sms.SmsContext, details: str) -> str:
    zip_code = sms.extract_zip(details)
    report = store_report(
        ReportInput(
            channel=Channel.SMS,
            details=details,
            zip_code=zip_code,
            contact_phone=context.phone,
            source=context.phone,
            language=context.language,
        )
    )
    if zip_code:
        _save_conversation(context, ConversationState.DONE)
        return gettext(THANKS)
    _save_conversation(context, ConversationState.ASK_PLACE, report=report)
    return gettext(ASK_PLACE)


def _add_place(context: sms.SmsContext, report: Report) -> str:
    text = context.text.strip()
    if not sms.is_skip(text):
        zip_code = sms.extract_zip(text) or sms.bare_zip(text)
        address = "" if zip_code and zip_code == sms.bare_zip(text) else text
        store_report_place(report, zip_code=zip_code, address=address)
    _save_conversation(context, ConversationState.DONE)
    return gettext(THANKS)


def handle_text(context: sms.SmsContext) -> str | None:
    """A message that starts with no keyword: an answer in the guided flow, or a new report."""
    conversation = context.conversation
    text = context.text.strip()
    if conversation is not None and conversation.state == ConversationState.ASK_PLACE and conversation.report:
        return _add_place(context, conversation.report)
    if conversation is not None and conversation.state == ConversationState.ASK_WHAT and text:
        return _start_report(context, text)
    if sms.looks_like_report(text):
        return _start_report(context, text)
    return handle_help(context)


def handle_report(context: sms.SmsContext) -> str | None:
    if not context.argument:
        _save_conversation(context, ConversationState.ASK_WHAT)
        return gettext(ASK_WHAT)
    return _start_report(context, context.argument)


def handle_help(context: sms.SmsContext) -> str | None:
    return gettext(HELP) % {"network": settings.NETWORK_NAME}


def handle_stop(context: sms.SmsContext) -> str | None:
    # Twilio (or the carrier) answers the opt-out itself; we only forget the conversation.
    SmsConversation.objects.filter(phone_index=context.phone_index).delete()
    signals.sms_opted_out.send(sender=SmsConversation, phone_index=context.phone_index)
    return None


def handle_language(context: sms.SmsContext) -> str | None:
    choice = sms.language_choice(context.argument)
    if choice is None:
        return gettext(LANGUAGE_USAGE)
    signals.sms_language_chosen.send(sender=SmsConversation, phone_index=context.phone_index, language=choice)
    conversation = context.conversation
    if conversation is not None:
        conversation.language = choice
        conversation.expires_at = context.now + CONVERSATION_TTL
        conversation.save(update_fields=["language", "expires_at"])
    else:
        _save_conversation(context, ConversationState.DONE, language=choice)
    with override(choice):
        return gettext(LANGUAGE_SET)


sms.keywords.register("report", {"REPORT": "en", "REPORTE": "es", "REPORTAR": "es"}, handle_report, takes_argument=True)
sms.keywords.register("help", {"HELP": "en", "INFO": None, "AYUDA": "es"}, handle_help)
# Twilio's own opt-out words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) plus Spanish ones.
sms.keywords.register(
    "stop",
    {
        "STOP": "en",
        "STOPALL": "en",
        "UNSUBSCRIBE": "en",
        "CANCEL": "en",
        "END": "en",
        "QUIT": "en",
        "BAJA": "es",
        "PARAR": "es",
        "ALTO": "es",
    },
    handle_stop,
)
sms.keywords.register(
    "language", {"LANG": "en", "LANGUAGE": "en", "IDIOMA": "es"}, handle_language, takes_argument=True
)
