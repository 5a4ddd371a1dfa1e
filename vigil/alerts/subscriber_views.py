"""The public subscribe pages: no account, English or Spanish, phone and email without JavaScript.

The answer to "send me a code" is the same whether the number was new, already subscribed,
suppressed or over its limit (G11: the page cannot be used to learn who subscribes, nor to
text arbitrary numbers). Bad input is a 400 page and nothing is stored.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from vigil.alerts import subscriptions
from vigil.alerts.subscriptions import Contact, InvalidContact, Ticket, WebRequest
from vigil.channels.models import ChannelKind
from vigil.core import ratelimit
from vigil.core.http import client_ip
from vigil.core.models import Zone

HOUR = timedelta(hours=1)
# Requests for a code (or push sign-ups) one connection may make per hour.
REQUESTS_PER_SOURCE = 5
CODE_TRIES_PER_SOURCE = 20
SW_PATH = Path(__file__).resolve().parent.parent / "static" / "vigil" / "sw.js"

TOO_MANY = _("Too many requests have come from your connection in the last hour. Please try again later.")
CHECK_FORM = _("Some answers need another look. Nothing was saved.")
WRONG_CODE = _("That code is not right or has expired. Check the text message and try again, or start over.")
BAD_LINK = _("This link is not valid any more. Please subscribe again.")


def zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in Zone.objects.select_related("chapter").order_by("chapter__name", "name"):
        groups.setdefault(zone.chapter.name, []).append((str(zone.pk), zone.name))
    return list(groups.items())


class SubscribeForm(forms.Form):
    CHANNELS = [
        (ChannelKind.SMS, pgettext_lazy("channel", "Text message (SMS)")),
        (ChannelKind.EMAIL, pgettext_lazy("channel", "Email")),
        (ChannelKind.WEBPUSH, pgettext_lazy("channel", "Notifications in this browser")),
    ]

    zones = forms.MultipleChoiceField(
        label=_("Areas"), required=False, widget=forms.CheckboxSelectMultiple, help_text=_("Choose one or more.")
    )
    zip_code = forms.CharField(
        label=_("Or your ZIP code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    language = forms.ChoiceField(label=_("Language of the alerts"), choices=settings.LANGUAGES)
    channel = forms.ChoiceField(label=_("How should we reach you?"), choices=CHANNELS, widget=forms.RadioSelect)
    phone = forms.CharField(
        label=_("Mobile phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    fallback = forms.CharField(
        label=_("Second channel (optional)"),
        required=False,
        max_length=254,
        help_text=_("A phone number or email address we use if the first one fails. It gets its own confirmation."),
    )
    push_subscription = forms.CharField(required=False, max_length=4096, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones_field = self.fields["zones"]
        assert isinstance(zones_field, forms.MultipleChoiceField)
        zones_field.choices = zone_choices()
        self.zone_objects: list[Zone] = []
        self.contact: Contact | None = None
        self.fallback_contact: Contact | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zone_ids = [int(z) for z in data.get("zones") or []]
        zip_code = (data.get("zip_code") or "").strip()
        zones = list(Zone.objects.filter(pk__in=zone_ids).select_related("chapter"))
        if zip_code:
            found = subscriptions.zones_for_zip(zip_code) if zip_code[:5].isdigit() else []
            if not found:
                self.add_error(
                    "zip_code", gettext("We have no alert area for that ZIP code yet. Choose an area above.")
                )
            zones += [z for z in found if z.pk not in zone_ids]
        elif not zones:
            self.add_error("zones", gettext("Choose at least one area, or enter your ZIP code."))
        self.zone_objects = zones
        channel = data.get("channel")
        try:
            if channel == ChannelKind.SMS:
                self.contact = subscriptions.phone_contact(data.get("phone") or "")
            elif channel == ChannelKind.EMAIL:
                self.contact = subscriptions.email_contact(data.get("email") or "")
            elif channel == ChannelKind.WEBPUSH:
                if not settings.VAPID_PUBLIC_KEY:
                    raise InvalidContact(gettext("Browser notifications are not available on this server."))
                self.contact = subscriptions.push_contact(data.get("push_subscription") or "")
        except InvalidContact as problem:
            field = {"sms": "phone", "email": "email"}.get(str(channel))
            self.add_error(field, str(problem))
        fallback = (data.get("fallback") or "").strip()
        if fallback:
            try:
                self.fallback_contact = (
                    subscriptions.email_contact(fallback) if "@" in fallback else subscriptions.phone_contact(fallback)
                )
            except InvalidContact as problem:
                self.add_error("fallback", str(problem))
        return data


def _language() -> str:
    return (get_language() or "en")[:2]


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, f"alerts/{template}", context, status=status)


def _form_page(request: HttpRequest, form: SubscribeForm, *, status: int = 200, notice: Any = None) -> HttpResponse:
    context = {"form": form, "notice": notice, "vapid_public_key": settings.VAPID_PUBLIC_KEY}
    return _page(request, "subscribe.html", context, status)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, SubscribeForm(initial={"language": _language(), "channel": ChannelKind.SMS}))
    form = SubscribeForm(request.POST)
    if not form.is_valid() or form.contact is None:
        return _form_page(request, form, status=400, notice=CHECK_FORM)
    if not ratelimit.hit(client_ip(request), purpose="subscribe-web", limit=REQUESTS_PER_SOURCE, window=HOUR):
        return _form_page(request, form, status=429, notice=TOO_MANY)
    ticket = subscriptions.request_subscription(
        WebRequest(
            contact=form.contact,
            zones=form.zone_objects,
            language=form.cleaned_data["language"],
            fallback=form.fallback_contact,
        )
    )
    zone_names = [z.name for z in form.zone_objects]
    if form.contact.channel == ChannelKind.SMS:
        return _page(request, "subscribe_code.html", {"ticket": ticket.dumps(), "zone_names": zone_names})
    return _page(request, "subscribe_sent.html", {"channel": form.contact.channel, "zone_names": zone_names})


@require_POST
def subscribe_code(request: HttpRequest) -> HttpResponse:
    ticket_text = str(request.POST.get("ticket", ""))
    ticket = Ticket.loads(ticket_text, max_age=subscriptions.CODE_TTL)
    if ticket is None:
        return _page(request, "subscribe_failed.html", {"notice": BAD_LINK}, status=400)
    if not ratelimit.hit(client_ip(request), purpose="subscribe-code-try", limit=CODE_TRIES_PER_SOURCE, window=HOUR):
        return _page(request, "subscribe_code.html", {"ticket": ticket_text, "notice": TOO_MANY}, status=429)
    code = "".join(c for c in str(request.POST.get("code", ""))[:40] if c.isdigit())
    if len(code) != 6 or not subscriptions.confirm_subscription(ticket, code):
        return _page(request, "subscribe_code.html", {"ticket": ticket_text, "notice": WRONG_CODE}, status=400)
    return _done(request, ticket)


def _done(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    names = list(Zone.objects.filter(pk__in=ticket.zone_ids).values_list("name", flat=True))
    return _page(request, "subscribe_done.html", {"zone_names": names, "channel": ticket.channel})


@require_http_methods(["GET", "POST"])
def subscribe_confirm(request: HttpRequest, ticket: str, token: str) -> HttpResponse:
    """The email link. GET only shows a button: mail scanners open links, people press buttons."""
    loaded = Ticket.loads(ticket, max_age=subscriptions.LINK_TTL)
    if loaded is None:
        return _page(request, "subscribe_failed.html", {"notice": BAD_LINK}, status=400)
    if request.method == "GET":
        return _page(request, "subscribe_confirm.html", {"action": "confirm"})
    if not subscriptions.confirm_subscription(loaded, token):
        return _page(request, "subscribe_failed.html", {"notice": BAD_LINK}, status=400)
    return _done(request, loaded)


@require_http_methods(["GET", "POST"])
def subscribe_fallback(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return _page(request, "subscribe_confirm.html", {"action": "fallback"})
    if not subscriptions.confirm_fallback(token):
        return _page(request, "subscribe_failed.html", {"notice": BAD_LINK}, status=400)
    return _page(request, "subscribe_done.html", {"fallback": True})


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return _page(request, "subscribe_confirm.html", {"action": "unsubscribe"})
    if not subscriptions.unsubscribe_by_token(token):
        return _page(request, "subscribe_failed.html", {"notice": BAD_LINK}, status=400)
    return _page(request, "subscribe_done.html", {"unsubscribed": True})


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


@require_POST
def subscribe_push(request: HttpRequest) -> HttpResponse:
    """subscribe.js posts the form with the browser's PushSubscription; active at once."""
    form = SubscribeForm(request.POST)
    if not settings.VAPID_PUBLIC_KEY:
        return _json_error(gettext("Browser notifications are not available on this server."), 404)
    if form.data.get("channel") != ChannelKind.WEBPUSH or not form.is_valid() or form.contact is None:
        problems = [str(e) for errors in form.errors.values() for e in errors] or [str(CHECK_FORM)]
        return _json_error(" ".join(problems), 400)
    if not ratelimit.hit(client_ip(request), purpose="subscribe-web", limit=REQUESTS_PER_SOURCE, window=HOUR):
        return _json_error(str(TOO_MANY), 429)
    subscriptions.request_subscription(
        WebRequest(contact=form.contact, zones=form.zone_objects, language=form.cleaned_data["language"])
    )
    return JsonResponse(
        {"ok": True, "message": gettext("Done. This browser will show alerts for the areas you chose.")}
    )


@require_POST
def unsubscribe_push(request: HttpRequest) -> HttpResponse:
    try:
        contact = subscriptions.push_contact(str(request.POST.get("push_subscription", "")))
    except InvalidContact as problem:
        return _json_error(str(problem), 400)
    subscriptions.unsubscribe_push(contact)
    return JsonResponse({"ok": True, "message": gettext("This browser will not show alerts any more.")})


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SW_PATH.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response
