"""Forms of the family plan pages (public) and the dispatcher's panic page (staff).

Only the fields listed here are read from a POST. Every text field has a max length; NUL and
lone surrogates are a 400 message, never a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from vigil.core.phones import InvalidPhone, normalize_phone
from vigil.families import plans
from vigil.families.models import Plan
from vigil.responders.forms import CleanCharField

LANGUAGE_CHOICES = [("en", pgettext_lazy("language", "English")), ("es", pgettext_lazy("language", "Spanish"))]
# Contact rows on the web form (blank rows are ignored).
CONTACT_ROWS = 3


def _text(label: Any, limit: int, *, rows: int = 0, help_text: Any = "", **attrs: str) -> CleanCharField:
    widget: forms.Widget = forms.Textarea(attrs={"rows": str(rows), **attrs}) if rows else forms.TextInput(attrs=attrs)
    return CleanCharField(label=label, max_length=limit, required=False, help_text=help_text, widget=widget)


def _phone_field(label: Any, *, required: bool = False) -> CleanCharField:
    return CleanCharField(
        label=label,
        max_length=40,
        required=required,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )


class ContactForm(forms.Form):
    name = _text(_("Name"), plans.SHORT, autocomplete="off")
    phone = _phone_field(_("Mobile phone"))
    language = forms.ChoiceField(label=_("Their language"), choices=LANGUAGE_CHOICES)
    message = _text(
        _("Message for them if you are detained"),
        plans.MESSAGE,
        rows=3,
        help_text=_("Up to 300 characters. Leave it as it is to send our standard message."),
    )
    trusted = forms.BooleanField(label=_("Trusted: may send the panic message for me"), required=False, initial=True)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("name") or "").strip() and not (data.get("phone") or "").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name, phone = (data.get("name") or "").strip(), (data.get("phone") or "").strip()
        if not name and not phone:
            return data
        if not name:
            self.add_error("name", gettext("Write this contact's name."))
        if not phone:
            self.add_error("phone", gettext("Write this contact's mobile phone number."))
        else:
            try:
                data["phone"] = normalize_phone(phone)
            except InvalidPhone:
                self.add_error("phone", gettext("This phone number does not look right."))
        return data

    def contact(self) -> plans.ContactInput:
        data = self.cleaned_data
        return plans.ContactInput(
            name=data["name"],
            phone=data["phone"],
            language=data["language"],
            message=data["message"],
            trusted=bool(data["trusted"]),
        )


def contact_forms(
    data: Any = None, *, rows: int = CONTACT_ROWS, initial: list[dict[str, Any]] | None = None, language: str = "es"
) -> list[ContactForm]:
    initial = initial or []
    forms_: list[ContactForm] = []
    for row in range(rows):
        start = (
            initial[row]
            if row < len(initial)
            else {
                "language": language,
                "message": plans.default_message(language),
                "trusted": True,
            }
        )
        forms_.append(ContactForm(data, prefix=f"c{row}", initial=start))
    return forms_


class PlanForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of your plan"), choices=LANGUAGE_CHOICES)
    name = _text(
        _("Your name"), plans.SHORT, help_text=_("So the legal team knows who to look for."), autocomplete="name"
    )
    phone = _phone_field(_("Your mobile phone (optional)"))
    zip_code = CleanCharField(
        label=_("Your ZIP code"),
        max_length=10,
        required=False,
        help_text=_("So the team of your area helps you."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    children_pickup = _text(_("Who picks up the children?"), plans.LONG, rows=2)
    school = _text(_("Their school or daycare"), plans.SHORT)
    documents = _text(_("Where are your important documents kept?"), plans.LONG, rows=2)
    attorney = _text(_("Your attorney, if you have one (name and phone)"), plans.SHORT)
    medical = _text(_("Medical needs or medicines"), plans.LONG, rows=2)
    notes = _text(_("Anything else the legal team should know"), plans.LONG, rows=3)
    consent = forms.BooleanField(
        label=_("The legal team may read my plan now (not only after a panic message)"), required=False
    )

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if not phone:
            return ""
        try:
            return normalize_phone(phone)
        except InvalidPhone:
            raise forms.ValidationError(gettext("This phone number does not look right.")) from None

    def clean_zip_code(self) -> str:
        code = (self.cleaned_data.get("zip_code") or "").strip()
        if code and not (len(code) == 5 and code.isdigit()):
            raise forms.ValidationError(gettext("A ZIP code has 5 digits."))
        return code

    def plan_input(self, contacts: list[ContactForm]) -> plans.PlanInput:
        data = self.cleaned_data
        return plans.PlanInput(
            contacts=[form.contact() for form in contacts if not form.is_blank()],
            name=data["name"],
            phone=data["phone"],
            zip_code=data.get("zip_code", ""),
            children_pickup=data["children_pickup"],
            school=data["school"],
            documents=data["documents"],
            attorney=data["attorney"],
            medical=data["medical"],
            notes=data["notes"],
            language=data["language"],
            consent=bool(data.get("consent")),
        )


class PinField(CleanCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("widget", forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not plans.valid_pin(value):
            raise forms.ValidationError(gettext("The PIN must be 4 to 8 digits."))


class NewPlanForm(PlanForm):
    pin = PinField(
        label=_("Choose a PIN (4 to 8 digits)"),
        required=False,
        help_text=_("You need it to change your plan. Leave it empty and we will choose one for you."),
    )
    field_order = ["language", "name", "phone", "zip_code"]


class OpenForm(forms.Form):
    code = CleanCharField(
        label=_("Plan code"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    pin = CleanCharField(
        label=_("PIN"), max_length=12, widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    )


class PinForm(forms.Form):
    pin = PinField(label=_("New PIN (4 to 8 digits)"), required=True)


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, delete my plan for good"), required=True)


class PanicCodeForm(forms.Form):
    code = CleanCharField(
        label=_("Plan code the caller gives you"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def initial_for(plan: Plan) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The edit form's values from a plan (decrypted with its key)."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    fields = ["name", "phone", "children_pickup", "school", "documents", "attorney", "medical", "notes"]
    values: dict[str, Any] = {name: text(getattr(plan, name)) for name in fields}
    values["language"] = plan.language
    values["consent"] = plan.consent_at is not None
    contacts = [
        {
            "name": text(c.name),
            "phone": text(c.phone),
            "language": c.language,
            "message": text(c.message),
            "trusted": c.trusted,
        }
        for c in plan.contacts.all()
    ]
    return values, contacts


class EditPlanForm(PlanForm):
    # The chapter is chosen once, when the plan is made.
    zip_code = None  # type: ignore[assignment]
    # Consent has its own buttons on the edit page.
    consent = None  # type: ignore[assignment]
