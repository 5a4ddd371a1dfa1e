"""Per-row data keys (envelope encryption) and crypto-shredding, on a case as the host row."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from vigil.cases.actions import PersonInput, store_case
from vigil.cases.models import Case
from vigil.core import crypto
from vigil.core.fields import LockedValue
from vigil.core.models import Chapter, DataKey
from vigil.core.rowkeys import shred
from vigil.core.tests.crypto_helpers import data_keys

OLD = "old1:" + crypto.new_key_text()
NEW = "new2:" + crypto.new_key_text()


def a_case(chapter: Chapter, name: str = "Rosa Canary-Rowkey") -> Case:
    with transaction.atomic():
        return store_case(
            chapter_id=chapter.id,
            opened_from="hotline",
            person=PersonInput(name=name, a_number="A-123-456-789"),
            now=timezone.now(),
            actor="test",
        )


def fresh(case: Case) -> Case:
    return Case.objects.select_related("data_key").get(pk=case.pk)


def raw_name(case: Case) -> bytes:
    return bytes(Case.objects.filter(pk=case.pk).values_list("name", flat=True)[0])


def test_a_case_is_sealed_with_its_own_key_and_reads_back(chapter: Chapter) -> None:
    case = a_case(chapter)
    assert crypto.key_id_of(raw_name(case)) == crypto.ROW_KEY_ID
    assert b"Rosa" not in raw_name(case)
    assert fresh(case).name == "Rosa Canary-Rowkey"
    assert fresh(case).a_number == "123456789"


def test_a_value_moved_to_another_case_does_not_open(chapter: Chapter) -> None:
    first, second = a_case(chapter), a_case(chapter, "Other Person")
    Case.objects.filter(pk=second.pk).update(name=raw_name(first))
    assert isinstance(fresh(second).name, LockedValue)


def test_shredding_leaves_ciphertext_no_network_key_can_open(chapter: Chapter) -> None:
    case = a_case(chapter)
    copied = raw_name(case)  # what a backup taken before shredding would hold of this column
    assert shred(fresh(case).data_key_id)
    assert not DataKey.objects.filter(pk=str(case.data_key_id)).exists()
    assert isinstance(fresh(case).name, LockedValue)
    context = {"table": Case._meta.db_table, "column": "name", "row": str(case.pk)}
    for key in crypto.keyring().keys.values():
        with pytest.raises(crypto.TamperedCiphertext):
            crypto.decrypt_with_key(key, copied, **context)


def test_rotating_network_keys_rewraps_the_row_key_and_leaves_rows_alone(chapter: Chapter) -> None:
    with data_keys(OLD):
        case = a_case(chapter)
        before = raw_name(case)
    with data_keys(f"{NEW},{OLD}"):
        call_command("rotate_keys", stdout=StringIO())
        wrapped = bytes(DataKey.objects.filter(pk=str(case.data_key_id)).values_list("wrapped", flat=True)[0])
        assert crypto.key_id_of(wrapped) == "new2"
        assert raw_name(case) == before
    with data_keys(NEW):
        assert fresh(case).name == "Rosa Canary-Rowkey"


def test_without_the_network_key_a_case_reads_as_locked(chapter: Chapter) -> None:
    case = a_case(chapter)
    with data_keys(""):
        assert isinstance(fresh(case).name, LockedValue)
