"""Subscribing by text message: JOIN/ALTA <ZIP>, then YES/SI (double opt-in), START, LANG.

Handlers are added to intake's keyword registry from AlertsConfig.ready(). They run inside the
inbound webhook's transaction and under translation.override(the keyword's language). STOP
stays intake's keyword: intake sends `sms_opted_out` and subscriptions.on_sms_opted_out
forgets the number. LANG is intake's too: intake sends `sms_language_chosen` and
subscriptions.on_sms_language_chosen makes the subscriber's alerts follow.

Every reply fits one SMS segment where the zone names allow (sms.sms_segments).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from vigil.alerts import subscriptions
from vigil.intake import sms

JOIN_ASK = gettext_noop(
    "%(network)s: reply YES to get alerts for %(zones)s. Msg&data rates may apply. Reply STOP to stop."
)
JOIN_ADDED = gettext_noop("%(network)s: you now also get alerts for %(zones)s. Reply STOP to stop.")
JOIN_USAGE = gettext_noop("To get alerts, text JOIN and your 5-digit ZIP code, for example: JOIN 60623")
JOIN_UNKNOWN_ZIP = gettext_noop(
    "Sorry, we have no alert area for that ZIP code yet. Text JOIN and a nearby ZIP code, or HELP."
)
CONFIRMED = gettext_noop("%(network)s: you will get alerts for %(zones)s. Reply STOP to stop, LANG ES for Spanish.")
NOTHING_TO_CONFIRM = gettext_noop("There is nothing to confirm. To get alerts, text JOIN and your ZIP code.")
REPLIES = (JOIN_ASK, JOIN_ADDED, JOIN_USAGE, JOIN_UNKNOWN_ZIP, CONFIRMED, NOTHING_TO_CONFIRM)


def fit_zones(render: Callable[[str], str], names: Sequence[str]) -> str:
    """The reply naming as many zones as fit one segment; the rest as "+N"."""
    unique = list(dict.fromkeys(names))
    reply = render("")
    for shown in range(len(unique), 0, -1):
        rest = len(unique) - shown
        reply = render(", ".join(unique[:shown]) + (f" +{rest}" if rest else ""))
        if sms.sms_segments(reply) == 1:
            return reply
    return reply  # one very long zone name: two segments rather than no name


def _reply(template: str, names: Sequence[str]) -> str:
    network = settings.NETWORK_NAME
    return fit_zones(lambda zones: gettext(template) % {"network": network, "zones": zones}, names)


def handle_join(context: sms.SmsContext) -> str | None:
    zip_code = sms.bare_zip(context.argument) or sms.extract_zip(context.argument)
    if not zip_code:
        return gettext(JOIN_USAGE)
    zones = subscriptions.zones_for_zip(zip_code)
    if not zones:
        return gettext(JOIN_UNKNOWN_ZIP)
    result = subscriptions.join_by_sms(context.phone, context.phone_index, zones, context.language, context.now)
    names = [zone.name for zone in result.zones]
    if result.pending:
        return _reply(JOIN_ASK, names)
    if result.added_to_active:
        return _reply(JOIN_ADDED, names)
    return gettext(JOIN_USAGE)


def _confirm(context: sms.SmsContext, *, reopt_in: bool) -> str | None:
    confirmed = subscriptions.confirm_by_sms(context.phone_index, context.now, reopt_in=reopt_in)
    if not confirmed:
        return gettext(NOTHING_TO_CONFIRM)
    return _reply(CONFIRMED, subscriptions.subscribed_zone_names(context.phone_index))


def handle_yes(context: sms.SmsContext) -> str | None:
    return _confirm(context, reopt_in=False)


def handle_start(context: sms.SmsContext) -> str | None:
    # START is the carriers' opt-in word: it lifts a STOP (explicit re-opt-in).
    return _confirm(context, reopt_in=True)


def register() -> None:
    sms.keywords.register("join", {"JOIN": "en", "SUBSCRIBE": "en", "ALTA": "es"}, handle_join, takes_argument=True)
    sms.keywords.register("subscribe_confirm", {"YES": "en", "SI": "es", "SÍ": "es"}, handle_yes)
    sms.keywords.register("start", {"START": "en", "UNSTOP": "en"}, handle_start)
