"""When no credential source gets a token, the verdict names the cause of the source that was meant:
the evidence order of azure/intent.py, unit-tested, and machines of each kind through the real
credential stage (real azure-identity, fake az/azd/pwsh processes, the loopback stand-in)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from aoai_doctor.azure.intent import Evidence, intent_of, rank
from tests.test_credentials import doctor, problem

ALL_UNAVAILABLE = [("EnvironmentCredential", "env_credential_incomplete"),
                   ("WorkloadIdentityCredential", "workload_identity_incomplete"),
                   ("ManagedIdentityCredential", "managed_identity_unavailable"),
                   ("SharedTokenCacheCredential", "cli_not_logged_in"),
                   ("VisualStudioCodeCredential", "cli_not_logged_in"),
                   ("AzureCliCredential", "cli_not_installed"),
                   ("AzurePowerShellCredential", "cli_not_installed"),
                   ("AzureDeveloperCliCredential", "cli_not_installed")]


def test_a_default_machine_shows_no_intent() -> None:
    assert rank(ALL_UNAVAILABLE, environ={}) == []


def test_the_evidence_order() -> None:
    causes = [*ALL_UNAVAILABLE[:5], ("AzureCliCredential", "cli_not_logged_in"),
              ("AzurePowerShellCredential", "cli_not_installed"), ("AzureDeveloperCliCredential", "cli_timeout")]
    ranked = rank(causes, environ={})
    assert [(i.source, i.evidence) for i in ranked] == [("AzureCliCredential", Evidence.INSTALLED),
                                                       ("AzureDeveloperCliCredential", Evidence.INSTALLED)]
    assert ranked[0].why == "az is installed but signed out"  # a tie goes to the chain's order
    env = {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token"}
    assert rank(causes, environ=env)[0].source == "ManagedIdentityCredential"  # variables beat a tool
    pinned = rank(causes, environ=env, allowed=("AzurePowerShellCredential",))
    assert (pinned[0].source, pinned[0].evidence) == ("AzurePowerShellCredential", Evidence.PINNED)
    answered = intent_of("ManagedIdentityCredential", "managed_identity_not_assigned")
    assert answered is not None and answered.evidence is Evidence.ANSWERED
    refused = intent_of("AzureCliCredential", "tenant_not_allowed")
    assert refused is not None and refused.evidence is Evidence.SIGNED_IN


def test_az_installed_but_signed_out_is_named(tools: Callable[..., None]) -> None:
    tools("az")  # the fake az answers "Please run 'az login'" with no token set
    code, checks, _text = doctor()
    chain = problem(checks["AOAI210"])
    assert code == 1 and chain["cause"] == "cli_not_logged_in"
    assert "the one meant is AzureCliCredential (az is installed but signed out)" in chain["message"]
    assert "az login" in chain["fix"]


def test_a_pinned_source_is_named_even_when_it_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureDeveloperCliCredential")
    code, checks, _text = doctor()
    chain = problem(checks["AOAI210"])
    assert code == 1 and chain["cause"] == "cli_not_installed"
    assert "AZURE_TOKEN_CREDENTIALS allows only AzureDeveloperCliCredential" in chain["message"]


def test_variables_outrank_a_signed_out_tool(tools: Callable[..., None], monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: os.PathLike[str]) -> None:
    tools("az")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", os.fspath(tmp_path) + "/token")  # no client or tenant id
    code, checks, _text = doctor()
    chain = problem(checks["AOAI210"])
    assert code == 1 and chain["cause"] == "workload_identity_incomplete"
    assert "(AZURE_FEDERATED_TOKEN_FILE is set)" in chain["message"]
    assert "AzureCliCredential (az is installed but signed out)" in chain.get("detail", "")


def test_a_given_token_makes_the_chain_information_only(standin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--token-file means that token: a chain that stops at a broken service principal is still reported,
    but the exit code is the given token's call."""
    from tests.test_credentials import user_token

    s = standin("healthy")
    os.environ["AZURE_CLIENT_SECRET"] = "not-the-secret-0123456789"  # EnvironmentCredential now fails hard
    token = tmp_path / "token.jwt"
    token.write_text(user_token(s), encoding="utf-8")
    code, checks, _text = doctor("--select", "AOAI3", "--no-live", "--token-file", str(token))
    assert checks["AOAI210"]["status"] == "fail" and not checks["AOAI210"]["required"]
    assert problem(checks["AOAI210"])["cause"] == "client_secret_invalid"
    assert checks["AOAI302"]["status"] == "pass"
    assert code == 0


@pytest.mark.parametrize(("printed", "cause", "words"), [
    ("not-a-jwt", "other", "is not a JWT"),
    ("expired", "token_expired", "before it arrived"),
])
def test_a_source_that_returns_no_usable_token_fails_and_nothing_is_sent_on(
        standin, tools, monkeypatch: pytest.MonkeyPatch, printed: str, cause: str, words: str) -> None:  # type: ignore[no-untyped-def]
    from tests.test_credentials import user_token

    s = standin("healthy", env=False)
    tools("az")  # the fake az prints FAKE_AZ_TOKEN as its accessToken
    if printed == "not-a-jwt":
        monkeypatch.setenv("FAKE_AZ_MODE", "opaque")
        monkeypatch.setenv("FAKE_AZ_TOKEN", "<html>Sign in to continue</html>")
    else:
        monkeypatch.setenv("FAKE_AZ_TOKEN", user_token(s, lifetime=-7200))
    code, checks, _text = doctor("--select", "AOAI3")
    source = problem(checks["AOAI206"])
    assert checks["AOAI206"]["status"] == "fail" and source["cause"] == cause and words in source["message"]
    assert problem(checks["AOAI210"])["cause"] == cause  # the chain stops at it: a failure, not a winner
    assert checks["AOAI302"]["status"] == "skip"  # no token to check, none sent on
    assert code == 1
