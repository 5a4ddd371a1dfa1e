"""Family plans by text message: the guided plan (PLAN / MIPLAN) and the panic keyword
(DETAINED / DETENIDO <code>).

The guided plan is a step machine kept in `PlanConversation` (answers as sealed JSON, expiring
after 30 minutes of silence). An interceptor takes every message from a phone with an open
conversation, so "2", "YES" or "SKIP" answer the plan's question, not another keyword.
CANCELAR (or CANCEL, which intake treats as STOP: `sms_opted_out`) forgets the answers.

Everything runs inside the SMS webhook's transaction: only non-durable `store_*` functions
are called here. Replies carry no personal data (the plan code at the end is the member's own
secret, sent to the member's own phone) and fit one GSM-7 segment in English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext, gettext_noop, override

from vigil.core import retention
from vigil.core.fields import LockedValue
from vigil.core.phones import InvalidPhone, normalize_phone
from vigil.families import panic, plans
from vigil.families.models import PlanConversation
from vigil.intake import signals, sms

PLAN_INTENT = "families.plan"
PANIC_INTENT = "families.panic"
PLAN_WORDS = {"PLAN": "en", "MIPLAN": "es"}
PANIC_WORDS = {"DETAINED": "en", "DETENIDO": "es"}
CONVERSATION_TTL = timedelta(minutes=30)
MAX_SMS_CONTACTS = 3
# Words (folded) that end a plan conversation. CANCEL is intake's opt-out word (STOP).
CANCEL_WORDS = frozenset(["cancelar", "cancel", "cancela"])
_YES = frozenset(["yes", "y", "si", "s", "ok"])
_NO = frozenset(["no", "n", "done", "listo", "ya"])
_NONE = frozenset(["none", "nothing", "ninguno", "ninguna", "nada", "no tengo", "no hay"])

ASK_ZIP = gettext_noop("Family plan: what is your 5-digit ZIP code? Reply CANCELAR at any time to stop.")
ASK_CONTACT = gettext_noop("Emergency contact: reply with their name and phone number, for example: Maria 312 555 0101")
BAD_CONTACT = gettext_noop("We need a name and a phone number, for example: Maria 312 555 0101")
ASK_LANGUAGE = gettext_noop("Which language does this contact read? Reply 1 for English or 2 for Español.")
ASK_MESSAGE = gettext_noop(
    "What should we text this contact if you are detained? Reply with your message (max 300 characters), "
    "or SKIP for a standard one."
)
BAD_MESSAGE = gettext_noop("That message is too long. Please use at most 300 characters, or reply SKIP.")
ASK_MORE = gettext_noop("Add another emergency contact? Reply YES or NO.")
ASK_CHILDREN = gettext_noop("Who picks up your children, and from which school? Reply SKIP if this does not apply.")
ASK_DOCUMENTS = gettext_noop("Where are your important documents kept? Reply SKIP to skip.")
ASK_ATTORNEY = gettext_noop("Do you have an attorney? Reply with their name and phone, or SKIP.")
ASK_MEDICAL = gettext_noop("Any medical needs or medicines the legal team should know about? Reply SKIP if none.")
ASK_PIN = gettext_noop("Last step: choose a PIN of 4 to 8 digits. You need it to change your plan on the web.")
BAD_PIN = gettext_noop("The PIN must be 4 to 8 digits, for example 2580. Please choose a PIN.")
BAD_ZIP = gettext_noop("Please reply with your 5-digit ZIP code, for example 60608.")
BAD_YES_NO = gettext_noop("Please reply YES to add another contact or NO to go on.")
TOO_LONG = gettext_noop("That answer is too long. Please keep it under 300 characters, or reply SKIP.")
DONE = gettext_noop(
    "Your plan code is %(code)s. If you are detained, you or a trusted contact text DETAINED %(code)s. Keep it secret."
)
CANCELLED = gettext_noop("Your family plan was cancelled and your answers were deleted.")
FAILED = gettext_noop("Sorry, we could not save your plan. Please try again later or make it on our website.")
REPLIES = (
    ASK_ZIP,
    ASK_CONTACT,
    BAD_CONTACT,
    ASK_LANGUAGE,
    ASK_MESSAGE,
    BAD_MESSAGE,
    ASK_MORE,
    ASK_CHILDREN,
    ASK_DOCUMENTS,
    ASK_ATTORNEY,
    ASK_MEDICAL,
    ASK_PIN,
    BAD_PIN,
    BAD_ZIP,
    BAD_YES_NO,
    TOO_LONG,
    DONE,
    CANCELLED,
    FAILED,
)

# A phone number at the end of "Maria 312 555 0101" / "Maria +1 (312) 555-0101".
_CONTACT = re.compile(r"^(?P<name>.*?)[\s,:;-]*(?P<phone>\+?[\d(][\d\s().-]{6,}\d)\W*$", re.DOTALL)

# --- Conversation state -----------------------------------------------------------------


def _answers(conversation: PlanConversation) -> dict[str, Any]:
    raw = conversation.answers
    if not raw or isinstance(raw, LockedValue):
        return {"contacts": []}
    loaded = json.loads(str(raw))
    return loaded if isinstance(loaded, dict) else {"contacts": []}


def _save(
    conversation: PlanConversation, step: str, answers: dict[str, Any], context: sms.SmsContext
) -> PlanConversation:
    conversation.step = step
    conversation.answers = json.dumps(answers)
    conversation.expires_at = context.now + CONVERSATION_TTL
    conversation.save()
    return conversation


def _say(message: str, **values: str) -> str:
    text = gettext(message)
    return text % values if values else text


def _free_text(context: sms.SmsContext) -> str | None:
    """The answer, "" for SKIP, None if too long."""
    text = context.text.strip()
    if sms.is_skip(text) or " ".join(sms.words(text)) in _NONE:
        return ""
    return text if len(text) <= plans.LONG else None


# --- Steps ------------------------------------------------------------------------------

Step = Callable[[PlanConversation, dict[str, Any], sms.SmsContext], str]


def _step_zip(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    zip_code = sms.bare_zip(context.text) or sms.extract_zip(context.text)
    if not zip_code:
        return _say(BAD_ZIP)
    answers["zip"] = zip_code
    _save(conversation, "contact", answers, context)
    return _say(ASK_CONTACT)


def _step_contact(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    found = _CONTACT.match(context.text.strip())
    if found is None:
        return _say(BAD_CONTACT)
    name = found.group("name").strip(" ,:;-")
    try:
        phone = normalize_phone(found.group("phone"))
    except InvalidPhone:
        return _say(BAD_CONTACT)
    if not name or len(name) > plans.SHORT:
        return _say(BAD_CONTACT)
    answers["contacts"].append({"name": name, "phone": phone, "language": conversation.language, "message": ""})
    _save(conversation, "contact_language", answers, context)
    return _say(ASK_LANGUAGE)


def _step_contact_language(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    tokens = sms.words(context.text)
    choice = {"1": "en", "2": "es"}.get(tokens[0]) if len(tokens) == 1 else None
    choice = choice or sms.language_choice(context.text)
    if choice is None:
        return _say(ASK_LANGUAGE)
    answers["contacts"][-1]["language"] = choice
    _save(conversation, "contact_message", answers, context)
    return _say(ASK_MESSAGE)


def _step_contact_message(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    text = context.text.strip()
    if sms.is_skip(text):
        text = ""
    elif len(text) > plans.MESSAGE:
        return _say(BAD_MESSAGE)
    answers["contacts"][-1]["message"] = text
    if len(answers["contacts"]) >= MAX_SMS_CONTACTS:
        _save(conversation, "children", answers, context)
        return _say(ASK_CHILDREN)
    _save(conversation, "more", answers, context)
    return _say(ASK_MORE)


def _step_more(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    answer = " ".join(sms.words(context.text))
    if answer in _YES:
        _save(conversation, "contact", answers, context)
        return _say(ASK_CONTACT)
    if answer in _NO:
        _save(conversation, "children", answers, context)
        return _say(ASK_CHILDREN)
    return _say(BAD_YES_NO)


def _free_step(key: str, next_step: str, next_question: str) -> Step:
    def step(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
        text = _free_text(context)
        if text is None:
            return _say(TOO_LONG)
        answers[key] = text
        _save(conversation, next_step, answers, context)
        return _say(next_question)

    return step


def _step_pin(conversation: PlanConversation, answers: dict[str, Any], context: sms.SmsContext) -> str:
    pin = context.text.strip()
    if not plans.valid_pin(pin):
        return _say(BAD_PIN)
    data = plans.PlanInput(
        contacts=[
            plans.ContactInput(name=c["name"], phone=c["phone"], language=c["language"], message=c["message"])
            for c in answers.get("contacts", [])
        ],
        phone=context.phone,
        zip_code=answers.get("zip", ""),
        children_pickup=answers.get("children", ""),
        documents=answers.get("documents", ""),
        attorney=answers.get("attorney", ""),
        medical=answers.get("medical", ""),
        language=conversation.language,
    )
    try:
        _plan, code, _pin = plans.store_plan(data, now=context.now, pin=pin)
    except plans.PlanError:
        conversation.delete()
        return _say(FAILED)
    conversation.delete()
    return _say(DONE, code=code)


STEPS: dict[str, Step] = {
    "zip": _step_zip,
    "contact": _step_contact,
    "contact_language": _step_contact_language,
    "contact_message": _step_contact_message,
    "more": _step_more,
    "children": _free_step("children", "documents", ASK_DOCUMENTS),
    "documents": _free_step("documents", "attorney", ASK_ATTORNEY),
    "attorney": _free_step("attorney", "medical", ASK_MEDICAL),
    "medical": _free_step("medical", "pin", ASK_PIN),
    "pin": _step_pin,
}


# --- Handlers ---------------------------------------------------------------------------


def handle_plan(context: sms.SmsContext) -> str | None:
    """PLAN / MIPLAN [ZIP]: start (or restart) a guided plan in the keyword's language. Other
    words after PLAN are not a plan request: intake handles them as usual."""
    argument = context.argument.strip()
    zip_code = sms.bare_zip(argument) if argument else ""
    if argument and not zip_code:
        from vigil.intake.webhooks import handle_text

        return handle_text(context)
    PlanConversation.objects.filter(phone_index=context.phone_index).delete()
    conversation = PlanConversation(phone_index=context.phone_index, language=context.language)
    if zip_code:
        _save(conversation, "contact", {"contacts": [], "zip": zip_code}, context)
        return _say(ASK_CONTACT)
    _save(conversation, "zip", {"contacts": []}, context)
    return _say(ASK_ZIP)


def intercept_plan(context: sms.SmsContext) -> sms.Handled | None:
    """The next answer of an open guided plan from this phone, else None."""
    conversation = PlanConversation.objects.filter(phone_index=context.phone_index).first()
    if conversation is None:
        return None
    if conversation.expires_at <= context.now:
        conversation.delete()
        return None
    command = sms.keywords.match(context.text)
    if command is not None and command.keyword.intent in (PLAN_INTENT, PANIC_INTENT, "language"):
        return None  # a panic, a restart or a language choice is never taken as an answer
    with override(conversation.language):
        if " ".join(sms.words(context.text)) in CANCEL_WORDS:
            conversation.delete()
            return sms.Handled(_say(CANCELLED))
        step = STEPS.get(conversation.step)
        if step is None:
            conversation.delete()
            return None
        return sms.Handled(step(conversation, _answers(conversation), context))


def handle_panic(context: sms.SmsContext) -> str | None:
    """DETAINED / DETENIDO <code>. Words that are not a code ("detenido en la 18") are a
    report of what someone saw: they go to intake's usual handling."""
    argument = context.argument.strip()
    if not argument:
        return _say(panic.USAGE)
    if not re.fullmatch(r"[\d\s.#-]+", argument):
        from vigil.intake.webhooks import handle_text

        return handle_text(context)
    received = _say(panic.RECEIVED)
    limit = settings.PLAN_ATTEMPTS_PER_HOUR
    if plans.attempts_spent(context.phone, purpose="plan-code", limit=limit):
        return received
    plan = plans.plan_for_code(argument)
    if plan is None:
        plans.count_failure(context.phone, purpose="plan-code")
        return received
    via = panic.via_for_phone(plan, context.phone_index)
    panic.store_panic(plan, via, context.now, panic.SMS_ACTOR)
    return received


def on_opted_out(sender: Any, phone_index: str = "", **kwargs: Any) -> None:
    PlanConversation.objects.filter(phone_index=phone_index).delete()


def on_language_chosen(sender: Any, phone_index: str = "", language: str = "", **kwargs: Any) -> None:
    if language in sms.LANGUAGES:
        PlanConversation.objects.filter(phone_index=phone_index).update(language=language)


def expired_conversations(now: Any) -> Any:
    return PlanConversation.objects.filter(expires_at__lte=now)


def register() -> None:
    sms.keywords.register(PLAN_INTENT, PLAN_WORDS, handle_plan, takes_argument=True)
    sms.keywords.register(PANIC_INTENT, PANIC_WORDS, handle_panic, takes_argument=True)
    sms.interceptors.register(PLAN_INTENT, intercept_plan)
    signals.sms_opted_out.connect(on_opted_out, dispatch_uid="vigil.families.plan_stop")
    signals.sms_language_chosen.connect(on_language_chosen, dispatch_uid="vigil.families.plan_language")
    retention.purge_step("families.planconversation")(expired_conversations)
