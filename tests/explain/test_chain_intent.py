"""explain ranks a pasted DefaultAzureCredential chain as run does: when every source is unavailable, the
one that shows intent (a developer tool installed but signed out) names the cause; a chain where nothing
shows intent is client_config_missing. Texts: azure-identity 1.27's own messages."""

from __future__ import annotations

import aoai_doctor
from aoai_doctor.explainer import explain

HEAD = "DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials:\n"
LINES = {
    "EnvironmentCredential": "EnvironmentCredential authentication unavailable. Environment variables are not fully "
                             "configured.",
    "ManagedIdentityCredential": "ManagedIdentityCredential authentication unavailable, no response from the IMDS "
                                 "endpoint.",
    "SharedTokenCacheCredential": "SharedTokenCacheCredential authentication unavailable. No accounts were found in "
                                  "the cache.",
    "AzureCliCredential": "Azure CLI not found on path",
    "AzurePowerShellCredential": "PowerShell is not installed",
    "AzureDeveloperCliCredential": "Azure Developer CLI could not be found. Please visit https://aka.ms/azure-dev for "
                                   "installation instructions and then,once installed, authenticate to your Azure "
                                   "account using 'azd auth login'.",
}


def chain(**replaced: str) -> str:
    return HEAD + "".join(f"\t{name}: {replaced.get(name, text)}\n" for name, text in LINES.items())


def test_nothing_shows_intent() -> None:
    assert aoai_doctor.explain(chain()).cause == "client_config_missing"


def test_a_tool_installed_but_signed_out_is_the_one_meant() -> None:
    text = chain(AzureDeveloperCliCredential="Please run 'azd auth login' from a command prompt to authenticate "
                 "before using this credential.")
    answer = explain(text)
    assert answer.best.cause == "cli_not_logged_in"
    assert "the one meant is AzureDeveloperCliCredential (azd is installed but signed out)" in answer.best.explanation


def test_a_signed_out_tool_outranks_an_identity_endpoint_that_answered() -> None:
    text = chain(AzureCliCredential="Please run 'az login' to set up an account",
                 ManagedIdentityCredential="ManagedIdentityCredential authentication unavailable. The requested "
                 "identity has not been assigned to this resource.")
    assert aoai_doctor.explain(text).cause == "cli_not_logged_in"  # a tool signed out (3) beats an answer (2)
