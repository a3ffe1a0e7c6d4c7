"""Scopes and tokens for today's targets (AOAI301, AOAI302): the Foundry project audience, the Foundry scope on
other endpoints, and a token's cloud read from its audience, its issuer and the authority it came from.

The pure reading of claims gets unit tests; the checks run on a real Target with tokens signed by the stand-in."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import pytest

from aoai_doctor import config
from aoai_doctor.azure.chain import SOURCES, State, predict
from aoai_doctor.azure.endpoints import COGNITIVE_SERVICES_APP_ID, Cloud
from aoai_doctor.azure.jwt import Identity, decode_claims, issuer_cloud, issuer_clouds, token_cloud
from aoai_doctor.check import CheckContext
from aoai_doctor.checks.token import Scope, TokenClaims
from aoai_doctor.facts import SourceProbe
from aoai_doctor.model import Finding, Severity
from aoai_doctor.redaction import Secret
from aoai_doctor.standin import StandIn, load_scenario

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PUBLIC_AUD = "https://cognitiveservices.azure.com"
GOV_AUD = "https://cognitiveservices.azure.us"
CHINA_AUD = "https://cognitiveservices.azure.cn"
AI_AUD = "https://ai.azure.com"
STS = f"https://sts.windows.net/{TID}/"
STS_CHINA = f"https://sts.chinacloudapi.cn/{TID}/"


# --- the pure reading ---------------------------------------------------------------------------------------------


def test_sts_windows_net_is_shared_by_the_public_cloud_and_us_government() -> None:
    assert issuer_clouds(STS) == {Cloud.PUBLIC, Cloud.US_GOV}
    assert issuer_cloud(STS) is None
    assert issuer_cloud(STS_CHINA) is Cloud.CHINA
    assert issuer_cloud(f"https://login.microsoftonline.us/{TID}/v2.0") is Cloud.US_GOV
    assert issuer_clouds("https://127.0.0.1:8443/tenant/") == frozenset()
    assert token_cloud({"aud": "api://x", "iss": "https://127.0.0.1:8443/t/"}, "http://127.0.0.1:8443").evidence == ()


@pytest.mark.parametrize(
    ("claims", "authority", "cloud", "conflicting"),
    [
        ({"aud": GOV_AUD, "iss": STS}, None, Cloud.US_GOV, False),  # a v1 Azure Government token
        ({"aud": PUBLIC_AUD, "iss": STS}, None, Cloud.PUBLIC, False),
        ({"aud": f"{PUBLIC_AUD}/", "iss": f"https://login.microsoftonline.com/{TID}/v2.0"}, None, Cloud.PUBLIC, False),
        ({"aud": COGNITIVE_SERVICES_APP_ID, "iss": STS}, None, None, False),  # nothing tells the two apart
        ({"aud": COGNITIVE_SERVICES_APP_ID, "iss": STS}, "https://login.microsoftonline.us", Cloud.US_GOV, False),
        ({"aud": COGNITIVE_SERVICES_APP_ID, "iss": STS}, "login.microsoftonline.com", Cloud.PUBLIC, False),
        ({"aud": CHINA_AUD, "iss": STS_CHINA}, None, Cloud.CHINA, False),
        ({"aud": AI_AUD, "iss": STS}, None, Cloud.PUBLIC, False),
        ({"aud": GOV_AUD, "iss": STS_CHINA}, None, None, True),
        ({"aud": COGNITIVE_SERVICES_APP_ID, "iss": STS_CHINA}, "https://login.microsoftonline.us", Cloud.CHINA, False),
        ({"aud": "api://something", "iss": "https://127.0.0.1:8443/t/"}, "http://127.0.0.1:8443", None, False),
    ],
)
def test_token_cloud(claims: dict[str, str], authority: str | None, cloud: Cloud | None, conflicting: bool) -> None:
    read = token_cloud(claims, authority)
    assert (read.cloud, read.conflicting) == (cloud, conflicting)


# --- the checks ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> Iterator[StandIn]:
    """One stand-in per module, for its token key only."""
    s = StandIn(load_scenario("healthy")).start()
    try:
        yield s
    finally:
        s.stop()


def mint(signer: StandIn, aud: str, iss: str = STS) -> str:
    now = int(time.time())
    return signer.mint_access_token({
        "aud": aud, "iss": iss, "tid": TID, "oid": "0b7e4c1e-1111-4c4c-9c9c-000000000001", "idtyp": "app",
        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "iat": now, "nbf": now, "exp": now + 3600})


def target(endpoint: str, *, token: str | None = None, scope: str | None = None) -> config.Target:
    overrides = config.Overrides(endpoint=endpoint, deployment="chat", scope=scope,
                                 token=Secret(token) if token else None,
                                 token_source="flag --token-file token.jwt" if token else None)
    return config.resolve_target(overrides, {}, None, config.ChecksFile(None))


def problems(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in findings if f.severity is not Severity.INFO]


def claims_check(t: config.Target, environ: Mapping[str, str] | None = None,
                 facts: tuple[object, ...] = ()) -> tuple[Finding, ...]:
    return TokenClaims().run(CheckContext(target=t, environ=environ or {}, facts=facts)).findings


def test_a_government_token_fits_a_government_endpoint(signer: StandIn) -> None:
    # iss sts.windows.net used to read as the public cloud: an error for every Azure Government token.
    findings = claims_check(target("https://gov-res.openai.azure.us", token=mint(signer, GOV_AUD)))
    assert problems(findings) == []
    assert "cloud evidence: aud https://cognitiveservices.azure.us (Azure Government)" in (findings[0].detail or "")


def test_a_public_token_on_a_government_endpoint_is_one_error(signer: StandIn) -> None:
    findings = claims_check(target("https://gov-res.openai.azure.us", token=mint(signer, PUBLIC_AUD)))
    (error,) = problems(findings)
    assert (error.severity, error.cause) == (Severity.ERROR, "scope_wrong_resource")
    assert "another cloud than the endpoint (Azure Government)" in error.message
    assert "aud https://cognitiveservices.azure.com (public cloud)" in error.message
    assert error.fix and "AzureUSGovernment" in error.fix and "https://cognitiveservices.azure.us/.default" in error.fix


def test_a_china_token_on_a_china_endpoint(signer: StandIn) -> None:
    token = mint(signer, CHINA_AUD, STS_CHINA)
    assert problems(claims_check(target("https://cn-res.openai.azure.cn", token=token))) == []


def test_the_issuer_alone_can_name_the_cloud(signer: StandIn) -> None:
    token = mint(signer, COGNITIVE_SERVICES_APP_ID, STS_CHINA)
    (error,) = problems(claims_check(target("https://res.openai.azure.com", token=token)))
    assert "iss host sts.chinacloudapi.cn (Azure China)" in error.message


def chain_facts(signer: StandIn, source: str, aud: str) -> tuple[object, ...]:
    token = mint(signer, aud)
    claims = decode_claims(token) or {}
    probe = SourceProbe(source, State.SUCCEEDED, 12.0, identity=Identity.from_claims(claims), claims=claims,
                        expires_on=int(claims["exp"]), token=Secret(token))
    return probe, predict(SOURCES, {source: State.SUCCEEDED})


def test_the_authority_a_credential_signed_in_at_decides_a_shared_issuer(signer: StandIn) -> None:
    environ = {"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us"}
    facts = chain_facts(signer, "EnvironmentCredential", COGNITIVE_SERVICES_APP_ID)
    (error,) = problems(claims_check(target("https://res.openai.azure.com"), environ, facts))
    assert "authority login.microsoftonline.us (Azure Government)" in error.message
    # The Azure CLI signs in at its own cloud, not AZURE_AUTHORITY_HOST: then the shared issuer decides nothing.
    facts = chain_facts(signer, "AzureCliCredential", COGNITIVE_SERVICES_APP_ID)
    assert problems(claims_check(target("https://res.openai.azure.com"), environ, facts)) == []


def test_a_project_takes_only_the_foundry_audience(signer: StandIn) -> None:
    project = "https://name.services.ai.azure.com/api/projects/p"
    assert problems(claims_check(target(project, token=mint(signer, AI_AUD)))) == []
    (error,) = problems(claims_check(target(project, token=mint(signer, PUBLIC_AUD))))
    assert error.severity is Severity.ERROR and error.cause == "scope_wrong_resource"
    assert "accepts only https://ai.azure.com" in error.message and "agent-framework#7201" in (error.detail or "")
    assert error.fix == "request the token for https://ai.azure.com/.default (AIProjectClient.get_openai_client() does)"


def test_the_foundry_audience_elsewhere(signer: StandIn) -> None:
    token = mint(signer, AI_AUD)
    assert problems(claims_check(target("https://name.services.ai.azure.com/openai/v1", token=token))) == []
    (warning,) = problems(claims_check(target("https://res.openai.azure.com", token=token)))
    assert (warning.severity, warning.cause) == (Severity.WARNING, "scope_wrong_resource")
    assert "Foundry (AIServices) resource" in warning.message
    (error,) = problems(claims_check(target("https://gov-res.openai.azure.us", token=token)))
    assert error.severity is Severity.ERROR and "(Azure Government)" in error.message


def scope_check(t: config.Target) -> tuple[Finding, ...]:
    return Scope().run(CheckContext(target=t, environ={})).findings


@pytest.mark.parametrize(
    ("endpoint", "scope", "severity", "text"),
    [
        ("https://name.services.ai.azure.com/api/projects/p", None, Severity.INFO,
         "scope https://ai.azure.com/.default (derived from the endpoint) fits the endpoint"),
        ("https://name.services.ai.azure.com/api/projects/p", "https://cognitiveservices.azure.com/.default",
         Severity.ERROR, "the Foundry project endpoint takes https://ai.azure.com/.default"),
        ("https://res.openai.azure.com", "https://ai.azure.com/.default", Severity.WARNING,
         "may be a resource of kind OpenAI"),
        ("https://name.services.ai.azure.com/openai/v1", "https://ai.azure.com/.default", Severity.INFO,
         "fits the endpoint"),
        ("https://name.services.ai.azure.com/models", "https://ai.azure.com", Severity.ERROR, "lacks /.default"),
        ("https://gov-res.openai.azure.us", "https://ai.azure.com/.default", Severity.ERROR,
         "the endpoint is in Azure Government"),
    ],
)
def test_scope(endpoint: str, scope: str | None, severity: Severity, text: str) -> None:
    findings = scope_check(target(endpoint, scope=scope))
    worst = max(findings, key=lambda f: f.severity)
    assert worst.severity is severity and text in worst.message, findings


def test_the_foundry_scope_on_a_foundry_host_says_why() -> None:
    (note,) = scope_check(target("https://name.services.ai.azure.com/openai/v1", scope="https://ai.azure.com/.default"))
    assert "azure-sdk-for-net#50872" in (note.detail or "")

