"""Every string a community member or volunteer sees exists in English and Spanish.

makemessages runs over a copy of the source, so a new string that nobody translated
fails here (and the checked-in catalogue is never rewritten by the test suite).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Entry:
    msgid: str = ""
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False


def parse_po(text: str) -> list[Entry]:
    entries: list[Entry] = []
    for block in text.split("\n\n"):
        entry = Entry()
        current = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.fuzzy = "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                current = "msgid_plural"
            elif line.startswith("msgid "):
                current = "msgid"
                entry.msgid = line[7:-1]
            elif line.startswith("msgstr"):
                current = "msgstr"
                entry.msgstr.append(line.split(" ", 1)[1][1:-1])
            elif line.startswith('"') and current == "msgid":
                entry.msgid += line[1:-1]
            elif line.startswith('"') and current == "msgstr":
                entry.msgstr[-1] += line[1:-1]
        if entry.msgid:
            entries.append(entry)
    return entries


def missing_spanish(po_text: str) -> list[str]:
    return [e.msgid for e in parse_po(po_text) if e.fuzzy or any(not s for s in e.msgstr)]


def test_the_parser_spots_untranslated_and_fuzzy_entries():
    po = 'msgid "Send"\nmsgstr "Enviar"\n\nmsgid "New"\nmsgstr ""\n\n#, fuzzy\nmsgid "Old"\nmsgstr "Viejo"\n'
    assert missing_spanish(po) == ["New", "Old"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext: apt-get install gettext")
def test_every_visible_string_has_a_spanish_translation(tmp_path):
    work = tmp_path / "src"
    shutil.copytree(ROOT / "vigil", work / "vigil", ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copytree(ROOT / "locale", work / "locale")
    shutil.copy(ROOT / "manage.py", work / "manage.py")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vigil.settings_test", VIGIL_VAR_DIR=str(tmp_path / "var"))
    env.pop("VIGIL_TEST_DATABASE", None)
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete", "-v0"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    po = (work / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    missing = missing_spanish(po)
    assert missing == [], f"{len(missing)} strings have no Spanish translation (run `make messages`): {missing[:20]}"
