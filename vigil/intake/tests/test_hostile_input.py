"""E1: hostile input to the public form never causes a 5xx and never stores anything."""

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from vigil.intake.models import Report
from vigil.intake.tests.helpers import report_fields, send_report

TEXT_FIELDS = ["address", "zip_code", "details", "contact_phone"]
ALL_FIELDS = [
    *TEXT_FIELDS,
    "kind",
    "agency",
    "observed_at",
    "agents_count",
    "vehicles_count",
    "latitude",
    "longitude",
    "pow_token",
    "pow_answer",
    "nojs",
]
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data; boundary=",
    "image/jpeg",
]
examples = hypothesis_settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def generous_limits(settings, tmp_path):
    settings.INTAKE_RATE_PER_HOUR = 100_000
    settings.MEDIA_ROOT = tmp_path


def assert_refused_clearly(response) -> None:
    assert 400 <= response.status_code < 500, response.status_code
    assert 'role="alert"' in response.content.decode()
    assert Report.objects.count() == 0


def post_raw(body: bytes, content_type: str = "application/x-www-form-urlencoded", **headers: str):
    return Client().generic("POST", "/report/", body, content_type=content_type, headers=headers)


def encoded(fields: dict[str, str], raw: dict[str, bytes]) -> bytes:
    parts = [urlencode(fields)] + [f"{name}={quote(value)}" for name, value in raw.items()]
    return "&".join(parts).encode()


@examples
@given(field=st.sampled_from(TEXT_FIELDS), before=st.text(max_size=20), after=st.text(max_size=20))
def test_nul_characters_are_refused_in_every_text_field(db, field, before, after):
    response = send_report(Client(), **{field: f"{before}\x00{after}"})

    assert_refused_clearly(response)


def test_the_refusal_is_in_the_language_of_the_person(neighbour, db):
    response = send_report(neighbour, details="hola\x00", headers={"accept-language": "es"})

    assert response.status_code == 400
    assert "Los caracteres nulos no están permitidos." in response.content.decode()


@examples
@given(
    field=st.sampled_from(TEXT_FIELDS),
    surrogate=st.integers(min_value=0xD800, max_value=0xDFFF).map(chr),
    text=st.text(max_size=10),
)
def test_lone_surrogates_are_refused(db, field, surrogate, text):
    fields = report_fields()
    del fields[field]
    value = (text + surrogate).encode("utf-8", "surrogatepass")

    response = post_raw(encoded(fields, {field: value}))

    assert_refused_clearly(response)
    assert "could not be read" in response.content.decode()


@examples
@given(field=st.sampled_from(TEXT_FIELDS), junk=st.binary(min_size=1, max_size=20))
def test_invalid_utf8_is_refused(db, field, junk):
    value = b"\xff" + junk + b"\xc3"
    fields = report_fields()
    del fields[field]

    response = post_raw(encoded(fields, {field: value}))

    assert_refused_clearly(response)


@pytest.mark.parametrize("field", [name for name in ALL_FIELDS if name != "nojs"])
def test_a_megabyte_in_any_field_is_refused(db, field):
    response = send_report(Client(), **{field: "9" * 1_000_000})

    assert_refused_clearly(response)


def test_ten_thousand_fields_are_refused_urlencoded(db):
    body = "&".join(f"f{n}=1" for n in range(10_000)).encode()

    assert_refused_clearly(post_raw(body))


def test_ten_thousand_fields_are_refused_as_multipart(db):
    response = Client().post("/report/", {**report_fields(), **{f"f{n}": "1" for n in range(10_000)}})

    assert_refused_clearly(response)


def test_a_body_over_the_size_limit_is_refused_with_413(db):
    body = encoded(report_fields(), {"details": b"x" * (13 * 1024 * 1024)})

    response = post_raw(body)

    assert response.status_code == 413
    assert_refused_clearly(response)


@examples
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(CONTENT_TYPES))
def test_random_bytes_with_any_content_type_are_refused(db, body, content_type):
    assert_refused_clearly(post_raw(body, content_type))


def test_a_multipart_body_cut_off_in_the_middle_is_refused(db):
    body = b'--xyz\r\nContent-Disposition: form-data; name="details"\r\n\r\nhello'

    assert_refused_clearly(post_raw(body, "multipart/form-data; boundary=xyz"))


numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e309", "-0", "0x10", "½", "٣", "1_000", " 7 ", "", "NaN", "inf"]),
    st.text(max_size=12),
)


@examples
@given(
    agents=numbers,
    vehicles=numbers,
    latitude=numbers,
    longitude=numbers,
    when=st.one_of(
        st.datetimes().map(lambda value: value.strftime("%Y-%m-%dT%H:%M")),
        st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59", "2025-03-09T02:30", "2025-13-40T25:61"]),
        st.text(max_size=20),
    ),
)
def test_absurd_numbers_and_dates_never_cause_a_server_error(db, agents, vehicles, latitude, longitude, when):
    before = Report.objects.count()

    response = send_report(
        Client(),
        agents_count=agents,
        vehicles_count=vehicles,
        latitude=latitude,
        longitude=longitude,
        observed_at=when,
    )

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert Report.objects.count() == before
    else:
        report = Report.objects.order_by("-received_at").first()
        assert report is not None
        assert report.agents_count is None or 0 <= report.agents_count <= 999
        assert report.vehicles_count is None or 0 <= report.vehicles_count <= 999


@examples
@given(values=st.dictionaries(st.sampled_from(ALL_FIELDS), st.text(max_size=200)))
def test_any_text_in_any_field_never_causes_a_server_error(db, values):
    response = send_report(Client(), **values)

    assert response.status_code in (200, 400)


def test_a_request_django_cannot_parse_elsewhere_gets_the_translated_400_page(db, settings):
    settings.DEBUG = False
    body = "&".join(f"f{n}=1" for n in range(10_000)).encode()

    response = Client().generic(
        "POST",
        "/i18n/setlang/",
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"accept-language": "es"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert '<html lang="es">' in page
    assert "no se guardó nada" in page
