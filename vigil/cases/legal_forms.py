"""Forms of a case's legal section and the facility import (vigil.cases.legal_views,
vigil.cases.facility_views).

Only the fields listed here are read from a POST (D3). Every text field has a length limit,
so a 1 MB field is a 400 with a message, never a 500. Dates are typed in the network's time
zone and stored in UTC (responders.forms.LocalDateTimeField).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vigil.cases.models import (
    BondStatus,
    DeadlineKind,
    Facility,
    HearingKind,
    LocatorResult,
    LocatorSource,
    Representation,
)
from vigil.core.forms import LocalDateTimeField
from vigil.responders.forms import CleanCharField

SHORT = 200
NOTE = 2000
# The facility CSV: at most this many bytes and data rows.
IMPORT_MAX_BYTES = 1024 * 1024
IMPORT_MAX_ROWS = 2000


def facility_choices(facilities: Sequence[Facility]) -> list[tuple[str, str]]:
    return [("", gettext("— choose —"))] + [(str(f.pk), f.name) for f in facilities]


class _FacilityChoice(forms.Form):
    """A form with a `facility` choice among the chapter's directory."""

    def __init__(self, *args: Any, facilities: Sequence[Facility], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.facilities = {str(f.pk): f for f in facilities}
        field = self.fields["facility"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = facility_choices(facilities)

    def chosen_facility(self) -> Facility | None:
        return self.facilities.get(str(self.cleaned_data.get("facility") or ""))


class DetentionForm(_FacilityChoice):
    facility = forms.ChoiceField(label=_("Facility from the directory"), required=False)
    facility_other = CleanCharField(
        label=_("Or another place"),
        max_length=SHORT,
        required=False,
        help_text=_("A field office or county jail that is not in the directory."),
    )
    from_at = LocalDateTimeField(label=_("Held there since"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("facility") and not str(data.get("facility_other", "")).strip():
            raise forms.ValidationError(gettext("Choose a facility or write where they are held."))
        if data.get("facility") and str(data.get("facility_other", "")).strip():
            raise forms.ValidationError(gettext("Choose a facility or write another place, not both."))
        return data


class LocatorForm(_FacilityChoice):
    source = forms.ChoiceField(label=_("Where you checked"), choices=LocatorSource.choices)
    result = forms.ChoiceField(label=_("Result"), choices=LocatorResult.choices)
    facility = forms.ChoiceField(label=_("Facility (if found or transferred)"), required=False)
    note = CleanCharField(label=_("Note"), max_length=NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LegalForm(forms.Form):
    representation = forms.ChoiceField(label=_("Representation"), choices=Representation.choices)
    attorney = CleanCharField(
        label=_("Attorney or legal-aid organization"),
        max_length=SHORT,
        required=False,
        help_text=_("Name and how to reach them."),
    )
    bond_status = forms.ChoiceField(label=_("Bond"), choices=BondStatus.choices)
    bond_amount = forms.DecimalField(
        label=_("Bond amount (USD)"),
        required=False,
        min_value=Decimal(0),
        max_digits=9,
        decimal_places=2,
    )
    bond_paid_at = LocalDateTimeField(label=_("Bond paid on"), required=False)
    bond_paid_by = CleanCharField(label=_("Paid by"), max_length=SHORT, required=False)
    bond_refund = CleanCharField(
        label=_("Refund"), max_length=SHORT, required=False, help_text=_("Amount, to whom, and when.")
    )


class HearingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=HearingKind.choices)
    court = CleanCharField(label=_("Court"), max_length=SHORT)
    at = LocalDateTimeField(label=_("Date and time"))


class HearingUpdateForm(forms.Form):
    """An outcome, or a new date (a reschedule: its reminders start over)."""

    at = LocalDateTimeField(label=_("Date and time"))
    court = CleanCharField(label=_("Court"), max_length=SHORT)
    outcome = CleanCharField(
        label=_("Outcome"), max_length=NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeadlineForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=DeadlineKind.choices)
    due_at = LocalDateTimeField(label=_("Due"))
    note = CleanCharField(label=_("Note"), max_length=NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeadlineDoneForm(forms.Form):
    """done=1 marks the deadline met; done=0 opens it again."""

    done = forms.TypedChoiceField(
        label=_("Deadline"),
        choices=[("1", _("Met: filed or done")), ("0", _("Still open"))],
        coerce=lambda v: v == "1",
        initial="1",
    )


class FacilityImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: name, operator, address, phone, visiting_rules. A header row, UTF-8, at most 2,000 rows."
        ),
    )
