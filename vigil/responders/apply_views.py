"""The public volunteer application (/volunteer/): no account, English or Spanish, phone first.

An application makes an APPLIED responder per chapter of the areas chosen; an organizer calls
and approves them (vetting). The answer is the same page whether the phone was new or already
on the roster, so the form cannot be used to learn who volunteers. Bad input is a 400 page
with a message and nothing stored; each connection may apply a few times an hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from vigil.core import ratelimit
from vigil.core.http import client_ip
from vigil.core.models import Zone
from vigil.responders import roster
from vigil.responders.forms import ApplyForm

HOUR = timedelta(hours=1)
# Applications one connection may send per hour.
APPLICATIONS_PER_SOURCE = 5

TOO_MANY = _("Too many requests have come from your connection in the last hour. Please try again later.")
CHECK_FORM = _("Some answers need another look. Nothing was saved.")


def _zones() -> list[Zone]:
    return list(Zone.objects.select_related("chapter").order_by("chapter__name", "name"))


def _page(request: HttpRequest, form: ApplyForm, *, status: int = 200, notice: object = None) -> HttpResponse:
    return render(request, "responders/apply/form.html", {"form": form, "notice": notice}, status=status)


@require_http_methods(["GET", "POST"])
def volunteer_apply(request: HttpRequest) -> HttpResponse:
    zones = _zones()
    if request.method == "GET":
        language = (get_language() or "en")[:2]
        return _page(request, ApplyForm(zones=zones, initial={"language": language, "languages": [language]}))
    form = ApplyForm(request.POST, zones=zones)
    if not form.is_valid():
        return _page(request, form, status=400, notice=CHECK_FORM)
    data = form.cleaned_data
    for name, check in (("name", roster.clean_name), ("phone", roster.clean_phone)):
        try:
            check(data[name])
        except roster.RosterError as problem:
            form.add_error(name, str(problem))
    if form.errors:
        return _page(request, form, status=400, notice=CHECK_FORM)
    if not ratelimit.hit(client_ip(request), purpose="volunteer-apply", limit=APPLICATIONS_PER_SOURCE, window=HOUR):
        return _page(request, form, status=429, notice=TOO_MANY)
    by_chapter: dict[int, list[Zone]] = defaultdict(list)
    for zone in form.chosen_zones():
        by_chapter[zone.chapter_id].append(zone)
    for chapter_zones in by_chapter.values():
        roster.apply(
            chapter_zones[0].chapter,
            name=data["name"],
            phone=data["phone"],
            language=data["language"],
            languages=data["languages"],
            zone_ids=[z.pk for z in chapter_zones],
            roles_wanted=data["roles"],
        )
    return redirect("volunteer_thanks")


@require_GET
def volunteer_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "responders/apply/thanks.html")
