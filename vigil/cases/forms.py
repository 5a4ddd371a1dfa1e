"""Forms of the case pages. They check shape (lengths, A-number, phone); the views decide who
may do what, and the actions store it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigil.accounts.models import User
from vigil.cases.actions import LONG, SHORT, PersonInput, normalize_a_number
from vigil.cases.board import NEEDS, assignable_people, chapter_staff
from vigil.core.forms import LocalDateTimeField
from vigil.core.phones import InvalidPhone, normalize_phone

LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
NOTE_MAX = LONG
DETAIL_MAX = 500


def _phone(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return normalize_phone(value)
    except InvalidPhone:
        raise forms.ValidationError(_("This is not a phone number we can use.")) from None


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=SHORT, strip=True)
    date_of_birth = forms.CharField(
        label=_("Date of birth"), max_length=40, required=False, strip=True, help_text=_("As known, e.g. 1984-03-12.")
    )
    a_number = forms.CharField(
        label=_("A-number"), max_length=20, required=False, strip=True, help_text=_("For example A-123-456-789.")
    )
    country_of_birth = forms.CharField(label=_("Country of birth"), max_length=SHORT, required=False, strip=True)
    languages = forms.CharField(label=_("Languages"), max_length=SHORT, required=False, strip=True)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, strip=True)
    taken_at = LocalDateTimeField(label=_("When they were taken"), required=False)
    taken_place = forms.CharField(label=_("Where they were taken"), max_length=SHORT, required=False, strip=True)
    summary = forms.CharField(
        label=_("What happened"), max_length=LONG, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean_a_number(self) -> str:
        try:
            return normalize_a_number(self.cleaned_data.get("a_number") or "")
        except ValueError:
            raise forms.ValidationError(_("An A-number has 8 or 9 digits, for example A-123-456-789.")) from None

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone") or "")

    def to_input(self) -> PersonInput:
        data = self.cleaned_data
        return PersonInput(
            name=data["name"],
            date_of_birth=data.get("date_of_birth") or "",
            a_number=data.get("a_number") or "",
            country_of_birth=data.get("country_of_birth") or "",
            languages=data.get("languages") or "",
            phone=data.get("phone") or "",
            taken_place=data.get("taken_place") or "",
            summary=data.get("summary") or "",
            taken_at=data.get("taken_at"),
        )


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_username()} ({obj.get_role_display()})"


def _owner_field(required: bool = False) -> _StaffChoice:
    return _StaffChoice(label=_("Owner"), queryset=User.objects.none(), required=required, empty_label=_("(nobody)"))


class TaskAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("Need"), choices=[(k.value, k.label) for k in NEEDS])
    detail = forms.CharField(
        label=_("Details"), max_length=DETAIL_MAX, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = _owner_field()
    due_at = LocalDateTimeField(label=_("Due"), required=False)

    def __init__(self, *args: Any, chapter_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = chapter_staff(chapter_id)  # type: ignore[attr-defined]


class TaskUpdateForm(forms.Form):
    action = forms.ChoiceField(choices=[("done", "done"), ("undo", "undo"), ("save", "save")])
    owner = _owner_field()
    due_at = LocalDateTimeField(label=_("Due"), required=False)

    def __init__(self, *args: Any, chapter_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = chapter_staff(chapter_id)  # type: ignore[attr-defined]


class FamilyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=SHORT, strip=True)
    relationship = forms.CharField(label=_("Relationship"), max_length=SHORT, required=False, strip=True)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, strip=True)
    email = forms.EmailField(label=_("Email"), max_length=SHORT, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES, initial="es")
    reminders = forms.BooleanField(
        label=_("Send hearing and deadline reminders"),
        required=False,
        initial=True,
        help_text=_("By text or email, in their language, with no names in the message."),
    )

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone") or "")


class ChildForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=SHORT, strip=True)
    age = forms.CharField(label=_("Age"), max_length=20, required=False, strip=True)
    school = forms.CharField(label=_("School"), max_length=SHORT, required=False, strip=True)
    caregiver = forms.CharField(label=_("Who is caring for them"), max_length=SHORT, required=False, strip=True)


class ChildSafeForm(forms.Form):
    mark_safe = forms.UUIDField()
    safe = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=NOTE_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 3}))


class AssignForm(forms.Form):
    op = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
    user = _StaffChoice(label=_("Staff member"), queryset=User.objects.none())

    def __init__(self, *args: Any, chapter_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = assignable_people(chapter_id)  # type: ignore[attr-defined]
