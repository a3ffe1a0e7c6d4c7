"""Echoed evidence never reproduces a pasted token, key or secret, not even partially."""

from __future__ import annotations

import pytest

from aoai_doctor.explainer import explain, render_text, to_dict
from aoai_doctor.redaction import scrub as redact

JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImxvY2FsIn0."
    "eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSIsIm9pZCI6IjEyMyJ9."
    "c2lnbmF0dXJlLXBhcnQtd2l0aC1lbm91Z2gtbGVuZ3RoLXRvLWxvb2stcmVhbA"
)
AOAI_KEY = "0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "Abc8Q~Zyxwvutsrqponmlkjihgfedcba0123456789"
SIG = "sp=r&st=2024&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"


def slices(secret: str, width: int = 12) -> list[str]:
    return [secret[i : i + width] for i in range(len(secret) - width + 1)]


def assert_no_slice(secret: str, text: str) -> None:
    leaked = [piece for piece in slices(secret) if piece in text]
    assert leaked == [], f"leaked {leaked[:1]}"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"token = {JWT}", JWT),
        (f"AccessToken(token='{JWT[:60]}", JWT[:60]),
        (f"'api-key': '{AOAI_KEY}'", AOAI_KEY),
        (f"api_key={AOAI_KEY} base=https://x.openai.azure.com", AOAI_KEY),
        (f"AZURE_OPENAI_API_KEY={AOAI_KEY}", AOAI_KEY),
        (f"client_secret={CLIENT_SECRET}&scope=https://cognitiveservices.azure.com/.default", CLIENT_SECRET),
        (f'{{"client_secret": "{CLIENT_SECRET}"}}', CLIENT_SECRET),
        (f"az login --service-principal -u app -p {CLIENT_SECRET} --tenant t", CLIENT_SECRET),
        (f"https://acct.blob.core.windows.net/c/b?{SIG}", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"),
        (
            "redirect?code=0.AAAAbcdefGHIJklmnop1234567890qrstuvWXYZ&state=1",
            "0.AAAAbcdefGHIJklmnop1234567890",
        ),
        (f'{{"access_token": "{JWT}", "expires_in": 3599}}', JWT),
    ],
)
def test_redact_removes_every_slice(text: str, secret: str) -> None:
    assert_no_slice(secret, redact(text))


def test_redact_keeps_error_codes_and_ids_readable() -> None:
    text = (
        'error code: DeploymentNotFound "code": "PermissionDenied" AADSTS7000215 '
        "Trace ID: 6bad8289-db4a-49da-8609-0848d8d71700 Failed to get access token: ClientAuthenticationError"
    )
    assert redact(text) == text


def test_explain_output_never_contains_a_pasted_secret() -> None:
    text = (
        f"Request headers:\n    'api-key': '{AOAI_KEY}'\n    'Authorization': 'Bearer {JWT}'\n"
        f"client_secret={CLIENT_SECRET}\n"
        "openai.AuthenticationError: Error code: 401 - {'error': {'code': '401', 'message': 'Access "
        "denied due "
        "to invalid subscription key or wrong API endpoint.'}}"
    )
    explanation = explain(text)
    rendered = render_text(explanation) + repr(to_dict(explanation))
    for secret in (AOAI_KEY, JWT, CLIENT_SECRET):
        assert_no_slice(secret, rendered)
    assert explanation.best.cause == "api_key_invalid"


def test_chain_verdict_messages_are_redacted() -> None:
    text = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tManagedIdentityCredential: Azure Arc managed identity configuration not "
        f'found in environment. Token request error: (invalid_request) {{"access_token": "{JWT}"}}'
    )
    explanation = explain(text)
    dumped = repr(to_dict(explanation))
    assert_no_slice(JWT, dumped)


@pytest.mark.parametrize("text", [
    "AZURE_PASSWORD=$ecretPassw0rd", "password: $upersecret99", "Ocp-Apim-Subscription-Key: $abcdef0123456789",
    "client_secret=$Xq7_secretvalue_2026", "api-key: $ABCDEF0123456789", "api-key: os.environ[abcdef123456]",
])
def test_a_secret_that_starts_like_a_reference_is_still_redacted(text: str) -> None:
    assert "<redacted>" in redact(text)


@pytest.mark.parametrize("text", [
    'headers = {"Ocp-Apim-Subscription-Key": os.environ["APIM_KEY"]}', "api-key: $AZURE_OPENAI_API_KEY",
    "key=${APIM_KEY}",
])
def test_a_fix_that_names_where_a_secret_comes_from_is_kept(text: str) -> None:
    assert redact(text) == text
