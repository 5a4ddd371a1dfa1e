"""Reading inbound text messages: keywords, reply language, place. No database access here.

Keywords live in a registry (word -> handler) so later features (JOIN/ALTA subscriptions,
DETAINED/DETENIDO) add theirs from their own app without editing this file:

    keywords.register("join", {"JOIN": "en", "ALTA": "es"}, handle_join)

Interceptors (volunteer replies such as "1 15" or "si 15") see a message before the keywords.

A handler gets an SmsContext and returns the reply text (or None for no reply), written with
gettext: it runs under translation.override(context.language). It also runs inside the
webhook's transaction (the one that records the MessageSid, for exactly-once), so a durable
action must be called as webhooks.in_webhook_transaction(action)(...).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from vigil.core import geo

if TYPE_CHECKING:
    from vigil.intake.models import SmsConversation

LANGUAGES = ("en", "es")


def fold(text: str) -> str:
    """Lower case without accents, so "REPÓRTE", "Reporte" and "reporte" read the same."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_only(text: str) -> str:
    """The text without accents or other non-ASCII characters: "Pilsén" stays one GSM-7
    segment instead of turning the whole text into 70-character UCS-2 segments."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if ord(c) < 128)


_TOKEN = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


# --- Keywords ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsContext:
    """One inbound message as a handler sees it. `phone` is E.164: never log or echo it."""

    phone: str
    phone_index: str
    text: str
    argument: str
    language: str
    conversation: SmsConversation | None
    now: datetime


Handler = Callable[[SmsContext], str | None]


@dataclass(frozen=True)
class Keyword:
    word: str
    intent: str
    # The language the word belongs to (it decides the reply language), or None if shared.
    language: str | None
    handler: Handler
    # A keyword without an argument only counts when it is the whole message: "AYUDA, se
    # llevaron a mi esposo" is a report, not a request for the help text.
    takes_argument: bool


@dataclass(frozen=True)
class Command:
    keyword: Keyword
    argument: str


_LEADING = re.compile(r"[\W_]*")
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_EDGE_PUNCTUATION = " \t\r\n:;,.!¡?¿-–—_*\"'()"


class KeywordRegistry:
    def __init__(self) -> None:
        self._words: dict[str, Keyword] = {}

    def register(
        self, intent: str, words: Mapping[str, str | None], handler: Handler, *, takes_argument: bool = False
    ) -> None:
        """Map each word (any case, accents ignored) to the handler; word -> its language."""
        for word, language in words.items():
            key = fold(word.strip())
            if not _FIRST_WORD.fullmatch(key):
                raise ValueError(f"keyword {word!r} must be one word of letters")
            existing = self._words.get(key)
            if existing is not None and existing.intent != intent:
                raise ValueError(f"keyword {word!r} already belongs to {existing.intent!r}")
            self._words[key] = Keyword(key, intent, language, handler, takes_argument)

    def unregister(self, intent: str) -> None:
        self._words = {w: k for w, k in self._words.items() if k.intent != intent}

    def intents(self) -> set[str]:
        return {k.intent for k in self._words.values()}

    def match(self, text: str) -> Command | None:
        """The keyword the message starts with and the rest of it, or None."""
        start = _LEADING.match(text)
        position = start.end() if start else 0
        found = _FIRST_WORD.match(text, position)
        if found is None:
            return None
        keyword = self._words.get(fold(found.group()))
        if keyword is None:
            return None
        argument = text[found.end() :].strip(_EDGE_PUNCTUATION)
        if argument and not keyword.takes_argument:
            return None
        return Command(keyword, argument)


keywords = KeywordRegistry()


@dataclass(frozen=True)
class Handled:
    """An interceptor took the message; `reply` is the text to answer (None for none)."""

    reply: str | None


Interceptor = Callable[[SmsContext], Handled | None]


class InterceptorRegistry:
    """Handlers that see a message before the keywords do, because what it means depends on
    who sent it: a volunteer with an open page who answers "si 15" is accepting the page, not
    confirming an alert subscription. Each returns Handled(...) or None to let the message
    go on. STOP never reaches them.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Interceptor] = {}

    def register(self, name: str, handler: Interceptor) -> None:
        self._handlers[name] = handler

    def unregister(self, name: str) -> None:
        self._handlers.pop(name, None)

    def first(self, context: SmsContext) -> Handled | None:
        for handler in self._handlers.values():
            handled = handler(context)
            if handled is not None:
                return handled
        return None


interceptors = InterceptorRegistry()


# --- Language ---------------------------------------------------------------------------

_SPANISH_WORDS = frozenset(
    """migra hay esta estan en la las el los y de del al calle esquina agentes agente policia
    camioneta camionetas carros carro redada redadas reten escuela trabajo casa aqui alli ahi
    cerca afuera llevaron detuvieron arrestaron se un una unos unas por que con frente mi su
    muchos hombres oficiales patrulla parada tienda iglesia ayuda favor ahora son tienen vi
    vimos hola buenas buenos gracias dias tardes noches informacion como quien donde cuando
    tambien estacionamiento afuera puerta vecino vecinos esposo esposa hijo hija""".split()
)
_ENGLISH_WORDS = frozenset(
    """the at is are in on and of there near agents agent outside school street they with my our
    taking took arrested van vans some by we i it this just now saw see right corner front
    home work store church hello hi help please what where who how thanks thank parking lot
    door neighbor neighbour husband wife son daughter car cars truck trucks""".split()
)


def looks_spanish(text: str) -> bool:
    tokens = words(text)
    spanish = sum(token in _SPANISH_WORDS for token in tokens)
    english = sum(token in _ENGLISH_WORDS for token in tokens)
    return spanish > english


def reply_language(text: str, *, keyword_language: str | None = None, conversation_language: str | None = None) -> str:
    """The keyword's language, else the conversation's, else a guess from the words, else English."""
    for language in (keyword_language, conversation_language):
        if language in LANGUAGES:
            return str(language)
    return "es" if looks_spanish(text) else "en"


_LANGUAGE_NAMES = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "ingles": "en",
    "es": "es",
    "esp": "es",
    "spanish": "es",
    "espanol": "es",
    "castellano": "es",
}


def language_choice(argument: str) -> str | None:
    """ "ES", "español", "Spanish" -> "es"; None if it names no language we answer in."""
    tokens = words(argument)
    return _LANGUAGE_NAMES.get(tokens[0]) if len(tokens) == 1 else None


# --- Place and content ------------------------------------------------------------------

_ZIP = re.compile(r"(?<![\d-])(\d{5})(?:-\d{4})?(?!\d)")


def is_known_zip(code: str) -> bool:
    return geo.zip_centroid(code) is not None


def extract_zip(text: str, known: Callable[[str], bool] = is_known_zip) -> str:
    """The last real ZIP code in the text ("" if none): house numbers usually come first."""
    for code in reversed(_ZIP.findall(text)):
        if known(code):
            return str(code)
    return ""


def bare_zip(text: str) -> str:
    """A reply that is nothing but five digits is a ZIP code, even one our data lacks."""
    stripped = text.strip(_EDGE_PUNCTUATION)
    found = _ZIP.fullmatch(stripped)
    return found.group(1) if found else ""


_SKIP_REPLIES = frozenset(
    ["skip", "saltar", "salta", "omitir", "no", "no se", "nose", "no lo se", "dont know", "don t know", "idk", "na"]
)


def is_skip(text: str) -> bool:
    return " ".join(words(text)) in _SKIP_REPLIES


_REPORT_WORDS = frozenset(
    """ice migra immigration inmigracion agents agent agentes agente raid raids redada redadas
    checkpoint checkpoints reten border patrol patrulla fronteriza cbp hsi dhs ero arrest arrests
    arrested arresting arresto arrestaron arrestando detained detaining detenido detenida
    detenidos detuvieron llevaron llevando taking took van vans camioneta camionetas federales
    feds federal officers oficiales police policia operativo uniforms uniformados masked
    encapuchados enmascarados""".split()
)
# Someone who writes a sentence or more is probably telling us something: better a report a
# volunteer dismisses than a sighting we never stored.
_REPORT_MIN_WORDS = 6


def looks_like_report(text: str) -> bool:
    tokens = words(text)
    if any(token in _REPORT_WORDS for token in tokens):
        return True
    return bool(extract_zip(text)) or len(tokens) >= _REPORT_MIN_WORDS


# --- SMS length -------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """How many SMS segments the text is billed as (GSM-7 if it fits that alphabet, else UCS-2)."""
    if is_gsm7(text):
        septets = len(text) + sum(c in GSM7_EXTENSION for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)
