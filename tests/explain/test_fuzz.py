"""Property tests: explain() answers for any text and stays fast on hostile input."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai_doctor.explainer import explain, render_text, to_dict

FRAGMENTS = st.sampled_from(
    [
        "AADSTS70011",
        "DefaultAzureCredential failed to retrieve a token from the included credentials.",
        "Attempted credentials:\n\t",
        "EnvironmentCredential: ",
        "{'error': {'code': ",
        '{"statusCode": 401',
        "Error code: 404 - ",
        "\\n",
        "\x1b[31m",
        "eyJhbGciOiJIUzI1NiJ9.",
        "CredentialUnavailableError: ",
        "- ",
        "}",
        "{",
        "'",
        '"',
        "\\",
        "AzureCliCredential: Please run 'az login'",
        "HTTP/1.1 200 OK",
    ]
)


def check(text: str) -> None:
    explanation = explain(text)
    assert explanation.diagnoses
    assert render_text(explanation)
    json.dumps(to_dict(explanation))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_decoded(data: bytes) -> None:
    check(data.decode("utf-8", errors="replace"))
    check(data.decode("latin-1"))


@settings(max_examples=80, deadline=None)
@given(st.lists(FRAGMENTS, max_size=60).map("".join))
def test_structured_fragments(text: str) -> None:
    check(text)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.sampled_from(["a", "{", "x ", "AADSTS", "\\n", "eyJ", "169.254.169.254 ", "'"]))
def test_huge_inputs(unit: str) -> None:
    check(unit * (1_000_000 // len(unit)))


def test_deeply_nested_json() -> None:
    check('{"a":' * 5000 + "1" + "}" * 5000)
    check("{'a': " * 3000 + "None" + "}" * 3000)
    check("[" * 10000 + "]" * 10000)


def test_many_open_braces() -> None:
    check("{" * 10000)
    check("{" * 10000 + "AADSTS70011" + "}" * 10)
