"""Key rotation (A7) and key generation for operators."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from vigil.core import crypto
from vigil.core.models import AuditEvent, Chapter
from vigil.core.tests.crypto_helpers import data_keys, new_report, raw
from vigil.intake.models import Report

OLD = "old1:" + crypto.new_key_text()
NEW = "new2:" + crypto.new_key_text()
ROOT = Path(__file__).resolve().parents[3]


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def key_ids() -> list[str]:
    ids = []
    for row in Report.objects.values_list("address", "details", "contact_phone"):
        ids += [crypto.key_id_of(bytes(value)) for value in row if value is not None]
    return ids


def test_rotation_moves_every_value_to_the_new_key(chapter: Chapter) -> None:
    with data_keys(OLD):
        reports = [
            new_report(chapter, details=f"details {i}", address=f"{i} W 18th St", contact_phone="+13125550100")
            for i in range(25)
        ]
        new_report(chapter, details="no address")
    assert reports

    with data_keys(f"{NEW},{OLD}"):
        output = rotate("--batch-size", "7")
        assert "intake.Report: 26 rows re-encrypted (76 values), 0 unreadable" in output
        assert set(key_ids()) == {"new2"}
        for i, report in enumerate(reports):
            fresh = Report.objects.get(pk=report.pk)
            assert fresh.details == f"details {i}"
            assert fresh.address == f"{i} W 18th St"
            assert fresh.contact_phone == "+13125550100"
        assert AuditEvent.objects.filter(action="keys.rotate", object_id="new2").count() == 1

        # Running it again (or after an interruption) has nothing left to do.
        assert "Done: 0 rows re-encrypted" in rotate()

    # The old key can now be dropped.
    with data_keys(NEW):
        assert Report.objects.get(pk=reports[3].pk).details == "details 3"


def test_a_rotation_interrupted_half_way_finishes_on_the_next_run(chapter: Chapter) -> None:
    with data_keys(OLD):
        reports = [new_report(chapter, details=f"details {i}") for i in range(10)]
    with data_keys(f"{NEW},{OLD}"):
        # As if the first run had committed the first batches and been killed.
        for report in reports[:4]:
            report.details = Report.objects.get(pk=report.pk).details
            report.save(update_fields=["details"])
        before = {r.pk: raw(r, "details") for r in reports[:4]}
        assert "10 rows" not in rotate()
        assert set(key_ids()) == {"new2"}
        assert {r.pk: raw(r, "details") for r in reports[:4]} == before


def test_unreadable_values_are_counted_and_left_alone(chapter: Chapter) -> None:
    with data_keys(OLD):
        report = new_report(chapter, details="written under the old key")
    with data_keys(NEW), pytest.raises(CommandError, match="1 values could not be decrypted"):
        rotate()
    assert crypto.key_id_of(raw(report, "details")) == "old1"


def test_generate_keys_prints_a_usable_block() -> None:
    out = StringIO()
    call_command("generate_keys", "--kid", "k2026", stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().splitlines() if line and not line.startswith("#"))
    assert set(values) == {"VIGIL_SECRET_KEY", "VIGIL_DATA_KEYS", "VIGIL_BLIND_INDEX_KEY", "VIGIL_RATE_LIMIT_KEY"}
    assert len(values["VIGIL_SECRET_KEY"]) >= 50
    primary, keys = crypto.parse_data_keys(values["VIGIL_DATA_KEYS"])
    assert primary == "k2026" and len(keys["k2026"]) == 32
    assert len({values["VIGIL_BLIND_INDEX_KEY"], values["VIGIL_RATE_LIMIT_KEY"], values["VIGIL_DATA_KEYS"][6:]}) == 3


def test_generate_keys_rotate_puts_a_new_key_before_the_current_ones() -> None:
    with data_keys(OLD):
        out = StringIO()
        call_command("generate_keys", "--rotate", "--kid", "new3", stdout=out)
    line = [x for x in out.getvalue().splitlines() if x.startswith("VIGIL_DATA_KEYS=")][0]
    primary, keys = crypto.parse_data_keys(line.split("=", 1)[1])
    assert primary == "new3" and set(keys) == {"new3", "old1"}


def test_generate_keys_runs_before_anything_is_configured() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [sys.executable, "-m", "vigil.core.management.commands.generate_keys"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "VIGIL_DATA_KEYS=k" in result.stdout
