"""docs/data-inventory.md lists every column the way the code actually stores it (A2)."""

import re
from pathlib import Path

from vigil.core.inventory import inventory

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-inventory.md"


def documented() -> dict[str, str]:
    rows = re.findall(r"^\| `([a-z0-9_]+\.[a-z0-9_]+)` \| ([a-z ]+) \|", DOC.read_text(encoding="utf-8"), re.M)
    return dict(rows)


def test_every_column_is_documented_as_it_is_stored():
    in_doc = documented()
    actual = {f"{table}.{column}": kind for table, column, kind in inventory()}
    undocumented = sorted(set(actual) - set(in_doc))
    wrong = sorted(c for c in actual if c in in_doc and in_doc[c] != actual[c])
    assert undocumented == [], "run `python manage.py data_inventory` and describe these in docs/data-inventory.md"
    assert wrong == []


def test_sensitive_columns_are_never_plaintext():
    actual = {f"{table}.{column}": kind for table, column, kind in inventory()}
    for column in ["intake_report.details", "intake_report.address", "intake_report.contact_phone"]:
        assert actual[column] == "ciphertext"
