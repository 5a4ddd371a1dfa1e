"""Forms of the roster, schedule and volunteer application pages.

Only the fields listed here are ever read from a POST (D3: a posted `role`, `is_staff` or
`status` changes nothing). Every text field has a max length, so a 1 MB field is a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from vigil.channels.models import ChannelKind
from vigil.core.forms import LocalDateTimeField
from vigil.core.models import Zone
from vigil.responders.models import ResponderRole
from vigil.responders.roster import MAX_NAME

SPOKEN_LANGUAGE_CHOICES = [
    ("en", pgettext_lazy("language", "English")),
    ("es", pgettext_lazy("language", "Spanish")),
    ("pt", pgettext_lazy("language", "Portuguese")),
    ("fr", pgettext_lazy("language", "French")),
    ("ht", pgettext_lazy("language", "Haitian Creole")),
    ("zh", pgettext_lazy("language", "Chinese")),
    ("vi", pgettext_lazy("language", "Vietnamese")),
    ("ar", pgettext_lazy("language", "Arabic")),
    ("qu", pgettext_lazy("language", "Quechua")),
    ("yua", pgettext_lazy("language", "Yucatec Maya")),
    ("mam", pgettext_lazy("language", "Mam")),
    ("kic", pgettext_lazy("language", "K'iche'")),
]
MESSAGE_LANGUAGE_CHOICES = [("en", pgettext_lazy("language", "English")), ("es", pgettext_lazy("language", "Spanish"))]
CHANNEL_CHOICES = [
    (ChannelKind.SMS, pgettext_lazy("channel", "Text message (SMS)")),
    (ChannelKind.SIGNAL, pgettext_lazy("channel", "Signal")),
]


class CleanCharField(forms.CharField):
    """A CharField that refuses NUL and lone surrogates with a 400 message instead of a 500."""

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value) or "")
        if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise forms.ValidationError(gettext("This text contains characters we cannot store."))
        return str(text)


def zone_choices(zones: Sequence[Zone], *, grouped: bool) -> list[Any]:
    if not grouped:
        return [(str(z.pk), z.name) for z in zones]
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in zones:
        groups.setdefault(zone.chapter.name, []).append((str(zone.pk), zone.name))
    return list(groups.items())


class ApplyForm(forms.Form):
    name = CleanCharField(
        label=_("Your name"),
        max_length=MAX_NAME,
        help_text=_("The name an organizer should ask for when they call you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = CleanCharField(
        label=_("Mobile phone number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "type": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for our messages to you"), choices=MESSAGE_LANGUAGE_CHOICES)
    languages = forms.MultipleChoiceField(
        label=_("Languages you speak"),
        required=False,
        choices=SPOKEN_LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    zones = forms.MultipleChoiceField(
        label=_("Areas where you could help"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one area.")},
    )
    roles = forms.MultipleChoiceField(
        label=_("What you would like to do"),
        required=False,
        choices=ResponderRole.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("We train you first. You can change your mind later."),
    )

    def __init__(self, *args: Any, zones: Sequence[Zone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["zones"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = zone_choices(zones, grouped=True)
        self.zone_objects: dict[str, Zone] = {str(z.pk): z for z in zones}

    def chosen_zones(self) -> list[Zone]:
        return [self.zone_objects[z] for z in self.cleaned_data.get("zones", []) if z in self.zone_objects]


class ResponderForm(forms.Form):
    name = CleanCharField(label=_("Name"), max_length=MAX_NAME)
    phone = CleanCharField(label=_("Mobile phone number"), max_length=40)
    language = forms.ChoiceField(label=_("Language of pages"), choices=MESSAGE_LANGUAGE_CHOICES)
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        required=False,
        choices=SPOKEN_LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    zones = forms.MultipleChoiceField(label=_("Home zones"), required=False, widget=forms.CheckboxSelectMultiple)
    is_backup = forms.BooleanField(label=_("On the backup list"), required=False)
    channel = forms.ChoiceField(
        label=_("Pages go by"), choices=CHANNEL_CHOICES, initial=ChannelKind.SMS, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, zones: Sequence[Zone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["zones"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = zone_choices(zones, grouped=False)


class TrainingForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ResponderRole.choices)
    completed_on = forms.DateField(label=_("Completed on"), widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        done, expires = data.get("completed_on"), data.get("expires_on")
        if done and expires and expires < done:
            self.add_error("expires_on", gettext("A training cannot expire before it was completed."))
        return data


class RotationForm(forms.Form):
    name = CleanCharField(label=_("Name"), max_length=80)
    zone = forms.ChoiceField(label=_("Zone"))
    starts_at = LocalDateTimeField(label=_("First shift starts"))
    shift_hours = forms.IntegerField(label=_("Hours per shift"), min_value=1, max_value=168, initial=12)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, zones: Sequence[Zone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = zone_choices(zones, grouped=False)


class OverrideForm(forms.Form):
    responder = forms.ChoiceField(label=_("Responder"))
    zone = forms.ChoiceField(label=_("Zone"))
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))

    def __init__(self, *args: Any, zones: Sequence[Zone], responders: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone_field, responder_field = self.fields["zone"], self.fields["responder"]
        assert isinstance(zone_field, forms.ChoiceField) and isinstance(responder_field, forms.ChoiceField)
        zone_field.choices = zone_choices(zones, grouped=False)
        responder_field.choices = list(responders)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", gettext("The end must be after the start."))
        return data
