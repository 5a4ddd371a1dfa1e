"""Every text message the responders stage sends to a volunteer (gettext_noop: translated at
send time, in the volunteer's language). Short and GSM-7: one SMS segment each, with room for
a 40-character zone name in the page. No personal data: no names, no addresses, no phones.
The Spanish versions are written without accents (GSM-7 keeps them one segment).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

# The page. {number}: the incident number; {what}: one of KIND_PHRASES; {zone}: a zone name.
PAGE = gettext_noop(
    "Vigil page #{number}: {what}, zone {zone}. Reply 1 + minutes to accept (1 15), 2 to decline, 3 when on scene."
)
PAGE_NO_ZONE = gettext_noop(
    "Vigil page #{number}: {what}. Reply 1 + minutes to accept (1 15), 2 to decline, 3 when on scene."
)
KIND_PHRASES = {
    "home": gettext_noop("possible home raid"),
    "workplace": gettext_noop("possible workplace raid"),
    "checkpoint": gettext_noop("possible checkpoint"),
    "arrest": gettext_noop("possible arrest"),
    "vehicles": gettext_noop("vehicles seen"),
    "other": gettext_noop("possible enforcement"),
}

# Replies to a volunteer's text.
LEAD = gettext_noop(
    "You lead #{number}. The dispatcher will call you with the place. Reply 3 on scene. INFORME 1-4 when done."
)
JOINED = gettext_noop(
    "Someone already leads #{number}. You joined as backup: the dispatcher will call you. Reply 3 on scene."
)
DECLINED = gettext_noop("Thanks, #{number} declined. We page someone else.")
ALREADY_DECLINED = gettext_noop("You declined #{number}. If you can go after all, call the dispatcher.")
ON_SCENE = gettext_noop("On scene at #{number} noted. Stay at a safe distance. INFORME 1-4 + what you saw when done.")
ENDED = gettext_noop("Done with #{number}. Thank you.")
CLOSED = gettext_noop("#{number} is closed or already handled. Thank you.")
NO_ASSIGNMENT = gettext_noop("You have no open page or assignment right now.")
AVAILABLE = gettext_noop("You are available for {hours} h in your home zones. Text OFF to stop.")
OFF = gettext_noop("You are off call until {until}. Text AVAILABLE to come back.")
FIELD_REPORT = gettext_noop("Field report for #{number} recorded. Thank you.")
FIELD_USAGE = gettext_noop(
    "INFORME + 1-4 + what you saw: 1 confirmed, 2 false alarm, 3 could not verify, 4 other agency."
    " Ex: INFORME 1 two vans"
)
HELP = gettext_noop(
    "Vigil volunteer: 1 15 accept (15 min), 2 decline, 3 on scene, INFORME 1-4 report, AVAILABLE 4, OFF."
)
NOT_UNDERSTOOD = gettext_noop("Not understood. Reply 1 + minutes to accept (1 15), 2 to decline, 3 on scene.")


def render(text: str, **values: object) -> str:
    """The text in the active language, filled in."""
    return gettext(text).format(**values)


def kind_phrase(kind: str) -> str:
    return gettext(KIND_PHRASES.get(kind, KIND_PHRASES["other"]))
