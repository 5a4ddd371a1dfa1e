"""Forms of the event pages. They check shape only; the actions decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigil.core.forms import LocalDateTimeField
from vigil.organizing.actions import MAX_VALID_MONTHS, EventInput
from vigil.organizing.models import EventKind, RsvpAnswer
from vigil.responders.models import ResponderRole

MAX_PLACE = 500
MAX_DETAILS = 4000


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=EventKind.choices)
    training_role = forms.ChoiceField(
        label=_("Role this training teaches"),
        choices=[("", _("(none)")), *ResponderRole.choices],
        required=False,
        help_text=_("Taking attendance records this training for everyone who came."),
    )
    valid_months = forms.IntegerField(
        label=_("Months the training stays current"), min_value=1, max_value=MAX_VALID_MONTHS, initial=12
    )
    title = forms.CharField(label=_("Title"), max_length=120, strip=True)
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))
    place = forms.CharField(
        label=_("Place"),
        max_length=MAX_PLACE,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown only to approved volunteers of the chapter, never sent by text."),
    )
    details = forms.CharField(
        label=_("Details"), max_length=MAX_DETAILS, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        if data.get("kind") == EventKind.MEETING and data.get("training_role"):
            self.add_error("training_role", _("Only a training teaches a role."))
        return data

    def to_input(self) -> EventInput:
        data = self.cleaned_data
        return EventInput(
            kind=data["kind"],
            title=data["title"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            place=data["place"],
            details=data.get("details") or "",
            training_role=data.get("training_role") or "",
            valid_months=data["valid_months"],
        )


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(choices=RsvpAnswer.choices)
