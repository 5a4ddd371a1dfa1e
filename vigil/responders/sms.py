"""Texts from volunteers: page replies, AVAILABLE / OFF, and field reports by text.

An intake interceptor (vigil.intake.sms.interceptors) that only looks at messages from the
phone of an approved responder; everyone else's text goes on to the keywords untouched. A page
reply ("1 15", "si 15", "acepto", "2", "no puedo", "3", "llegue") is only taken as one while the
responder has an open page (or, for on scene, an active assignment): otherwise "si" still
confirms an alert subscription (vigil.alerts.sms_keywords).

Replies go out in the responder's language. Writes run inside the webhook's transaction (the
one that records the provider's message id, for exactly-once), through the store_* variants.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone, translation

from vigil.intake import sms
from vigil.responders import availability, oncall, paging, texts
from vigil.responders.models import PageResponse, Responder

log = logging.getLogger("vigil.responders.sms")

ACCEPT = PageResponse.ACCEPTED
DECLINE = PageResponse.DECLINED
ON_SCENE = PageResponse.ON_SCENE

# Phrases (folded: lower case, no accents), longest first when matched.
_PHRASES: dict[str, tuple[str, ...]] = {
    ACCEPT: (
        "1",
        "si",
        "yes",
        "y",
        "ok",
        "okay",
        "oki",
        "acepto",
        "accept",
        "accepted",
        "aceptar",
        "acepta",
        "voy",
        "going",
        "on my way",
        "omw",
        "en camino",
        "claro",
        "sure",
        "si voy",
        "si claro",
        "claro que si",
        "ya voy",
        "alla voy",
        "alli voy",
        "i can",
        "i ll go",
        "ill go",
        "on it",
    ),
    DECLINE: (
        "2",
        "no",
        "nope",
        "decline",
        "declined",
        "no puedo",
        "nopuedo",
        "rechazo",
        "rechazar",
        "cant",
        "can t",
        "cannot",
        "can not",
        "busy",
        "ocupado",
        "ocupada",
        "no voy",
        "no no",
        "no no puedo",
        "no puedo ir",
        "lo siento no puedo",
        "i cant",
        "i can t",
        "i cannot",
        "cant make it",
        "can t make it",
        "cant go",
        "can t go",
        "sorry cant",
        "sorry can t",
    ),
    ON_SCENE: (
        "3",
        "on scene",
        "onscene",
        "on site",
        "en escena",
        "en el lugar",
        "en lugar",
        "llegue",
        "ya llegue",
        "here",
        "im here",
        "i m here",
        "aqui",
        "aqui estoy",
        "estoy aqui",
        "arrived",
        "alli",
    ),
}
# Words that may surround the minutes: "1 15 min", "si en 10 minutos", "ok eta 20".
_FILLER = frozenset(
    """min mins minute minutes minuto minutos m mn eta en in aprox approx about around llego
    arrive arriving please porfa gracias thanks thank you ok incident incidente caso page pagina
    numero number""".split()
)
# Accepted misspellings (folded) of the longer words.
_TYPOS: dict[str, str] = {
    "sii": "si",
    "sip": "si",
    "yess": "yes",
    "yea": "yes",
    "yeah": "yes",
    "yep": "yes",
    "yse": "yes",
    "ys": "yes",
    "okk": "ok",
    "oka": "ok",
    "acpeto": "acepto",
    "aceto": "acepto",
    "aepto": "acepto",
    "acpto": "acepto",
    "acceto": "acepto",
    "accepto": "acepto",
    "acccept": "accept",
    "acept": "accept",
    "accpet": "accept",
    "acecpt": "accept",
    "aceppt": "accept",
    "acep": "accept",
    "accep": "accept",
    "vooy": "voy",
    "boy": "voy",
    "goign": "going",
    "giong": "going",
    "declien": "decline",
    "decilne": "decline",
    "declne": "decline",
    "rechaso": "rechazo",
    "recahzo": "rechazo",
    "nopuedo": "no puedo",
    "onscen": "onscene",
    "onsene": "onscene",
    "lelgue": "llegue",
    "llege": "llegue",
    "yegue": "llegue",
    "llegeu": "llegue",
    "aki": "aqui",
    "aca": "aqui",
    "heer": "here",
    "hre": "here",
}
MAX_NUMBER_DIGITS = 9
_INCIDENT_MARK = re.compile(r"#\s*(\d{1,9})")
# Digits stuck to letters ("15min", "1-15min") are split before matching.
_SPLIT = re.compile(r"\d+|[^\W\d_]+")


@dataclass(frozen=True)
class Reply:
    response: str
    eta_minutes: int | None = None
    incident_number: int | None = None


def _tokens(text: str) -> list[str]:
    folded = sms.fold(text)
    return [_TYPOS.get(t, t) for t in _SPLIT.findall(folded)]


def _phrase_table() -> list[tuple[list[str], str]]:
    table = [(phrase.split(), response) for response, phrases in _PHRASES.items() for phrase in phrases]
    table.sort(key=lambda item: -len(item[0]))
    return table


_TABLE = _phrase_table()


def _match_phrase(tokens: list[str]) -> tuple[str, list[str]] | None:
    for phrase, response in _TABLE:
        if tokens[: len(phrase)] == phrase:
            return response, tokens[len(phrase) :]
    return None


def parse_reply(text: str) -> Reply | None:
    """A page reply ("1 15", "si 15 #42", "no puedo", "llegué") or None if it is not one. An
    arrival in words may go on with what they see ("llegué, hay 3 camionetas"): the rest is
    not read, and its numbers are not taken for an incident."""
    marked = _INCIDENT_MARK.search(text)
    number = int(marked.group(1)) if marked else None
    body = _INCIDENT_MARK.sub(" ", text) if marked else text
    tokens: list[str] = []
    for token in _tokens(body):
        tokens.extend(_TYPOS.get(token, token).split())
    if not tokens:
        return None
    matched = _match_phrase(tokens)
    if matched is None:
        return None
    response, rest = matched
    if any(t.isdigit() and len(t) > MAX_NUMBER_DIGITS for t in rest):
        return None  # "2 99999999999999999999" is no incident number or ETA
    words_after = any(not t.isdigit() and t not in _FILLER for t in rest)
    if words_after and response == ON_SCENE and not tokens[0].isdigit():
        return Reply(ON_SCENE, None, number)
    numbers = [int(t) for t in rest if t.isdigit()]
    if words_after:
        return None
    if len(numbers) > 2:
        return None
    eta: int | None = None
    if response == ACCEPT and numbers:
        eta = numbers.pop(0)
    if numbers:
        if number is not None or len(numbers) > 1:
            return None
        number = numbers[0]
    return Reply(response, eta, number)


# --- Other volunteer keywords -------------------------------------------------------------

_AVAILABLE = re.compile(
    r"^\s*(?:available|availble|avail|disponible|disponibl)\b\s*(\d{1,3})?\s*(?:h|hours?|horas?|hrs?)?\s*$"
)
_OFF = re.compile(r"^\s*(?:off|no disponible|nodisponible|fuera|off now|ocupado ahora)\s*$")
_FIELD = re.compile(
    r"^\s*(?:informe|inform|fr|field report|field|reporte de campo)\b[\s:.,-]*"
    r"(?:#\s*(\d{1,9})\b[\s:.,-]*)?(\d)?\b[\s:.,-]*(.*)$",
    re.I | re.S,
)
# "Done" with an incident, alone or with its number: DONE, LISTO #42, terminé.
_DONE = re.compile(r"^\s*(?:done|finished|listo|lista|termine|terminado|terminada)\s*(?:#\s*(\d{1,9}))?\s*[.!]*\s*$")
_ANSWER_LIKE = re.compile(r"^[\s#,.:-]*\d[\d\s#,.:-]*$")
_HELP = frozenset({"help", "ayuda", "vigil", "menu"})


def _available_hours(text: str) -> int | None | bool:
    """Hours asked by AVAILABLE [n] (None for the default), or False if not that keyword."""
    found = _AVAILABLE.match(sms.fold(text))
    if found is None:
        return False
    return int(found.group(1)) if found.group(1) else None


def _is_off(text: str) -> bool:
    return _OFF.match(sms.fold(text)) is not None


# --- The interceptor ------------------------------------------------------------------------


def intercept(context: sms.SmsContext) -> sms.Handled | None:
    responder = oncall.responder_for_phone_index(context.phone_index)
    if responder is None:
        return None
    with translation.override(responder.language if responder.language in ("en", "es") else "en"):
        return _handle(responder, context)


def _handle(responder: Responder, context: sms.SmsContext) -> sms.Handled | None:
    text = context.text.strip()
    now = context.now
    hours = _available_hours(text)
    if hours is not False:
        shift = availability.store_available(responder, hours if isinstance(hours, int) else None, now)
        length = round((shift.ends_at - shift.starts_at).total_seconds() / 3600)
        return sms.Handled(texts.render(texts.AVAILABLE, hours=length))
    if _is_off(text):
        shift = availability.store_off(responder, now)
        ends = timezone.localtime(shift.ends_at)
        # "18:00" today; "Sat 06:00" (in their language) when it runs past midnight.
        same_day = ends.date() == timezone.localdate(now)
        until = ends.strftime("%H:%M") if same_day else sms.ascii_only(formats.date_format(ends, "D H:i"))
        return sms.Handled(texts.render(texts.OFF, until=until))
    field = _FIELD.match(text)
    if field is not None:
        number = int(field.group(1)) if field.group(1) else None
        return _field_report(responder, number, field.group(2) or "", field.group(3) or "")
    done = _DONE.match(sms.fold(text))
    if done is not None and paging.has_assignment(responder):
        return _done(responder, int(done.group(1)) if done.group(1) else None, now)
    reply = parse_reply(text)
    if reply is not None:
        return _page_reply(responder, reply, context)
    if " ".join(sms.words(text)) in _HELP and _busy(responder, context):
        return sms.Handled(texts.render(texts.HELP))
    if _ANSWER_LIKE.match(text) and _busy(responder, context):
        # "5", "1 2 3 4" from someone with an open page: a reply we could not read, not a report.
        return sms.Handled(texts.render(texts.NOT_UNDERSTOOD))
    return None


def _busy(responder: Responder, context: sms.SmsContext) -> bool:
    return paging.has_open_page(responder, context.now) or paging.has_assignment(responder)


def _page_reply(responder: Responder, reply: Reply, context: sms.SmsContext) -> sms.Handled | None:
    number = reply.incident_number
    if reply.response == ON_SCENE:
        applies = paging.has_assignment(responder, incident_number=number) or paging.has_open_page(
            responder, context.now, incident_number=number
        )
    else:
        applies = paging.has_open_page(responder, context.now, incident_number=number)
    if not applies:
        declined = paging.declined_page(responder, context.now, incident_number=number)
        if declined is not None:
            return sms.Handled(texts.render(texts.ALREADY_DECLINED, number=declined))
        if number is not None and _busy(responder, context):
            # They named an incident they have no page for: say so rather than guess.
            return sms.Handled(texts.render(texts.CLOSED, number=number))
        return None
    answer = paging.store_response(
        responder, reply.response, eta_minutes=reply.eta_minutes, incident=number, now=context.now
    )
    message = {
        "lead": texts.LEAD,
        "joined": texts.JOINED,
        "declined": texts.DECLINED,
        "on_scene": texts.ON_SCENE,
    }.get(answer.outcome)
    if message is None:
        return sms.Handled(texts.render(texts.NO_ASSIGNMENT))
    return sms.Handled(texts.render(message, number=answer.number))


def _done(responder: Responder, number: int | None, now: datetime) -> sms.Handled:
    assignment = paging.active_assignment(responder, incident_number=number)
    if assignment is None:
        return sms.Handled(texts.render(texts.CLOSED, number=number))
    paging.store_end_assignment(assignment, now)
    return sms.Handled(texts.render(texts.ENDED, number=assignment.incident_id))


def _field_report(responder: Responder, number: int | None, digit: str, text: str) -> sms.Handled:
    assignment = paging.active_assignment(responder, incident_number=number)
    if assignment is None:
        if number is not None:
            return sms.Handled(texts.render(texts.CLOSED, number=number))
        return sms.Handled(texts.render(texts.NO_ASSIGNMENT))
    if not digit:
        return sms.Handled(texts.render(texts.FIELD_USAGE))
    from vigil.responders import fieldreports

    return sms.Handled(fieldreports.record_from_sms(responder, assignment, digit, text.strip()))
