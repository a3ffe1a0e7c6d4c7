"""Managed-identity endpoints driven by the real ManagedIdentityCredential and DefaultAzureCredential."""

from __future__ import annotations

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError, DefaultAzureCredential, ManagedIdentityCredential

SCOPE = "https://cognitiveservices.azure.com/.default"
RESOURCE = "https://cognitiveservices.azure.com"


def world(credential: str, identity: str = "", selector: str = "client_id", user: bool = False) -> str:
    client_identity = f'identity = "{identity}"\nidentity_selector = "{selector}"' if identity else ""
    users = '[[users]]\nname = "alice"' if user else ""
    return f"""
[[tenants]]
name = "contoso"

{users}

[[managed_identities]]
name = "web-system"
kind = "system"

[[managed_identities]]
name = "jobs"
kind = "user"

[[managed_identities]]
name = "detached"
kind = "user"
assigned = false

[resource]
name = "contoso-openai"

[[deployments]]
name = "chat"
model = "gpt-4o-mini"

[[role_assignments]]
principal = "web-system"
role = "Cognitive Services OpenAI User"

[client]
credential = "{credential}"
{client_identity}
"""


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


# App Service -----------------------------------------------------------------------------------


def test_app_service_system_assigned(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-app-service")))
    token = ManagedIdentityCredential().get_token(SCOPE)
    system = s.directory.identity("web-system")
    claims = claims_of(token.token)
    assert claims["oid"] == system.object_id
    assert claims["appid"] == system.client_id
    assert claims["aud"] == RESOURCE
    assert token.expires_on == claims["exp"]
    request = s.requests_log[-1]
    assert request.query == {"api-version": "2019-08-01", "resource": RESOURCE}
    assert request.headers["x-identity-header"] == "<redacted>"
    assert request.headers["metadata"] == "true"


@pytest.mark.parametrize(
    ("selector", "kwarg"),
    [("client_id", "client_id"), ("object_id", "object_id"), ("resource_id", "resource_id")],
)
def test_app_service_user_assigned(standin, scenario_file, selector: str, kwarg: str) -> None:
    s = standin(scenario_file(world("managed-identity-app-service", "jobs", selector)))
    selected = s.client_identity_selector()
    assert list(selected) == [kwarg]
    credential = (
        ManagedIdentityCredential(client_id=selected["client_id"])
        if kwarg == "client_id"
        else ManagedIdentityCredential(identity_config=selected)
    )
    token = credential.get_token(SCOPE)
    assert claims_of(token.token)["oid"] == s.directory.identity("jobs").object_id
    assert claims_of(token.token)["xms_mirid"] == s.directory.identity("jobs").resource_id


def test_app_service_identity_not_found(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-app-service", "detached")))
    credential = ManagedIdentityCredential(client_id=s.client_identity_selector()["client_id"])
    with pytest.raises(CredentialUnavailableError) as caught:
        credential.get_token(SCOPE)
    assert caught.value.message == (
        "App Service managed identity configuration not found in environment. Token request error: "
        "(invalid_scope) 400, No Managed Identity found for specified ClientId/ResourceId/PrincipalId."
    )


def test_app_service_scope_without_default_is_accepted(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-app-service")))
    token = ManagedIdentityCredential().get_token(RESOURCE)
    assert claims_of(token.token)["aud"] == RESOURCE
    assert s.requests_log[-1].query["resource"] == RESOURCE


def test_default_azure_credential_with_app_service(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-app-service")))
    token = DefaultAzureCredential().get_token(SCOPE)
    assert claims_of(token.token)["oid"] == s.directory.identity("web-system").object_id


# IMDS ------------------------------------------------------------------------------------------


def test_imds_via_pod_identity_host(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-imds")))
    token = ManagedIdentityCredential().get_token(SCOPE)
    assert claims_of(token.token)["oid"] == s.directory.identity("web-system").object_id
    request = s.requests_log[-1]
    assert request.path == "/metadata/identity/oauth2/token"
    assert request.query["api-version"] == "2018-02-01"
    assert request.headers["metadata"] == "true"


def test_imds_user_assigned(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-imds", "jobs")))
    token = ManagedIdentityCredential(client_id=s.client_identity_selector()["client_id"]).get_token(SCOPE)
    assert claims_of(token.token)["oid"] == s.directory.identity("jobs").object_id


def test_imds_identity_not_found(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-imds", "detached")))
    credential = ManagedIdentityCredential(client_id=s.client_identity_selector()["client_id"])
    with pytest.raises(CredentialUnavailableError) as caught:
        credential.get_token(SCOPE)
    assert caught.value.message == (
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint. "
        "Token request error: (invalid_request) Identity not found"
    )


def test_imds_probe_without_metadata_header(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-imds")))
    response = requests.get(
        f"{s.imds_endpoint}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": RESOURCE},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Required metadata header not specified",
    }


def test_imds_answer_shape(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-imds")))
    body = requests.get(
        f"{s.imds_endpoint}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": RESOURCE},
        headers={"Metadata": "true"},
        timeout=5,
    ).json()
    assert body["expires_in"] == "86399"
    assert set(body) == {
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    }


# Cloud Shell -----------------------------------------------------------------------------------


def test_cloud_shell(standin, scenario_file) -> None:
    s = standin(scenario_file(world("managed-identity-cloud-shell", user=True)))
    token = ManagedIdentityCredential().get_token(SCOPE)
    claims = claims_of(token.token)
    assert claims["idtyp"] == "user"
    assert claims["upn"] == s.directory.user("alice").upn
    request = s.requests_log[-1]
    assert request.method == "POST"
    assert request.form == {"resource": RESOURCE}


def test_cloud_shell_without_signed_in_user(standin, scenario_file) -> None:
    standin(scenario_file(world("managed-identity-cloud-shell")))
    with pytest.raises(ClientAuthenticationError) as caught:
        ManagedIdentityCredential().get_token(SCOPE)
    assert caught.value.message == (
        "Unexpected response \"{'error': 'invalid_request', 'error_description': 'Identity not found'}\""
    )
