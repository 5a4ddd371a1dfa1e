"""G4: per-source limits on the public form, exact, with no IP address stored."""

import threading

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from vigil.core.http import client_ip
from vigil.core.models import RateBucket
from vigil.intake.models import Report
from vigil.intake.tests.helpers import report_fields, send_report


def test_the_report_after_the_hourly_limit_is_refused_with_429(neighbour, db, settings):
    settings.INTAKE_RATE_PER_HOUR = 4

    statuses = [send_report(neighbour).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    assert Report.objects.count() == 4


def test_the_rate_limit_message_is_clear_and_keeps_the_answers(neighbour, db, settings):
    settings.INTAKE_RATE_PER_HOUR = 1
    send_report(neighbour)

    response = send_report(neighbour, details="helicopter over the park")

    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many reports have come from your connection" in page
    assert "helicopter over the park" in page


def test_rate_buckets_hold_no_ip_address(neighbour, db, settings):
    settings.INTAKE_RATE_PER_HOUR = 2
    for _ in range(3):
        send_report(neighbour, headers={"x-forwarded-for": "203.0.113.9"})

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_ratebucket")
        rows = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert RateBucket.objects.exists()
    assert "127.0.0.1" not in rows
    assert "203.0.113" not in rows


def test_refused_forms_do_not_use_up_the_allowance(neighbour, db, settings):
    settings.INTAKE_RATE_PER_HOUR = 1

    send_report(neighbour, contact_phone="not a phone")
    response = send_report(neighbour)

    assert response.status_code == 200


def test_without_javascript_the_hourly_limit_is_tighter(neighbour, db, settings):
    settings.INTAKE_RATE_PER_HOUR = 6
    settings.INTAKE_NOJS_MIN_SECONDS = 0

    statuses = [send_report(neighbour, pow_answer="", nojs="1").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert send_report(neighbour).status_code == 200


def test_behind_a_proxy_each_forwarded_address_has_its_own_allowance(db, settings):
    settings.INTAKE_RATE_PER_HOUR = 1
    settings.PROXY_COUNT = 1
    first, second = Client(), Client()

    a = send_report(first, headers={"x-forwarded-for": "198.51.100.1"})
    b = send_report(second, headers={"x-forwarded-for": "198.51.100.2"})
    a_again = send_report(first, headers={"x-forwarded-for": "198.51.100.1"})

    assert (a.status_code, b.status_code, a_again.status_code) == (200, 200, 429)


def test_the_client_address_is_the_nth_from_the_right_behind_n_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7, 10.0.0.1")

    settings.PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.1"
    settings.PROXY_COUNT = 2
    assert client_ip(request) == "192.0.2.7"


def test_a_forged_forwarded_header_cannot_choose_the_address_behind_one_proxy(settings):
    settings.PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.7")

    assert client_ip(request) == "192.0.2.7"


def test_a_forwarded_value_that_is_not_an_address_counts_as_the_proxy_itself(settings):
    settings.PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="pick-my-own-bucket-42")

    assert client_ip(request) == "10.0.0.1"


def test_ipv6_clients_are_counted_per_64_block(settings):
    settings.PROXY_COUNT = 0
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    two = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:abcd::9")

    assert client_ip(one) == client_ip(two) == "2001:db8:1:2::/64"


@pytest.mark.django_db(transaction=True)
def test_the_limit_is_exact_when_reports_arrive_at_the_same_time(settings):
    settings.INTAKE_RATE_PER_HOUR = 5
    forms = [report_fields() for _ in range(12)]
    statuses: list[int] = []
    start = threading.Barrier(len(forms))

    def submit(fields: dict) -> None:
        client = Client()
        start.wait()
        statuses.append(client.post("/report/", fields).status_code)
        connection.close()

    threads = [threading.Thread(target=submit, args=(fields,)) for fields in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert Report.objects.count() == 5
