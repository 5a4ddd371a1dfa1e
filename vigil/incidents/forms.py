"""Forms of the staff pages. Each form only checks shape; the actions decide what is allowed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.core.models import Chapter
from vigil.core.phones import InvalidPhone, normalize_phone
from vigil.incidents.models import FieldReport, Outcome, Status
from vigil.intake.actions import ReportInput
from vigil.intake.models import Agency, Channel, Kind

REASON_MAX = 2000


def reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        help_text=_("Goes on the incident's timeline."),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    reason = reason_field()


class MergeForm(forms.Form):
    sources = forms.TypedMultipleChoiceField(
        label=_("Merge these incidents into this one"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    reason = reason_field()

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sources"].choices = candidates  # type: ignore[attr-defined]


class SplitForm(forms.Form):
    reports = forms.MultipleChoiceField(
        label=_("Move these reports to a new incident"), widget=forms.CheckboxSelectMultiple
    )
    reason = reason_field()

    def __init__(self, *args: Any, report_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reports"].choices = report_choices  # type: ignore[attr-defined]


def _max_length(name: str) -> int:
    return int(FieldReport._meta.get_field(name).max_length or 200)  # type: ignore[union-attr]


class FieldReportForm(forms.Form):
    """SALUTE (size, activity, location, unit, time, equipment) plus the outcome."""

    on_scene = forms.BooleanField(label=_("I was on scene and saw this myself"), required=False, initial=True)
    size = forms.CharField(
        label=_("Size"), help_text=_("How many agents and vehicles."), max_length=_max_length("size"), required=False
    )
    activity = forms.CharField(
        label=_("Activity"),
        help_text=_("What they were doing."),
        max_length=_max_length("activity"),
        required=False,
    )
    location = forms.CharField(
        label=_("Location"), help_text=_("Where exactly; kept encrypted."), max_length=500, required=False
    )
    unit = forms.CharField(
        label=_("Unit"),
        help_text=FieldReport._meta.get_field("unit").help_text,
        max_length=_max_length("unit"),
        required=False,
    )
    observed_time = forms.CharField(
        label=_("Time"), help_text=_("When you saw it."), max_length=_max_length("observed_time"), required=False
    )
    equipment = forms.CharField(
        label=_("Equipment"),
        help_text=_("Uniforms, weapons, vehicles (no licence plates)."),
        max_length=_max_length("equipment"),
        required=False,
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


WHEN_CHOICES = [
    ("0", _("Happening now")),
    ("15", _("About 15 minutes ago")),
    ("30", _("About 30 minutes ago")),
    ("60", _("About an hour ago")),
    ("120", _("About 2 hours ago")),
    ("240", _("About 4 hours ago")),
    ("", _("Don't know")),
]


class CallLogForm(forms.Form):
    """A hotline call, typed by the dispatcher while the caller is on the line."""

    kind = forms.ChoiceField(label=_("What is happening"), choices=Kind.choices, initial=Kind.HOME)
    address = forms.CharField(
        label=_("Where"),
        help_text=_("Address, cross streets or landmark; kept encrypted."),
        max_length=500,
        required=False,
    )
    zip_code = forms.RegexField(
        label=_("ZIP code"),
        regex=r"^\d{5}$",
        max_length=5,
        required=False,
        error_messages={"invalid": _("A ZIP code has 5 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    when = forms.TypedChoiceField(
        label=_("When"), choices=WHEN_CHOICES, coerce=int, empty_value=None, required=False, initial="0"
    )
    agents_count = forms.IntegerField(label=_("Agents seen"), min_value=0, max_value=999, required=False)
    vehicles_count = forms.IntegerField(label=_("Vehicles seen"), min_value=0, max_value=999, required=False)
    agency = forms.ChoiceField(label=_("Agency"), choices=Agency.choices, initial=Agency.UNKNOWN)
    details = forms.CharField(
        label=_("What the caller saw"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    contact_phone = forms.CharField(
        label=_("Call-back number"),
        help_text=_("Only if the caller agrees. Kept encrypted and deleted after a few days."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    language = forms.ChoiceField(
        label=_("Caller's language"), choices=[("es", _("Spanish")), ("en", _("English"))], initial="es"
    )
    chapter = forms.ModelChoiceField(label=_("Chapter"), queryset=Chapter.objects.none(), empty_label=None)

    def __init__(self, *args: Any, chapters: list[Chapter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chapter"]
        field.queryset = Chapter.objects.filter(pk__in=[c.pk for c in chapters])  # type: ignore[attr-defined]
        if len(chapters) == 1:
            field.initial = chapters[0].pk
            field.widget = forms.HiddenInput()

    def clean_contact_phone(self) -> str:
        text: str = self.cleaned_data["contact_phone"].strip()
        if not text:
            return ""
        try:
            return normalize_phone(text)
        except InvalidPhone:
            raise forms.ValidationError(_("This does not look like a phone number.")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("address") and not cleaned.get("zip_code") and not self.has_error("zip_code"):
            raise forms.ValidationError(_("Give a place: an address or a ZIP code."))
        return cleaned

    def report_input(self) -> ReportInput:
        data = self.cleaned_data
        minutes = data.get("when")
        observed = None if minutes is None else timezone.now() - timedelta(minutes=minutes)
        return ReportInput(
            channel=Channel.HOTLINE,
            kind=data["kind"],
            details=data["details"],
            address=data["address"],
            zip_code=data["zip_code"],
            observed_at=observed,
            agents_count=data["agents_count"],
            vehicles_count=data["vehicles_count"],
            agency=data["agency"],
            language=data["language"],
            contact_phone=data["contact_phone"],
        )
