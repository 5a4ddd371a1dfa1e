"""Reading a neighbour's text: keywords, language, place. Pure functions, no HTTP."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext, override

from vigil.intake import sms, webhooks  # webhooks registers the built-in keywords
from vigil.intake.sms import KeywordRegistry, SmsContext


@pytest.mark.parametrize(
    ("text", "intent", "argument", "language"),
    [
        ("REPORT ICE at the school on 26th", "report", "ICE at the school on 26th", "en"),
        ("report: 3 vans on Cermak", "report", "3 vans on Cermak", "en"),
        ("Reporte hay migra en la 18", "reporte", "hay migra en la 18", "es"),
        ("REPÓRTE hay migra", "reporte", "hay migra", "es"),
        ("reportar   la migra en Cicero", "reportar", "la migra en Cicero", "es"),
        ("REPORT", "report", "", "en"),
        ("HELP", "help", "", "en"),
        ("help?", "help", "", "en"),
        ("ayuda", "ayuda", "", "es"),
        ("¡AYÚDA!", "ayuda", "", "es"),
        ("  Info ", "info", "", None),
        ("sToP", "stop", "", "en"),
        ("Baja", "baja", "", "es"),
        ("bAjA.", "baja", "", "es"),
        ("PARAR", "parar", "", "es"),
        ("Alto", "alto", "", "es"),
        ("cancel", "cancel", "", "en"),
        ("LANG ES", "lang", "ES", "en"),
        ("idioma inglés", "idioma", "inglés", "es"),
    ],
)
def test_keywords_are_read_in_any_case_with_or_without_accents(text, intent, argument, language):
    command = sms.keywords.match(text)
    assert command is not None
    assert command.keyword.word == intent
    assert command.argument == argument
    assert command.keyword.language == language


@pytest.mark.parametrize(
    "text",
    [
        "AYUDA se llevaron a mi esposo en la 26",
        "Help they are taking my neighbour",
        "Stop the raid at 18th and Blue Island",
        "alto ahí, la migra está en la escuela",
        "reporting ICE at Cermak",
        "ICE at the school on 26th",
        "60608",
        "",
        "¿?",
    ],
)
def test_a_keyword_that_takes_no_argument_counts_only_as_the_whole_message(text):
    assert sms.keywords.match(text) is None


def test_the_built_in_keywords_map_to_their_handlers():
    assert sms.keywords.match("REPORTE x").keyword.handler is webhooks.handle_report  # type: ignore[union-attr]
    assert sms.keywords.match("AYUDA").keyword.handler is webhooks.handle_help  # type: ignore[union-attr]
    assert sms.keywords.match("BAJA").keyword.handler is webhooks.handle_stop  # type: ignore[union-attr]
    assert sms.keywords.match("IDIOMA ES").keyword.handler is webhooks.handle_language  # type: ignore[union-attr]


def noop(context: SmsContext) -> str | None:
    return None


def test_a_later_feature_registers_its_keywords_without_editing_the_parser():
    registry = KeywordRegistry()
    registry.register("join", {"JOIN": "en", "ALTA": "es"}, noop, takes_argument=True)
    command = registry.match("alta 60623")
    assert command is not None
    assert (command.keyword.intent, command.keyword.language, command.argument) == ("join", "es", "60623")
    registry.unregister("join")
    assert registry.match("JOIN 60623") is None


def test_two_features_cannot_claim_the_same_word():
    registry = KeywordRegistry()
    registry.register("join", {"ALTA": "es"}, noop)
    with pytest.raises(ValueError, match="already belongs"):
        registry.register("stop", {"Álta": "es"}, noop)


def test_a_keyword_is_one_word_of_letters():
    with pytest.raises(ValueError):
        KeywordRegistry().register("x", {"TWO WORDS": "en"}, noop)
    with pytest.raises(ValueError):
        KeywordRegistry().register("x", {"J0IN": "en"}, noop)


@pytest.mark.parametrize(
    ("text", "spanish"),
    [
        ("la migra esta en la 18 y Blue Island", True),
        ("Hay agentes de ICE en Cermak", True),
        ("están afuera de la escuela", True),
        ("hola", True),
        ("ICE at the school on 26th", False),
        ("there are agents near the church", False),
        ("ICE 60608", False),
        ("", False),
    ],
)
def test_a_simple_word_count_tells_spanish_from_english(text, spanish):
    assert sms.looks_spanish(text) is spanish


def test_the_reply_language_is_the_keywords_then_the_conversations_then_a_guess_then_english():
    spanish_text = "la migra esta en la 18"
    assert sms.reply_language(spanish_text, keyword_language="en", conversation_language="es") == "en"
    assert sms.reply_language("ICE at 26th", conversation_language="es") == "es"
    assert sms.reply_language(spanish_text, conversation_language=None) == "es"
    assert sms.reply_language("ICE 60608") == "en"
    assert sms.reply_language("ICE 60608", keyword_language="fr", conversation_language="xx") == "en"


@pytest.mark.parametrize(
    ("argument", "choice"),
    [("ES", "es"), ("español", "es"), ("Spanish", "es"), ("en", "en"), ("INGLÉS", "en"), ("fr", None), ("", None)],
)
def test_a_language_can_be_named_by_code_or_by_name(argument, choice):
    assert sms.language_choice(argument) == choice


@pytest.mark.parametrize(
    ("text", "zip_code"),
    [
        ("ICE at 18th & Blue Island 60608", "60608"),
        ("la migra en Cicero 60804-1234", "60804"),
        ("12345 S Pulaski Rd, 60623", "60623"),
        ("2500 S Western Ave", ""),
        ("code 99999", ""),
        ("606081", ""),
        ("", ""),
    ],
)
def test_the_last_real_zip_code_in_a_message_is_its_place(text, zip_code):
    assert sms.extract_zip(text) == zip_code


def test_what_counts_as_a_real_zip_code_can_be_supplied():
    assert sms.extract_zip("at 99999", known=lambda code: True) == "99999"


@pytest.mark.parametrize(
    ("text", "zip_code"), [("60608", "60608"), (" 99999. ", "99999"), ("606081", ""), ("18th", "")]
)
def test_a_reply_of_five_digits_alone_is_a_zip_code(text, zip_code):
    assert sms.bare_zip(text) == zip_code


@pytest.mark.parametrize("text", ["SKIP", "skip.", "Saltar", "omitir", "No sé", "no", "don't know", "IDK"])
def test_skip_can_be_said_many_ways(text):
    assert sms.is_skip(text)


@pytest.mark.parametrize("text", ["18th and Blue Island", "60608", "no idea where, near the school on 26th"])
def test_a_place_is_not_a_skip(text):
    assert not sms.is_skip(text)


@pytest.mark.parametrize(
    ("text", "report"),
    [
        ("ICE at the school on 26th", True),
        ("la migra esta en la 18 y Blue Island", True),
        ("3 camionetas blancas en Cermak", True),
        ("unmarked cars parked outside the church since this morning", True),
        ("60608", True),
        ("hola", False),
        ("what is this number?", False),
        ("?", False),
        ("", False),
    ],
)
def test_text_that_describes_something_is_taken_as_a_report(text, report):
    assert sms.looks_like_report(text) is report


def test_segments_are_counted_as_carriers_bill_them():
    assert sms.sms_segments("a" * 160) == 1
    assert sms.sms_segments("a" * 161) == 2
    assert sms.sms_segments("€" * 80) == 1
    assert sms.sms_segments("¿Qué pasó?") == 1
    assert sms.sms_segments("á" * 70) == 1
    assert sms.sms_segments("á" * 71) == 2


def rendered(msgid: str) -> str:
    text = gettext(msgid)
    return text % {"network": "Vigil"} if "%(network)s" in msgid else text


def test_every_english_reply_fits_one_plain_sms():
    with override("en"):
        for msgid in webhooks.REPLIES:
            text = rendered(msgid)
            assert sms.is_gsm7(text), text
            assert sms.sms_segments(text) == 1, text


def test_every_spanish_reply_fits_two_sms_at_most():
    with override("es"):
        for msgid in webhooks.REPLIES:
            assert sms.sms_segments(rendered(msgid)) <= 2, msgid
