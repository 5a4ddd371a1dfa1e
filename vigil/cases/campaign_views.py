"""The public page of a pressure campaign (/c/<slug>/) and its petition.

Anonymous, phone-first. 404 unless the campaign is published and its case open. A signature
stores a name only when "show my name" is ticked and an email only when "send me updates" is;
the rate limit counts per source under a keyed hash (no IP address is stored).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.cases import campaigns
from vigil.cases.closing_forms import SignForm
from vigil.cases.models import Campaign, Signature
from vigil.core import ratelimit
from vigil.core.http import client_ip

SIGNATURES_PER_SOURCE = 10
HOUR = timedelta(hours=1)


def _published(slug: str) -> Campaign:
    campaign = campaigns.public_campaign(slug)
    if campaign is None:
        raise Http404
    return campaign


def _page(
    request: HttpRequest, campaign: Campaign, *, form: SignForm | None = None, notice: str = "", status: int = 200
) -> HttpResponse:
    if campaigns.is_locked(campaign):
        return render(request, "cases/public/unavailable.html", status=503)
    context = {
        "campaign": campaign,
        "title": str(campaign.title or ""),
        "story": str(campaign.story or ""),
        "call_script": str(campaign.call_script or ""),
        "officials": campaigns.officials(str(campaign.officials or "")),
        "petition": str(campaign.petition or ""),
        "count": campaign.signatures.count(),
        "names": campaigns.shown_names(campaign),
        "updates": campaigns.updates_of(campaign),
        "form": form or SignForm(),
        "notice": notice,
        "signed": request.GET.get("signed") == "1" and form is None,
    }
    return render(request, "cases/public/campaign.html", context, status=status)


@require_GET
def campaign_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _published(slug))


@require_POST
def campaign_sign(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _published(slug)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _page(request, campaign, form=form, notice=_("Please check the form."), status=400)
    if not ratelimit.hit(client_ip(request), purpose="petition", limit=SIGNATURES_PER_SOURCE, window=HOUR):
        notice = _("Too many signatures from this connection. Please try again in an hour.")
        return _page(request, campaign, form=form, notice=notice, status=429)
    if campaigns.is_locked(campaign):
        return render(request, "cases/public/unavailable.html", status=503)
    data = form.cleaned_data
    campaigns.sign(
        campaign,
        name=data["name"],
        show_name=data["show_name"],
        email=data["email"] or "",
        updates=data["updates"],
        now=timezone.now(),
        language=get_language() or "en",
    )
    return redirect(reverse("campaign_page", args=[campaign.slug]) + "?signed=1#sign")


@require_http_methods(["GET", "POST"])
def campaign_stop(request: HttpRequest, slug: str, signature_id: uuid.UUID) -> HttpResponse:
    """The stop link in every update. GET asks (mail scanners follow links), POST forgets the
    email. A link that is wrong, used or for a shredded campaign answers the same 404."""
    if request.method == "GET":
        if not Signature.objects.filter(pk=signature_id, campaign__slug=slug, email_endpoint__isnull=False).exists():
            raise Http404
        return render(request, "cases/public/stop.html", {"stopped": False})
    if not campaigns.stop_updates(slug, signature_id):
        raise Http404
    return render(request, "cases/public/stop.html", {"stopped": True})
