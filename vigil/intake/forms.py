"""The public report form: no account, every label translated, every value bounded."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.core.phones import InvalidPhone, normalize_phone
from vigil.intake import uploads
from vigil.intake.models import Agency, Kind

MAX_COUNT = 999
MAX_DETAILS = 4000
OLDEST_REPORT = timedelta(days=31)
ZIP_CODE = re.compile(r"(\d{5})(?:-\d{4})?", re.ASCII)


def reject_unreadable(value: str) -> None:
    # Invalid UTF-8 reaches us as U+FFFD (Django decodes with "replace"); surrogates cannot be
    # encrypted or stored. Either way the person should know their text did not come through.
    if "\ufffd" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError(_("This text contains characters that could not be read. Please type it again."))


class ReadableText(forms.CharField):
    """A CharField (which already refuses NUL characters) that also refuses unreadable text."""

    default_validators = [reject_unreadable]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is happening?"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is happening.")},
    )
    address = ReadableText(
        label=_("Address or cross streets"),
        required=False,
        max_length=300,
        help_text=_("For example: 18th St and Blue Island Ave, or the name of a store."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    zip_code = ReadableText(
        label=_("ZIP code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": "5"}),
    )
    latitude = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("Your location could not be read. Type the address instead.")},
    )
    longitude = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("Your location could not be read. Type the address instead.")},
    )
    observed_at = forms.DateTimeField(
        label=_("When?"),
        required=False,
        help_text=_("Leave it empty if it is happening now."),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    agents_count = forms.IntegerField(
        label=_("How many agents?"),
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
        help_text=_("Your best guess."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    vehicles_count = forms.IntegerField(
        label=_("How many vehicles?"),
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
        help_text=_("Your best guess."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    agency = forms.ChoiceField(
        label=_("Which agency, if you know?"),
        choices=Agency.choices,
        required=False,
        initial=Agency.UNKNOWN,
    )
    details = ReadableText(
        label=_("What did you see?"),
        required=False,
        max_length=MAX_DETAILS,
        help_text=_("Uniforms, what they are doing, anything written on vehicles. Please do not write anyone's name."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("Only if it is safe to take one. We remove the location and camera details from the file."),
        widget=forms.FileInput(attrs={"accept": uploads.accept_attribute()}),
    )
    contact_phone = ReadableText(
        label=_("Your phone number, if you want a call back (optional)"),
        required=False,
        max_length=40,
        help_text=_("A volunteer may call to ask what you saw. The number is encrypted and deleted after a few days."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    pow_token = ReadableText(required=False, max_length=300, widget=forms.HiddenInput)
    pow_answer = ReadableText(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_zip_code(self) -> str:
        text = str(self.cleaned_data.get("zip_code") or "").strip()
        if not text:
            return ""
        match = ZIP_CODE.fullmatch(text)
        if match is None:
            raise ValidationError(_("Enter a 5-digit ZIP code, like 60608."))
        return match.group(1)

    def clean_observed_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("observed_at")
        if value is None:
            return None
        now = timezone.now()
        if value > now + timedelta(hours=1):
            raise ValidationError(_("That time is in the future. Leave it empty if it is happening now."))
        if value < now - OLDEST_REPORT:
            raise ValidationError(_("This form is for things seen in the last month."))
        return value

    def clean_photo(self) -> UploadedFile | None:
        # Only the size here: decoding waits until the view has checked the proof of work
        # and the hourly allowance, because it is the one expensive step.
        upload: UploadedFile | None = self.cleaned_data.get("photo")
        if upload and upload.size is not None and upload.size > uploads.MAX_PHOTO_BYTES:
            raise ValidationError(uploads.TOO_LARGE, code="too_large")
        return upload

    def clean_contact_phone(self) -> str:
        text = str(self.cleaned_data.get("contact_phone") or "").strip()
        if not text:
            return ""
        try:
            return normalize_phone(text)
        except InvalidPhone:
            raise ValidationError(_("This does not look like a phone number. Check it, or leave it empty.")) from None

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None):
            data["latitude"] = data["longitude"] = None
            latitude = longitude = None
        has_place = data.get("address") or data.get("zip_code") or latitude is not None
        place_failed = any(name in self.errors for name in ("address", "zip_code", "latitude", "longitude"))
        if not has_place and not place_failed:
            self.add_error(
                "address", _("Tell us where: an address, cross streets or a ZIP code, or share your location.")
            )
        return data

    @property
    def photo_too_large(self) -> bool:
        return any(error.code == "too_large" for error in self.errors.as_data().get("photo", []))
