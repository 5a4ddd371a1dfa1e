"""The facility directory: who may see and import it, and the all-or-nothing CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import login
from vigil.accounts.models import User
from vigil.cases import facilities
from vigil.cases.models import Facility
from vigil.core.models import AuditEvent, Chapter

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "samples" / "facilities.csv"
HEADER = "name,operator,address,phone,visiting_rules\n"


def upload(content: bytes | str, name: str = "facilities.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def lucia(client: Client, legal_coordinator: User) -> Client:
    return login(client, legal_coordinator)


def post_file(client: Client, content: bytes | str, **extra: str) -> object:
    return client.post(reverse("facility_import"), {"file": upload(content), **extra})


def test_the_sample_file_imports_and_the_directory_lists_it(lucia: Client, chapter: Chapter) -> None:
    response = post_file(lucia, SAMPLE.read_bytes())
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert Facility.objects.filter(chapter=chapter).count() == 3
    event = AuditEvent.objects.get(action="facility.import")
    assert event.object_id == "3 rows"
    assert event.chapter == chapter

    page = lucia.get(response["Location"])  # type: ignore[index]
    assert page.status_code == 200
    assert "Lakeshore Processing Center (sample)" in page.content.decode()
    assert "3 facilities imported" in page.content.decode()


def test_importing_again_updates_by_name_and_keeps_other_chapters_apart(
    lucia: Client, chapter: Chapter, other_chapter: Chapter
) -> None:
    Facility.objects.create(chapter=other_chapter, name="Broadview", phone="000")
    post_file(lucia, HEADER + "Broadview,GEO,1 Main St,708-555-0100,Sundays\n")
    post_file(lucia, HEADER + "Broadview,GEO Group,1 Main St,708-555-0199,Saturdays\nKenosha,County,,,\n")
    mine = {f.name: f for f in Facility.objects.filter(chapter=chapter)}
    assert set(mine) == {"Broadview", "Kenosha"}
    assert mine["Broadview"].phone == "708-555-0199"
    assert mine["Broadview"].operator == "GEO Group"
    assert Facility.objects.get(chapter=other_chapter).phone == "000"


def test_a_file_with_only_some_columns_changes_only_those(lucia: Client, chapter: Chapter) -> None:
    Facility.objects.create(chapter=chapter, name="Broadview", operator="GEO", visiting_rules="Sundays")
    assert post_file(lucia, "phone,name\n708-555-0100,Broadview\n").status_code == 302  # type: ignore[attr-defined]
    facility = Facility.objects.get(chapter=chapter, name="Broadview")
    assert (facility.phone, facility.operator, facility.visiting_rules) == ("708-555-0100", "GEO", "Sundays")


def test_a_bad_row_refuses_the_whole_file_with_its_row_number(lucia: Client, chapter: Chapter) -> None:
    Facility.objects.create(chapter=chapter, name="Broadview", phone="708-555-0100")
    content = HEADER + "Broadview,GEO,1 Main St,999,Sundays\nKenosha,County,2 Main St,,\n,Nameless,3 Main St,,\n"
    response = post_file(lucia, content)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "row 4: the name is empty." in response.content.decode()  # type: ignore[attr-defined]
    assert list(Facility.objects.values_list("name", "phone")) == [("Broadview", "708-555-0100")]
    assert not AuditEvent.objects.filter(action="facility.import").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + "A,B,C,D\n", "row 2: 4 cells, the header has 5."),
        (HEADER + "A,,,,\nA,,,,\n", "row 3: the same name as row 2."),
        (HEADER + "A,,," + "1" * 41 + ",\n", "row 2: phone is longer than 40 characters."),
        ("title,operator\nA,B\n", "row 1: unknown column(s) title"),
        ("operator\nB\n", "row 1: the header row needs a name column."),
        (HEADER, "no facilities"),
        ("", "The submitted file is empty."),
        (HEADER + 'A,"unclosed\n', "not valid CSV"),
        ("name\n" + "".join(f"F{i}\n" for i in range(2001)), "more than 2,000 rows"),
    ],
)
def test_bad_files_are_a_400_with_a_clear_message(lucia: Client, content: str, message: str) -> None:
    response = post_file(lucia, content)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert not Facility.objects.exists()


def test_a_file_that_is_not_utf8_or_too_large_is_refused(lucia: Client) -> None:
    latin1 = (HEADER + "Centro de Detención,,,,\n").encode("latin-1")
    response = post_file(lucia, latin1)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "not UTF-8" in response.content.decode()  # type: ignore[attr-defined]
    big = HEADER + "A,,,," + "x" * (1024 * 1024) + "\n"
    assert post_file(lucia, big).status_code == 400  # type: ignore[attr-defined]
    assert post_file(lucia, b"\x00\x01\x02binary").status_code == 400  # type: ignore[attr-defined]
    assert lucia.post(reverse("facility_import"), {}).status_code == 400
    assert not Facility.objects.exists()


def test_a_byte_order_mark_is_fine(lucia: Client, chapter: Chapter) -> None:
    content = "\ufeff" + HEADER + "Centro de Detención Norte,,,,\n"
    assert post_file(lucia, content.encode("utf-8")).status_code == 302  # type: ignore[attr-defined]
    assert Facility.objects.get(chapter=chapter).name == "Centro de Detención Norte"


def test_formula_cells_are_stored_as_typed_and_stay_inert(lucia: Client, chapter: Chapter) -> None:
    formula = '=HYPERLINK("http://evil.example/x","Click")'
    content = HEADER + f'"{formula.replace(chr(34), chr(34) * 2)}",@SUM(1),+1,-1,"<b>bold</b>"\n'
    assert post_file(lucia, content).status_code == 302  # type: ignore[attr-defined]
    facility = Facility.objects.get(chapter=chapter)
    assert facility.name == formula
    assert facility.operator == "@SUM(1)"

    page = lucia.get(reverse("facility_list")).content.decode()
    assert "=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;Click&quot;)" in page
    assert 'href="http://evil.example' not in page
    assert "<b>bold</b>" not in page
    # In any CSV we write, a formula is text.
    assert facilities.neutralise(formula) == "'" + formula
    assert facilities.neutralise("@SUM(1)").startswith("'")
    assert facilities.neutralise("Broadview") == "Broadview"


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["legal_coordinator", "organizer"])
def test_legal_and_organizers_use_the_directory(client: Client, persona: str, request: pytest.FixtureRequest) -> None:
    login(client, request.getfixturevalue(persona))
    assert client.get(reverse("facility_list")).status_code == 200
    assert client.get(reverse("facility_import")).status_code == 200
    assert client.post(reverse("facility_import"), {"file": upload(HEADER + "A,,,,\n")}).status_code == 302


@pytest.mark.parametrize("persona", ["outsider", "dispatcher", "verifier", "volunteer", "admin_user"])
def test_everyone_else_gets_404_get_and_post(client: Client, persona: str, request: pytest.FixtureRequest) -> None:
    login(client, request.getfixturevalue(persona))
    for name in ("facility_list", "facility_import"):
        assert client.get(reverse(name)).status_code == 404
        assert client.post(reverse(name), {"file": upload(HEADER + "A,,,,\n")}).status_code == 404
    assert not Facility.objects.exists()


def test_the_anonymous_are_sent_to_log_in(neighbour: Client) -> None:
    for name in ("facility_list", "facility_import"):
        assert neighbour.get(reverse(name)).status_code == 302
        assert neighbour.post(reverse(name)).status_code == 302


def test_another_chapters_directory_is_a_404(lucia: Client, other_chapter: Chapter) -> None:
    Facility.objects.create(chapter=other_chapter, name="Hidden")
    assert lucia.get(reverse("facility_list") + f"?chapter={other_chapter.pk}").status_code == 404
    response = lucia.post(reverse("facility_import"), {"file": upload(HEADER + "A,,,,\n"), "chapter": other_chapter.pk})
    assert response.status_code == 404
    assert list(Facility.objects.values_list("name", flat=True)) == ["Hidden"]


def test_a_legal_coordinator_of_two_chapters_picks_one(
    client: Client, chapter: Chapter, other_chapter: Chapter, legal_coordinator: User
) -> None:
    legal_coordinator.chapters.add(other_chapter)
    login(client, legal_coordinator)
    client.post(reverse("facility_import"), {"file": upload(HEADER + "Cicero site,,,,\n"), "chapter": other_chapter.pk})
    assert Facility.objects.get(name="Cicero site").chapter == other_chapter
    page = client.get(reverse("facility_list") + f"?chapter={other_chapter.pk}").content.decode()
    assert "Cicero site" in page


def test_a_put_is_refused(lucia: Client) -> None:
    assert lucia.put(reverse("facility_list")).status_code == 405
