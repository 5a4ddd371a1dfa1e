"""RSVP by text: "RSVP 12 YES" / "ASISTIRE 12 SI", registered with intake's keyword registry.

Answers: YES/Y/SI/OK/GOING, NO/N, MAYBE/TALVEZ/QUIZAS (any case, accents and a stray typo
such as "yess" or "sii" ignored). Only an approved responder texting from their own number
can answer; anyone else, and an unknown or another chapter's event number, get the same
short reply, so a text reveals neither who is on the roster nor which events exist.

Runs inside the inbound webhook's transaction: the write is actions.rsvp_in_transaction.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from vigil.intake import sms
from vigil.organizing import actions
from vigil.organizing.models import Event, RsvpAnswer
from vigil.responders import oncall

INTENT = "rsvp"
WORDS: dict[str, str | None] = {"RSVP": None, "ASISTIRE": "es"}

USAGE = gettext_noop("To answer, text RSVP, the event number and YES, NO or MAYBE. Example: RSVP 12 YES")
NOT_FOUND = gettext_noop("%(network)s: no event with that number for you. Check the number, or ask your organizer.")
GOING = gettext_noop("%(network)s: thanks, you are going to #%(number)s. Reply RSVP %(number)s NO if that changes.")
NOT_GOING = gettext_noop("%(network)s: thanks, you are not going to #%(number)s.")
MAYBE = gettext_noop("%(network)s: thanks, maybe for #%(number)s. Reply RSVP %(number)s YES or NO when you know.")
CLOSED = gettext_noop("%(network)s: #%(number)s has already started or was cancelled.")
REPLIES = (USAGE, NOT_FOUND, GOING, NOT_GOING, MAYBE, CLOSED)

_ANSWERS = {
    RsvpAnswer.YES: ("yes", "y", "si", "ok", "going", "voy", "yep", "yeah", "sip"),
    RsvpAnswer.NO: ("no", "n", "nop", "nope"),
    RsvpAnswer.MAYBE: ("maybe", "talvez", "tal", "quizas", "quiza", "mb", "puede"),
}
_WORD_ANSWER = {word: answer for answer, options in _ANSWERS.items() for word in options}
_NUMBER = re.compile(r"#?\s*(\d{1,9})")


def _squeeze(word: str) -> str:
    """ "yesss" -> "yes", "siii" -> "si", "mayybe" -> "maybe": repeated letters are typos here."""
    return re.sub(r"(.)\1+", r"\1", word)


def parse_answer(text: str) -> str | None:
    tokens = sms.words(text)
    if not tokens:
        return None
    joined = "".join(tokens)
    for candidate in (joined, _squeeze(joined), tokens[0], _squeeze(tokens[0])):
        if candidate in _WORD_ANSWER:
            return _WORD_ANSWER[candidate]
    return None


def parse(argument: str) -> tuple[int, str] | None:
    """ "12 YES", "#12 si", "12: tal vez" -> (12, answer); None if it is not that."""
    found = _NUMBER.match(argument.strip())
    if found is None:
        return None
    answer = parse_answer(argument[found.end() :])
    if answer is None:
        return None
    return int(found.group(1)), answer


def _reply(template: str, number: int) -> str:
    return gettext(template) % {"network": settings.NETWORK_NAME, "number": number}


def handle_rsvp(context: sms.SmsContext) -> str | None:
    parsed = parse(context.argument)
    if parsed is None:
        return gettext(USAGE)
    number, answer = parsed
    responder = oncall.responder_for_phone_index(context.phone_index)
    event = Event.objects.filter(number=number).first() if responder is not None else None
    if responder is None or event is None or event.chapter_id != responder.chapter_id:
        return _reply(NOT_FOUND, number)
    # A volunteer is answered in their own language, whatever the words they typed.
    with translation.override(responder.language if responder.language in sms.LANGUAGES else context.language):
        try:
            with transaction.atomic():
                actions.rsvp_in_transaction(responder, event, answer, "sms", now=context.now)
        except (actions.EventCancelled, actions.EventStarted):
            return _reply(CLOSED, number)
        except actions.NotOnRoster:
            return _reply(NOT_FOUND, number)
        replies: dict[str, str] = {RsvpAnswer.YES: GOING, RsvpAnswer.NO: NOT_GOING}
        return _reply(replies.get(answer, MAYBE), number)


def register() -> None:
    sms.keywords.register(INTENT, WORDS, handle_rsvp, takes_argument=True)
