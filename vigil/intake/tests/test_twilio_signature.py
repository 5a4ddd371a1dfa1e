"""X-Twilio-Signature, checked against the vectors Twilio publishes with its own libraries."""

from __future__ import annotations

from vigil.intake.twilio_signature import compute_signature, is_valid_signature

# Twilio's documented example (twilio.com/docs/usage/security, and the tests of twilio-python).
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def as_lists(params: dict[str, str]) -> list[tuple[str, list[str]]]:
    return [(key, [value]) for key, value in params.items()]


def test_it_computes_twilios_documented_example_signature():
    assert compute_signature(DOC_TOKEN, DOC_URL, as_lists(DOC_PARAMS)) == DOC_SIGNATURE


def test_the_order_fields_arrive_in_does_not_matter():
    reversed_params = dict(reversed(list(DOC_PARAMS.items())))
    assert compute_signature(DOC_TOKEN, DOC_URL, as_lists(reversed_params)) == DOC_SIGNATURE


def test_repeated_keys_sign_like_twilios_libraries():
    # twilio-python's vector for "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234".
    params = [("Sid", ["CA123"]), ("SidAccount", ["AC123"]), ("Digits", ["5678", "1234"])]
    assert compute_signature(DOC_TOKEN, DOC_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_it_accepts_the_documented_request():
    assert is_valid_signature(DOC_TOKEN, DOC_URL, as_lists(DOC_PARAMS), DOC_SIGNATURE)


def test_it_refuses_another_token():
    assert not is_valid_signature("54321", DOC_URL, as_lists(DOC_PARAMS), DOC_SIGNATURE)


def test_it_refuses_a_changed_field():
    forged = {**DOC_PARAMS, "Digits": "1235"}
    assert not is_valid_signature(DOC_TOKEN, DOC_URL, as_lists(forged), DOC_SIGNATURE)


def test_it_refuses_an_added_or_removed_field():
    added = {**DOC_PARAMS, "Body": "ICE at 18th"}
    removed = {k: v for k, v in DOC_PARAMS.items() if k != "Digits"}
    assert not is_valid_signature(DOC_TOKEN, DOC_URL, as_lists(added), DOC_SIGNATURE)
    assert not is_valid_signature(DOC_TOKEN, DOC_URL, as_lists(removed), DOC_SIGNATURE)


def test_it_refuses_another_url():
    assert not is_valid_signature(DOC_TOKEN, DOC_URL + "&baz=3", as_lists(DOC_PARAMS), DOC_SIGNATURE)
    assert not is_valid_signature(DOC_TOKEN, DOC_URL.replace("https", "http"), as_lists(DOC_PARAMS), DOC_SIGNATURE)


def test_without_a_token_it_refuses_everything_even_a_signature_made_with_an_empty_key():
    empty_key_signature = compute_signature("", DOC_URL, as_lists(DOC_PARAMS))
    assert not is_valid_signature("", DOC_URL, as_lists(DOC_PARAMS), empty_key_signature)


def test_a_missing_or_garbage_header_is_refused_without_an_error():
    for header in ["", "not base64", "ñ" * 28, "\udcff", DOC_SIGNATURE[:-1], DOC_SIGNATURE + "="]:
        assert not is_valid_signature(DOC_TOKEN, DOC_URL, as_lists(DOC_PARAMS), header)
