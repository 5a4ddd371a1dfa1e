"""Staff pages of the channels stage: the sandbox phone (demo and drills) and channel status."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import Role, User
from vigil.channels import sandbox
from vigil.channels.models import ChannelHealth, ChannelKind
from vigil.channels.transports import PROVIDERS, live_channels, missing_settings
from vigil.core import crypto
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.intake.webhooks import MAX_BODY_CHARS

_INDEX = re.compile(r"[0-9a-f]{64}")
SESSION_PHONES = "sandbox_phones"
STATUS_ROLES = (Role.ORGANIZER, Role.ADMIN)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def sandbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside sandbox mode these pages do not exist, for anyone (checked before the login)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


class OpenPhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Phone number"), max_length=32)

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone:
            raise forms.ValidationError(gettext_lazy("Enter a phone number, like 312 555 0142.")) from None


class TextForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Text message"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if "\x00" in body:
            raise forms.ValidationError(gettext_lazy("This text contains characters a phone cannot send."))
        return body


# --- sandbox phones -----------------------------------------------------------------------


@sandbox_only
@require_http_methods(["GET", "POST"])
@login_required
def sandbox_phones(request: HttpRequest) -> HttpResponse:
    form = OpenPhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        index = phone_index(phone)
        # A phone with no message yet is known only to this session, until it sends one; the
        # session table is plaintext, so the number is kept there sealed like any address.
        known = dict(request.session.get(SESSION_PHONES, {}))
        known[index] = _seal(phone, index)
        request.session[SESSION_PHONES] = dict(list(known.items())[-50:])
        return redirect("sandbox_phone", index=index)
    status = 400 if request.method == "POST" else 200
    return render(request, "channels/sandbox_phones.html", {"inboxes": sandbox.inboxes(), "form": form}, status=status)


def _seal(phone: str, index: str) -> str:
    sealed = crypto.encrypt(phone.encode(), table="session", column=SESSION_PHONES, row=index)
    return base64.b64encode(sealed).decode("ascii")


def _unseal(value: object, index: str) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return crypto.decrypt(base64.b64decode(value), table="session", column=SESSION_PHONES, row=index).decode()
    except (ValueError, crypto.TamperedCiphertext, crypto.DataLocked):
        return None


def _phone_context(request: HttpRequest, index: str) -> dict[str, object]:
    if not _INDEX.fullmatch(index):
        raise Http404
    thread = sandbox.thread(index)
    phone = sandbox.phone_of(index) or _unseal(request.session.get(SESSION_PHONES, {}).get(index), index)
    if not thread and not phone:
        raise Http404
    address = phone or (str(thread[-1].address) if thread else "")
    return {"index": index, "thread": thread, "phone": phone, "address": address}


@sandbox_only
@require_http_methods(["GET", "POST"])
@login_required
def sandbox_phone(request: HttpRequest, index: str) -> HttpResponse:
    context = _phone_context(request, index)
    phone = context["phone"]
    form = TextForm(request.POST or None)
    if request.method == "POST":
        if not isinstance(phone, str):
            # An email or push inbox of the sandbox: it can receive, not text.
            raise Http404
        if form.is_valid():
            sandbox.send_sandbox_text(_user(request), phone, form.cleaned_data["body"])
            return redirect("sandbox_phone", index=index)
        return render(request, "channels/sandbox_phone.html", {**context, "form": form}, status=400)
    return render(request, "channels/sandbox_phone.html", {**context, "form": TextForm()})


@sandbox_only
@require_GET
@login_required
def sandbox_thread(request: HttpRequest, index: str) -> HttpResponse:
    """The thread alone, for htmx polling: an alert arriving shows up without a reload."""
    return render(request, "channels/_sandbox_thread.html", _phone_context(request, index))


# --- channel status -----------------------------------------------------------------------


@require_GET
@login_required
def channel_status(request: HttpRequest) -> HttpResponse:
    if _user(request).role not in STATUS_ROLES:
        raise PermissionDenied
    live = live_channels()
    health = {row.channel: row for row in ChannelHealth.objects.all()}
    rows = []
    for channel, label in ChannelKind.choices:
        provider = PROVIDERS.get(channel)
        rows.append(
            {
                "channel": channel,
                "label": label,
                "live": live.get(channel, False),
                "missing": missing_settings(channel),
                "provider_configured": provider.configured() if provider is not None else False,
                "per_second": _per_second(channel),
                "health": health.get(channel),
            }
        )
    return render(
        request,
        "channels/status.html",
        {"rows": rows, "sandbox": settings.SANDBOX, "concurrency": settings.DELIVERY_CONCURRENCY},
    )


def _per_second(channel: str) -> int:
    limits: dict[str, int] = {
        "sms": settings.SMS_PER_SECOND,
        "signal": settings.SIGNAL_PER_SECOND,
        "email": settings.EMAIL_PER_SECOND,
        "webpush": settings.WEBPUSH_PER_SECOND,
    }
    return int(limits.get(channel, 0))
