"""G1/G2: missing, forged, expired or replayed proof of work is never accepted."""

import hashlib
import time
from datetime import timedelta

from django.core import signing
from django.utils import timezone

from vigil.core.models import UsedToken
from vigil.intake import pow
from vigil.intake.models import Report
from vigil.intake.tests.helpers import report_fields, send_report, solve, token_from


def test_the_form_token_is_solved_like_the_page_script_does(neighbour, db):
    token = token_from(neighbour.get("/").content.decode())

    response = send_report(neighbour, pow_token=token, pow_answer=solve(token))

    assert response.status_code == 200
    assert Report.objects.count() == 1


def test_a_report_without_a_token_is_refused(neighbour, db):
    response = send_report(neighbour, pow_token="", pow_answer="")

    assert response.status_code == 400
    assert "This form could not be checked" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_report_without_an_answer_is_refused_when_script_ran(neighbour, db):
    response = send_report(neighbour, pow_answer="")

    assert response.status_code == 400
    assert "had not finished getting the form ready" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_wrong_answer_is_refused(neighbour, db):
    token = pow.issue_token()
    wrong = next(str(n) for n in range(10_000) if not pow.is_solution(token, str(n), 8))

    response = send_report(neighbour, pow_token=token, pow_answer=wrong)

    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_a_token_signed_with_another_key_is_refused(neighbour, db):
    forged = signing.Signer(key="not-our-secret", salt=pow.SALT).sign_object({"n": "x", "t": int(time.time()), "b": 8})

    response = send_report(neighbour, pow_token=forged, pow_answer=solve(forged, 8))

    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_a_token_edited_to_ask_for_no_work_is_refused(neighbour, db):
    token = pow.issue_token()
    payload, _, signature = token.rpartition(":")
    easy = signing.b64_encode(b'{"n":"x","t":%d,"b":0}' % int(time.time())).decode()
    forged = f"{easy}:{signature}"

    response = send_report(neighbour, pow_token=forged, pow_answer="0")

    assert payload != easy
    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_a_token_older_than_two_hours_is_refused(neighbour, db):
    old = pow.issue_token(issued_at=time.time() - 2 * 3600 - 5)

    response = send_report(neighbour, pow_token=old, pow_answer=solve(old))

    assert response.status_code == 400
    assert "open for too long" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_refused_token_is_replaced_so_pressing_send_again_works(neighbour, db):
    old = pow.issue_token(issued_at=time.time() - 3 * 3600)
    response = send_report(neighbour, pow_token=old, pow_answer=solve(old))
    fresh = token_from(response.content.decode())

    again = send_report(neighbour, pow_token=fresh, pow_answer=solve(fresh))

    assert fresh != old
    assert again.status_code == 200
    assert Report.objects.count() == 1


def test_a_replayed_token_is_refused(neighbour, db):
    fields = report_fields()
    first = neighbour.post("/report/", fields)

    second = neighbour.post("/report/", fields)

    assert first.status_code == 200
    assert second.status_code == 400
    assert "already sent" in second.content.decode()
    assert Report.objects.count() == 1


def test_used_tokens_are_kept_as_a_digest_and_purged_once_expired(neighbour, db):
    stale = UsedToken.objects.create(digest="0" * 64, expires_at=timezone.now() - timedelta(minutes=1))
    fields = report_fields()

    neighbour.post("/report/", fields)

    kept = UsedToken.objects.get()
    assert kept.digest == hashlib.sha256(fields["pow_token"].encode()).hexdigest()
    assert fields["pow_token"] not in kept.digest
    assert not UsedToken.objects.filter(pk=stale.pk).exists()


def test_without_javascript_no_answer_is_needed_once_the_form_has_been_open_a_while(neighbour, db, settings):
    settings.INTAKE_NOJS_MIN_SECONDS = 15
    token = pow.issue_token(issued_at=time.time() - 20)

    response = send_report(neighbour, pow_token=token, pow_answer="", nojs="1")

    assert response.status_code == 200
    assert Report.objects.count() == 1


def test_without_javascript_a_form_sent_too_fast_is_refused_and_can_be_sent_again(neighbour, db, settings):
    settings.INTAKE_NOJS_MIN_SECONDS = 15
    token = pow.issue_token(issued_at=time.time() - 3)

    response = send_report(neighbour, pow_token=token, pow_answer="", nojs="1")

    assert response.status_code == 400
    assert "wait a few seconds" in response.content.decode()
    assert token_from(response.content.decode()) == token
    assert Report.objects.count() == 0


def test_without_javascript_a_token_is_still_needed_and_single_use(neighbour, db, settings):
    settings.INTAKE_NOJS_MIN_SECONDS = 0
    token = pow.issue_token()

    missing = send_report(neighbour, pow_token="", pow_answer="", nojs="1")
    first = send_report(neighbour, pow_token=token, pow_answer="", nojs="1")
    replay = send_report(neighbour, pow_token=token, pow_answer="", nojs="1")

    assert (missing.status_code, first.status_code, replay.status_code) == (400, 200, 400)
    assert Report.objects.count() == 1


def test_leading_zero_bits_counts_from_the_first_byte():
    assert pow.leading_zero_bits(b"\x00\x00\x80") == 16
    assert pow.leading_zero_bits(b"\x00\x1f\xff") == 11
    assert pow.leading_zero_bits(b"\xff") == 0
