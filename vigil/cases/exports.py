"""A case for its attorney, as CSV or PDF (built in memory, never written to disk).

Both formats hold the same sections, in this order: the case and the person, detention
history, locator checks, hearings, deadlines, bond, family contacts, children, tasks, notes.
Every CSV cell is neutralised (SECURITY-TESTS.md E3) with the same rule as the evidence
custody sheet (vigil.responders.evidence.neutralise).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from vigil.cases.models import CHECKLIST, Case
from vigil.core.fields import LockedValue, row_key_bytes
from vigil.responders.evidence import neutralise as _neutralise_text


def neutralise(value: object) -> str:
    """E3: one CSV cell as text that no spreadsheet runs as a formula (a leading = + - @,
    tab or carriage return gets a single quote in front). None is an empty cell."""
    return _neutralise_text("" if value is None else str(value))


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list[str]]


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def a_number_text(digits: str) -> str:
    """123456789 as A-123-456-789, the way forms and courts write it."""
    return f"A-{digits[:3]}-{digits[3:6]}-{digits[6:]}" if len(digits) == 9 and digits.isdigit() else digits


def _task_order(kind: str) -> int:
    return CHECKLIST.index(kind) if kind in CHECKLIST else len(CHECKLIST)


def is_locked(case: Case) -> bool:
    """True when the case's data key is gone or not loaded: an export would be empty locks."""
    if case.data_key is None or row_key_bytes(case.data_key) is None:
        return True
    return isinstance(case.name, LockedValue)


def sections(case: Case) -> list[Section]:
    """Everything the attorney gets, as labelled tables. One query per kind of row."""
    person = Section(
        _("Case and person"),
        [_("Field"), _("Value")],
        [
            [_("Case"), case.label],
            [_("Status"), case.get_status_display()],
            [_("Opened from"), case.get_opened_from_display()],
            [_("Opened at"), _when(case.opened_at)],
            [_("Closed at"), _when(case.closed_at)],
            [_("Outcome"), case.get_outcome_display() if case.outcome else ""],
            [_("Name"), _text(case.name)],
            [_("Date of birth"), _text(case.date_of_birth)],
            [_("A-number"), a_number_text(_text(case.a_number))],
            [_("Country of birth"), _text(case.country_of_birth)],
            [_("Languages"), _text(case.languages)],
            [_("Phone"), _text(case.phone)],
            [_("Taken at"), _when(case.taken_at)],
            [_("Place taken"), _text(case.taken_place)],
            [_("Summary"), _text(case.summary)],
            [_("Current facility"), case.current_facility.name if case.current_facility else ""],
            [_("Representation"), case.get_representation_display()],
            [_("Attorney"), _text(case.attorney)],
        ],
    )
    detentions = Section(
        _("Detention history"),
        [_("Facility"), _("From"), _("To")],
        [
            [d.facility.name if d.facility else d.facility_other, _when(d.from_at), _when(d.to_at)]
            for d in case.detentions.select_related("facility").order_by("from_at")
        ],
    )
    checks = Section(
        _("Locator checks"),
        [_("Checked at"), _("Source"), _("Result"), _("Facility"), _("Checked by"), _("Note")],
        [
            [
                _when(c.checked_at),
                c.get_source_display(),
                c.get_result_display(),
                c.facility.name if c.facility else "",
                c.checked_by.get_username() if c.checked_by else "",
                _text(c.note),
            ]
            for c in case.locator_checks.select_related("facility", "checked_by").order_by("checked_at")
        ],
    )
    hearings = Section(
        _("Hearings"),
        [_("Date"), _("Court"), _("Kind"), _("Outcome")],
        [[_when(h.at), h.court, h.get_kind_display(), _text(h.outcome)] for h in case.hearings.order_by("at")],
    )
    deadlines = Section(
        _("Deadlines"),
        [_("Due"), _("Kind"), _("Done"), _("Note")],
        [
            [_when(d.due_at), d.get_kind_display(), _when(d.done_at), _text(d.note)]
            for d in case.deadlines.order_by("due_at")
        ],
    )
    bond = Section(
        _("Bond"),
        [_("Field"), _("Value")],
        [
            [_("Bond status"), case.get_bond_status_display()],
            [_("Amount"), _text(case.bond_amount)],
            [_("Paid at"), _when(case.bond_paid_at)],
            [_("Paid by"), _text(case.bond_paid_by)],
            [_("Refund"), _text(case.bond_refund)],
        ],
    )
    family = Section(
        _("Family contacts"),
        [_("Name"), _("Relationship"), _("Phone"), _("Email"), _("Language"), _("Reminders")],
        [
            [
                _text(f.name),
                _text(f.relationship),
                _text(f.phone),
                _text(f.email),
                f.language,
                _("yes") if f.reminders else _("no"),
            ]
            for f in case.family.order_by("pk")
        ],
    )
    children = Section(
        _("Children"),
        [_("Name"), _("Age"), _("School"), _("Caregiver"), _("Safe since")],
        [
            [_text(c.name), _text(c.age), _text(c.school), _text(c.caregiver), _when(c.safe_at)]
            for c in case.children.order_by("pk")
        ],
    )
    tasks = Section(
        _("Tasks"),
        [_("Task"), _("Detail"), _("Owner"), _("Due"), _("Done")],
        [
            [
                t.get_kind_display(),
                _text(t.detail),
                t.owner.get_username() if t.owner else "",
                _when(t.due_at),
                _when(t.done_at),
            ]
            for t in sorted(
                case.tasks.select_related("owner").order_by("created_at"),
                key=lambda t: (t.created_at, _task_order(t.kind)),
            )
        ],
    )
    notes = Section(
        _("Notes"),
        [_("At"), _("Author"), _("Note")],
        [
            [_when(n.at), n.author.get_username() if n.author else "", _text(n.body)]
            for n in case.notes.select_related("author").order_by("at")
        ],
    )
    return [person, detentions, checks, hearings, deadlines, bond, family, children, tasks, notes]


def filename(case: Case, extension: str) -> str:
    """The case label only: never a name in a file name (it shows in download lists)."""
    return f"{case.label}.{extension}"


def build_csv(case: Case, *, generated_by: str, now: datetime) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(_("Case %(label)s — confidential") % {"label": case.label})])
    writer.writerow([neutralise(_("Generated at")), neutralise(_when(now))])
    writer.writerow([neutralise(_("Generated by")), neutralise(generated_by)])
    for section in sections(case):
        writer.writerow([])
        writer.writerow([neutralise(section.title)])
        writer.writerow([neutralise(cell) for cell in section.header])
        for row in section.rows:
            writer.writerow([neutralise(cell) for cell in row])
    # A BOM so spreadsheet programs read the accents as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- PDF ----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# DejaVu Sans is in the repository (fonts/LICENSE) rather than taken from the server, whose fonts
# are not guaranteed: an attorney's copy must print "Nguyễn" or "Łukasz" as written.
FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"


@functools.cache
def _drawable() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for (Latin with every accent, Greek, Cyrillic,
    and more; no Chinese, Japanese or Korean)."""
    with TTFont(FONTS / f"{FONT}.ttf", lazy=True) as font:
        return frozenset(font.getBestCmap())


def pdf_text(value: str) -> str:
    """Text the PDF's font can draw: a character it has no glyph for becomes "?" (the CSV export
    carries every character as written), and control characters go."""
    cleaned = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    drawable = _drawable()
    return "".join(c if c == "\n" or ord(c) in drawable else "?" for c in cleaned)


class _CasePdf(FPDF):
    def __init__(self, label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="Letter")
        self.label = label
        self.add_font(FONT, style="", fname=FONTS / f"{FONT}.ttf")
        self.add_font(FONT, style="B", fname=FONTS / f"{FONT}-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.set_title(pdf_text(f"Case {label}"))
        self.set_creator("Vigil")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        text = pdf_text(_("%(label)s - confidential - page %(page)s") % {"label": self.label, "page": self.page_no()})
        self.cell(0, 6, text, align="C")


def build_pdf(case: Case, *, generated_by: str, now: datetime) -> bytes:
    pdf = _CasePdf(case.label)
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=16)
    title = _("Case %(label)s — confidential") % {"label": case.label}
    pdf.cell(0, 10, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    generated = _("Generated at %(when)s by %(who)s") % {"when": _when(now), "who": generated_by}
    pdf.cell(0, 6, pdf_text(generated), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for section in sections(case):
        if pdf.get_y() > pdf.h - pdf.b_margin - 30:
            pdf.add_page()  # never a section title alone at the foot of a page
        pdf.set_font(FONT, style="B", size=12)
        pdf.cell(0, 8, pdf_text(section.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=9)
        if not section.rows:
            pdf.cell(0, 6, pdf_text(_("None recorded.")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
            continue
        widths = (1, 3) if len(section.header) == 2 else None
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=5, first_row_as_headings=True) as table:
            heading = table.row()
            for cell in section.header:
                heading.cell(pdf_text(cell))
            for values in section.rows:
                row = table.row()
                for cell in values:
                    row.cell(pdf_text(cell))
        pdf.ln(3)
    return bytes(pdf.output())
