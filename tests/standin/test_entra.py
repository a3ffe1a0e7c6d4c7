"""The Entra stand-in driven by real azure-identity credentials (MSAL and azure-identity's own client)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    DefaultAzureCredential,
    EnvironmentCredential,
    SharedTokenCacheCredential,
    WorkloadIdentityCredential,
)

from aoai_doctor.standin import StandIn, load_scenario

SCOPE = "https://cognitiveservices.azure.com/.default"
_TRACE = re.compile(
    r" Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$"
)


def world(client: str, *, app: str = "", user: str = "", tenants: str = "") -> str:
    """A scenario with one app (``orders-api``), optional user, and the given ``[client]`` body."""
    return f"""
[[tenants]]
name = "contoso"
{tenants}

[[apps]]
name = "orders-api"
{app or "secret = true"}

{user}

[resource]
name = "contoso-openai"

[[deployments]]
name = "chat"
model = "gpt-4o-mini"

[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"

[client]
{client}
"""


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


# client secret ---------------------------------------------------------------------------------


def test_client_secret_token_claims(standin) -> None:
    s = standin("healthy")
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    claims = claims_of(token.token)
    app = s.directory.app_by_name("orders-api")
    tenant = s.scenario.tenant("contoso")
    assert claims["aud"] == "https://cognitiveservices.azure.com"
    assert claims["iss"] == f"https://sts.windows.net/{tenant.id}/"
    assert claims["tid"] == tenant.id
    assert claims["appid"] == app.client_id
    assert claims["oid"] == app.object_id
    assert claims["idtyp"] == "app"
    assert claims["appidacr"] == "1"
    assert claims["nbf"] <= claims["iat"] + 1 < claims["exp"]
    assert jwt.get_unverified_header(token.token)["alg"] == "RS256"
    assert token.token in s.issued_secrets()


def test_default_azure_credential_uses_environment(standin) -> None:
    standin("healthy")
    token = DefaultAzureCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert claims_of(token.token)["idtyp"] == "app"


def test_error_body_shape(standin) -> None:
    s = standin("invalid-secret")
    form = {
        "client_id": s.directory.app_by_name("orders-api").client_id,
        "grant_type": "client_credentials",
        "client_secret": "wrong",
        "scope": SCOPE,
    }
    tenant = s.scenario.tenant("contoso").id
    response = requests.post(
        f"{s.authority_host}/{tenant}/oauth2/v2.0/token",
        data=form,
        headers={"client-request-id": "11111111-2222-3333-4444-555555555555"},
        verify=s.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 401
    body = response.json()
    assert set(body) >= {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["correlation_id"] == "11111111-2222-3333-4444-555555555555"
    assert _TRACE.search(body["error_description"])
    assert body["trace_id"] in body["error_description"]
    assert body["error_uri"] == "https://login.microsoftonline.com/error?code=7000215"


def test_app_not_found(standin, scenario_file) -> None:
    path = scenario_file(
        world(
            'credential = "client-secret"\napp = "orders-api"\ntenant = "fabrikam"',
            tenants='[[tenants]]\nname = "fabrikam"',
        )
    )
    s = standin(path)
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    app = s.directory.app_by_name("orders-api")
    assert caught.value.message.startswith(
        f"Authentication failed: AADSTS700016: Application with identifier '{app.client_id}' was not found "
        "in the "
        "directory 'Fabrikam'."
    )


def test_tenant_not_found_via_msal(standin, scenario_file) -> None:
    ghost = "0f0f0f0f-1111-2222-3333-444444444444"
    s = standin(scenario_file(world(f'credential = "client-secret"\ntenant = "{ghost}"')))
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert caught.value.message == (
        f"Authentication failed: Unable to get authority configuration for {s.authority_host}/{ghost}. "
        "Authority would typically be in a format of https://login.microsoftonline.com/your_tenant or "
        "https://tenant_name.ciamlogin.com or "
        "https://tenant_name.b2clogin.com/tenant.onmicrosoft.com/policy.  "
        "Also please double check your tenant name or GUID is correct."
    )
    discovery = s.requests_log[0]
    assert discovery.status == 400


def test_tenant_not_found_body(standin) -> None:
    s = standin("healthy")
    response = requests.get(
        f"{s.authority_host}/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        verify=s.ca_bundle,
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid_tenant"
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found.")


def test_tenant_by_domain(standin, scenario_file) -> None:
    standin(scenario_file(world('credential = "client-secret"\ntenant = "contoso.onmicrosoft.com"')))
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert claims_of(token.token)["aud"] == "https://cognitiveservices.azure.com"


def test_unknown_resource(standin) -> None:
    standin("healthy")
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token("https://contoso.example/.default")
    assert (
        "AADSTS500011: The resource principal named https://contoso.example was not found"
        in caught.value.message
    )


def test_conditional_access_for_app(standin, scenario_file) -> None:
    standin(
        scenario_file(
            world('credential = "client-secret"', app="secret = true\nconditional_access_blocked = true")
        )
    )
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert caught.value.message.startswith(
        "Authentication failed: AADSTS53003: Access has been blocked by Conditional Access policies. The "
        "access "
        "policy does not allow token issuance."
    )


# client certificate ----------------------------------------------------------------------------


def test_client_certificate(standin, scenario_file) -> None:
    s = standin(scenario_file(world('credential = "client-certificate"', app="certificate = true")))
    assert (
        Path(os.environ["AZURE_CLIENT_CERTIFICATE_PATH"]).read_bytes().startswith(b"-----BEGIN PRIVATE KEY")
    )
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    claims = claims_of(token.token)
    assert claims["appidacr"] == "2"
    assert claims["appid"] == s.directory.app_by_name("orders-api").client_id
    token_request = next(r for r in s.requests_log if r.path.endswith("/token"))
    assert token_request.form["client_assertion"] == "<redacted>"
    assert (
        token_request.form["client_assertion_type"]
        == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )


def test_unregistered_certificate(standin, scenario_file) -> None:
    # The app has only a secret; the client presents a certificate Entra has never seen.
    standin(scenario_file(world('credential = "client-certificate"')))
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert "AADSTS700027: Client assertion failed signature validation. [Reason - The key was not found." in (
        caught.value.message
    )


def test_certificate_with_forged_signature(standin, scenario_file, tmp_path) -> None:
    s = standin(scenario_file(world('credential = "client-certificate"', app="certificate = true")))
    # Same registered certificate, wrong private key: the thumbprint matches but the signature does not.
    from aoai_doctor.standin.certs import cert_pem, new_rsa_key, private_key_pem

    registered = s.directory.certificate(s.directory.app_by_name("orders-api"))
    assert registered is not None
    forged = tmp_path / "forged.pem"
    forged.write_bytes(private_key_pem(new_rsa_key()) + cert_pem(registered.cert))
    os.environ["AZURE_CLIENT_CERTIFICATE_PATH"] = str(forged)
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE)
    assert "AADSTS700027: Client assertion failed signature validation." in caught.value.message


# workload identity -----------------------------------------------------------------------------


def _federated_app(subject: str = "system:serviceaccount:orders:orders-sa") -> str:
    return f'[[apps.federated]]\nsubject = "{subject}"'


def test_workload_identity(standin, scenario_file) -> None:
    s = standin(scenario_file(world('credential = "workload-identity"', app=_federated_app())))
    token = WorkloadIdentityCredential().get_token(SCOPE)
    assert claims_of(token.token)["oid"] == s.directory.app_by_name("orders-api").object_id
    assert [r.path.rsplit("/", 1)[-1] for r in s.requests_log] == ["token"]
    assert Path(os.environ["AZURE_FEDERATED_TOKEN_FILE"]).read_text() in s.issued_secrets()


def test_workload_identity_stale_assertion(standin, scenario_file) -> None:
    standin(
        scenario_file(
            world('credential = "workload-identity"\nfederated_token = "expired"', app=_federated_app())
        )
    )
    with pytest.raises(ClientAuthenticationError) as caught:
        WorkloadIdentityCredential().get_token(SCOPE)
    assert caught.value.message.startswith(
        "Microsoft Entra ID error '(invalid_client) AADSTS700024: Client assertion is not within its valid "
        "time "
        "range."
    )
    assert caught.value.response is not None and caught.value.response.status_code == 400


def test_workload_identity_no_federated_record(standin, scenario_file) -> None:
    text = world(
        'credential = "workload-identity"\nfederated_subject = "system:serviceaccount:default:default"',
        app=_federated_app(),
    )
    standin(scenario_file(text))
    with pytest.raises(ClientAuthenticationError) as caught:
        WorkloadIdentityCredential().get_token(SCOPE)
    assert caught.value.message.startswith(
        "Microsoft Entra ID error '(invalid_client) AADSTS700213: No matching federated identity record "
        "found for "
        "presented assertion subject 'system:serviceaccount:default:default'."
    )


def test_workload_identity_scope_without_default(standin, scenario_file) -> None:
    standin(scenario_file(world('credential = "workload-identity"', app=_federated_app())))
    with pytest.raises(ClientAuthenticationError) as caught:
        WorkloadIdentityCredential().get_token("https://cognitiveservices.azure.com")
    assert caught.value.message.startswith("Microsoft Entra ID error '(invalid_scope) AADSTS1002012: ")


# shared token cache (refresh-token grant) ------------------------------------------------------


def _user(flags: str = "") -> str:
    return f'[[users]]\nname = "alice"\ndisplay_name = "Alice Smith"\n{flags}'


def test_shared_token_cache(standin, scenario_file) -> None:
    s = standin(scenario_file(world('credential = "shared-token-cache"', user=_user())))
    cache = Path(os.environ["HOME"]) / ".IdentityService" / "msal.cache.nocae"
    first_refresh_token = next(iter(json.loads(cache.read_text())["RefreshToken"].values()))["secret"]
    assert first_refresh_token in s.issued_secrets()
    token = SharedTokenCacheCredential().get_token(SCOPE)
    claims = claims_of(token.token)
    alice = s.directory.user("alice")
    assert claims["idtyp"] == "user"
    assert claims["upn"] == alice.upn == "alice@contoso.onmicrosoft.com"
    assert claims["scp"] == "user_impersonation"
    assert claims["oid"] == alice.object_id
    token_request = s.requests_log[-1]
    assert token_request.path == "/organizations/oauth2/v2.0/token"
    assert token_request.form["grant_type"] == "refresh_token"
    assert token_request.form["refresh_token"] == "<redacted>"


def test_shared_token_cache_expired_refresh_token(standin, scenario_file) -> None:
    standin(
        scenario_file(world('credential = "shared-token-cache"', user=_user("refresh_token_expired = true")))
    )
    with pytest.raises(ClientAuthenticationError) as caught:
        SharedTokenCacheCredential().get_token(SCOPE)
    assert caught.value.message.startswith(
        "Microsoft Entra ID error '(invalid_grant) AADSTS700082: The refresh token has expired due to "
        "inactivity."
    )


def test_shared_token_cache_mfa_required(standin, scenario_file) -> None:
    standin(scenario_file(world('credential = "shared-token-cache"', user=_user("mfa_required = true"))))
    with pytest.raises(ClientAuthenticationError) as caught:
        SharedTokenCacheCredential().get_token(SCOPE)
    assert caught.value.message.startswith(
        "Microsoft Entra ID error '(interaction_required) AADSTS50076: Due to a configuration change made "
        "by your "
        "administrator, or because you moved to a new location, you must use multi-factor authentication to "
        "access "
        "'https://cognitiveservices.azure.com'."
    )


def test_shared_token_cache_conditional_access(standin, scenario_file) -> None:
    standin(
        scenario_file(
            world('credential = "shared-token-cache"', user=_user("conditional_access_blocked = true"))
        )
    )
    with pytest.raises(ClientAuthenticationError) as caught:
        SharedTokenCacheCredential().get_token(SCOPE)
    assert "(invalid_grant) AADSTS53003: Access has been blocked by Conditional Access policies." in (
        caught.value.message
    )


def test_shared_token_cache_scope_without_default(standin, scenario_file) -> None:
    standin(scenario_file(world('credential = "shared-token-cache"', user=_user())))
    with pytest.raises(ClientAuthenticationError) as caught:
        SharedTokenCacheCredential().get_token("https://cognitiveservices.azure.com")
    assert caught.value.message.startswith(
        "Microsoft Entra ID error '(invalid_scope) AADSTS70011: The provided value for the input parameter "
        "'scope' "
        "is not valid."
    )


# discovery -------------------------------------------------------------------------------------


def test_instance_discovery_document(standin) -> None:
    s = standin("healthy")
    response = requests.get(
        f"{s.authority_host}/common/discovery/instance",
        params={
            "api-version": "1.1",
            "authorization_endpoint": f"{s.authority_host}/contoso/oauth2/v2.0/authorize",
        },
        verify=s.ca_bundle,
        timeout=5,
    )
    body = response.json()
    assert (
        body["tenant_discovery_endpoint"]
        == f"{s.authority_host}/contoso/v2.0/.well-known/openid-configuration"
    )
    assert body["api-version"] == "1.1"


def test_jwks_verifies_issued_tokens(standin) -> None:
    s = standin("healthy")
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE).token
    tenant = s.scenario.tenant("contoso").id
    keys = requests.get(
        f"{s.authority_host}/{tenant}/discovery/v2.0/keys", verify=s.ca_bundle, timeout=5
    ).json()
    key = jwt.PyJWK(keys["keys"][0])
    assert jwt.decode(token, key.key, algorithms=["RS256"], audience="https://cognitiveservices.azure.com")


def test_secret_expiry_is_checked_against_now(standin, scenario_file) -> None:
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    standin(
        scenario_file(world('credential = "client-secret"', app=f"secret = true\nsecret_expires = {later}"))
    )
    assert EnvironmentCredential(disable_instance_discovery=True).get_token(SCOPE).token


def test_standin_without_env_is_not_applied(standin) -> None:
    s = standin("healthy", env=False)
    assert "AZURE_CLIENT_SECRET" not in os.environ
    assert s.client_env()["AZURE_CLIENT_SECRET"] in s.issued_secrets()


def test_load_scenario_object(standin) -> None:
    s = standin(load_scenario("healthy"))
    assert isinstance(s, StandIn)
    assert s.authority_host.startswith("https://127.0.0.1:")
