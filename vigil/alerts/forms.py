"""Forms of the alert pages. Each form only checks shape; the actions decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vigil.alerts.actions import FIRST_KINDS, MAX_RING, MAX_TEMPLATE_LENGTH
from vigil.alerts.models import AlertKind

RING_CHOICES = [
    (0, _("Only the incident's zone")),
    (1, _("Plus neighbouring zones (1 ring of cells)")),
    (2, _("Plus zones up to 2 rings away")),
    (3, _("Plus zones up to 3 rings away")),
][: MAX_RING + 1]


class ComposeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type of alert"), choices=[(k.value, k.label) for k in AlertKind if k in FIRST_KINDS]
    )
    ring = forms.TypedChoiceField(label=_("Area"), choices=RING_CHOICES, coerce=int, initial=0)
    drill = forms.BooleanField(
        label=_("Drill (only drill participants, labelled as a drill)"), required=False, initial=False
    )


class TemplateForm(forms.Form):
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_TEMPLATE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Placeholders: {zone} {time} {network}. No names, addresses or phone numbers: SMS is not secret."),
        strip=True,
    )
