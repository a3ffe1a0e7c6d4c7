"""The motivating failure: DefaultAzureCredential ending in AADSTS70011 for a bare resource scope."""

from __future__ import annotations

from aoai_doctor.explainer import Confidence, VerdictStatus, explain, render_text, to_dict

# DefaultAzureCredential (azure-identity) with the token requested for "https://cognitiveservices.azure.com"
# instead of ".../.default": EnvironmentCredential and ManagedIdentityCredential are unavailable, the shared
# token cache sends the bare resource and Entra ID answers AADSTS70011 (message text as reported in
# Azure-Samples/ai-rag-chat-evaluator#87 and Azure/azure-powershell#22180; chain layout per
# shared/reference/azure-identity-offline.md §6).
SEED = """azure.core.exceptions.ClientAuthenticationError: DefaultAzureCredential failed to retrieve a token \
from the included credentials.
Attempted credentials:
\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not \
fully configured.
Visit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to troubleshoot this issue.
\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the \
IMDS endpoint.
\tSharedTokenCacheCredential: Azure Active Directory error '(invalid_scope) AADSTS70011: The provided \
request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not \
valid. The scope https://cognitiveservices.azure.com offline_access openid profile is not valid. The scope \
format is invalid. Scope must be in a valid URI form <https://example/scope> or a valid Guid <guid/scope>.
Trace ID: 6f9ef8d7-2c3c-4b9e-9a6e-2a1d5c9f4b00
Correlation ID: 1c7e6a8b-3f0d-4e2b-8a51-7d2f0e9c6a11
Timestamp: 2024-05-13 22:45:00Z'
To mitigate this issue, please refer to the troubleshooting guidelines here at \
https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."""


def test_seed_is_scope_missing_default_with_high_confidence() -> None:
    best = explain(SEED).best
    assert best.cause == "scope_missing_default"
    assert best.confidence is Confidence.HIGH
    assert best.confirm_with == "AOAI301"
    assert best.docs == "docs/causes/scope_missing_default.md"


def test_seed_fix_names_default_scope_and_warns_about_cli() -> None:
    best = explain(SEED).best
    assert "https://cognitiveservices.azure.com/.default" in best.fix
    assert "AzureCliCredential only hides the bug" in best.fix


def test_seed_evidence_points_at_the_failing_credential() -> None:
    best = explain(SEED).best
    assert best.evidence.startswith("SharedTokenCacheCredential:")
    assert "AADSTS70011" in best.evidence


def test_seed_chain_verdicts() -> None:
    verdicts = explain(SEED).credentials
    assert [(v.credential, v.status, v.cause) for v in verdicts] == [
        ("EnvironmentCredential", VerdictStatus.UNAVAILABLE, "env_credential_incomplete"),
        ("ManagedIdentityCredential", VerdictStatus.UNAVAILABLE, "managed_identity_unavailable"),
        ("SharedTokenCacheCredential", VerdictStatus.FAILED, "scope_missing_default"),
    ]


def test_seed_renderings() -> None:
    explanation = explain(SEED)
    text = render_text(explanation)
    assert text.startswith("scope_missing_default (high confidence)")
    assert "Confirm with: aoai-doctor run --select AOAI301" in text
    data = to_dict(explanation)
    assert data["causes"][0]["cause"] == "scope_missing_default"
    assert data["causes"][0]["confidence"] == "high"
    assert [c["status"] for c in data["credentials"]] == ["unavailable", "unavailable", "failed"]
