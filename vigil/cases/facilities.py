"""The facility directory: import from CSV, all or nothing.

Columns (a header row is required, in any order; only `name` must be there): name, operator,
address, phone, visiting_rules. UTF-8 with or without a byte-order mark, at most 1 MB and
2,000 rows. Rows are numbered as a spreadsheet shows them: the header is row 1.

Any bad row and nothing is changed: the caller gets every problem as "row N: what is wrong".
Good files upsert by (chapter, name). Cells are kept as the text they are; a cell that looks
like a formula (`=HYPERLINK(…)`) is stored as typed and shown as text (HTML escaping), and
`neutralise` makes it inert in any CSV we write (SECURITY-TESTS.md E3).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from vigil.cases.legal_forms import IMPORT_MAX_BYTES, IMPORT_MAX_ROWS
from vigil.cases.models import Facility
from vigil.core.audit import audit
from vigil.core.models import Chapter

COLUMNS = ("name", "operator", "address", "phone", "visiting_rules")
LIMITS = {"name": 200, "operator": 200, "address": 300, "phone": 40, "visiting_rules": 4000}
# Show at most this many problems at once.
MAX_PROBLEMS = 20
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ImportRefused(ValueError):
    """The file was refused; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FacilityRow:
    name: str
    operator: str = ""
    address: str = ""
    phone: str = ""
    visiting_rules: str = ""
    # The columns the file had: an import changes only those.
    columns: tuple[str, ...] = COLUMNS


def neutralise(cell: str) -> str:
    """E3: a spreadsheet must not run a cell as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _decode(data: bytes) -> str:
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportRefused([gettext("The file is larger than 1 MB.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise ImportRefused(
            [
                gettext("The file is not UTF-8 text (byte %(position)d). Save it as CSV UTF-8.")
                % {"position": problem.start}
            ]
        ) from None
    if "\x00" in text:
        raise ImportRefused([gettext("The file contains NUL characters: it is not a CSV file.")])
    if not text.strip():
        raise ImportRefused([gettext("The file is empty.")])
    return text


def _header(cells: list[str]) -> list[str]:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    problems = []
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        problems.append(
            gettext("row 1: unknown column(s) %(columns)s; the columns are %(known)s.")
            % {"columns": ", ".join(unknown)[:200], "known": ", ".join(COLUMNS)}
        )
    if "name" not in names:
        problems.append(gettext("row 1: the header row needs a name column."))
    if len(set(names)) != len(names):
        problems.append(gettext("row 1: a column appears twice."))
    if problems:
        raise ImportRefused(problems)
    return names


def parse(data: bytes) -> list[FacilityRow]:
    """The rows of a facility CSV, or ImportRefused with every problem found."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    rows: list[FacilityRow] = []
    seen: dict[str, int] = {}
    number = 1
    try:
        header = _header(next(reader))
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ImportRefused([gettext("The file has more than 2,000 rows.")])
            problem = _row_problem(number, cells, header, seen)
            if problem:
                problems.append(problem)
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            values = {column: cells[i].strip() for i, column in enumerate(header)}
            seen[values["name"]] = number
            rows.append(FacilityRow(**values, columns=tuple(header)))
    except csv.Error:
        problems.append(gettext("row %(row)d: this is not valid CSV (check the quotes).") % {"row": number + 1})
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused([gettext("The file has a header but no facilities.")])
    return rows


def _row_problem(number: int, cells: list[str], header: list[str], seen: dict[str, int]) -> str:
    if len(cells) != len(header):
        return gettext("row %(row)d: %(found)d cells, the header has %(expected)d.") % {
            "row": number,
            "found": len(cells),
            "expected": len(header),
        }
    values = dict(zip(header, (c.strip() for c in cells), strict=True))
    if not values["name"]:
        return gettext("row %(row)d: the name is empty.") % {"row": number}
    for column, value in values.items():
        if len(value) > LIMITS[column]:
            return gettext("row %(row)d: %(column)s is longer than %(limit)d characters.") % {
                "row": number,
                "column": column,
                "limit": LIMITS[column],
            }
        if column != "visiting_rules" and ("\n" in value or "\r" in value):
            return gettext("row %(row)d: %(column)s has a line break.") % {"row": number, "column": column}
    if values["name"] in seen:
        return gettext("row %(row)d: the same name as row %(other)d.") % {"row": number, "other": seen[values["name"]]}
    return ""


def import_rows(chapter: Chapter, rows: list[FacilityRow], *, actor: Any) -> tuple[int, int]:
    """Upsert the rows into the chapter's directory (caller's transaction); (created, updated)."""
    existing = {f.name: f for f in Facility.objects.filter(chapter=chapter, name__in=[r.name for r in rows])}
    created: list[Facility] = []
    updated: list[Facility] = []
    for row in rows:
        facility = existing.get(row.name)
        if facility is None:
            created.append(
                Facility(
                    chapter=chapter,
                    name=row.name,
                    operator=row.operator,
                    address=row.address,
                    phone=row.phone,
                    visiting_rules=row.visiting_rules,
                )
            )
            continue
        for column in row.columns:
            setattr(facility, column, getattr(row, column))
        updated.append(facility)
    Facility.objects.bulk_create(created)
    for facility in updated:
        facility.save(update_fields=["operator", "address", "phone", "visiting_rules", "updated_at"])
    audit(actor, "facility.import", chapter=chapter, object_type="cases.facility", object_id=f"{len(rows)} rows")
    return len(created), len(updated)
