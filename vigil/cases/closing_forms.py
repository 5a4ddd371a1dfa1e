"""Forms for exports, closing and campaigns (staff), and the public signature form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigil.cases import campaigns
from vigil.cases.models import ExportFormat, Outcome


class _NoNul:
    """Refuse NUL bytes and lone surrogates in every text field (E1): a clear 400."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and ("\x00" in value or _has_surrogate(value)):
                self.add_error(name, _("This text contains characters that are not allowed."))  # type: ignore[attr-defined]
        return cleaned


def _has_surrogate(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)


class CloseForm(forms.Form):
    action = forms.ChoiceField(choices=[("close", "close"), ("reopen", "reopen")], initial="close")
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "close" and not cleaned.get("outcome"):
            self.add_error("outcome", _("Choose how the case ended."))
        return cleaned


class ConsentForm(_NoNul, forms.Form):
    given_by = forms.CharField(
        label=_("Who gave consent"),
        max_length=campaigns.CONSENT_BY_MAX,
        help_text=_("For example: his wife, by phone."),
    )
    scope = forms.CharField(
        label=_("What may be public"),
        max_length=campaigns.CONSENT_SCOPE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: first name and a story without photos."),
    )


class CampaignForm(_NoNul, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=campaigns.TITLE_MAX, required=False)
    story = forms.CharField(
        label=_("Public story"),
        max_length=campaigns.STORY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    call_script = forms.CharField(
        label=_("Call script"),
        max_length=campaigns.SCRIPT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    officials = forms.CharField(
        label=_("Officials to call"),
        max_length=campaigns.OFFICIALS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('One a line: "Name | phone", for example "ICE Chicago Field Office | 312-347-2400".'),
    )
    petition = forms.CharField(
        label=_("Petition"), max_length=campaigns.PETITION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def texts(self) -> campaigns.CampaignTexts:
        data = self.cleaned_data
        return campaigns.CampaignTexts(
            title=data["title"],
            story=data["story"],
            call_script=data["call_script"],
            officials=data["officials"],
            petition=data["petition"],
        )


class CampaignUpdateForm(_NoNul, forms.Form):
    body = forms.CharField(
        label=_("Update for the public page and the supporters' email"),
        max_length=campaigns.UPDATE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public text: what the family agreed may be public, nothing more."),
    )


class SignForm(_NoNul, forms.Form):
    name = forms.CharField(label=_("Your name (optional)"), max_length=campaigns.SIGNER_NAME_MAX, required=False)
    show_name = forms.BooleanField(label=_("Show my name on this page"), required=False)
    email = forms.EmailField(label=_("Email (optional)"), max_length=campaigns.EMAIL_MAX, required=False)
    updates = forms.BooleanField(label=_("Send me updates about this campaign"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("show_name") and not cleaned.get("name", "").strip():
            self.add_error("name", _('Write your name, or untick "Show my name".'))
        if cleaned.get("updates") and not cleaned.get("email"):
            self.add_error("email", _('Write your email, or untick "Send me updates".'))
        return cleaned
