"""Every shipped scenario, reproduced end to end from its ``[client]`` table.

Real azure-identity credentials get (or fail to get) a token from the stand-in's Entra or managed
identity endpoint, and the real openai SDK makes the scenario's call to the stand-in's data plane.
"""

from __future__ import annotations

import time

import openai
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from aoai_doctor.standin import scenario_names

from .clients import call_with_openai, openai_client

REQUIRED = {
    "healthy",
    "scope-missing-default",
    "missing-role",
    "wrong-tenant",
    "deployment-not-found",
    "retired-api-version",
    "chat-model-on-completions",
    "rate-limited",
    "key-auth-disabled",
    "regional-endpoint",
    "network-blocked",
    "expired-secret",
    "mi-not-assigned",
    "service-hangs",
    # today's Azure (tests in test_reasoning, test_v1_surface, test_foundry, test_retired_and_gateway)
    "reasoning-model",
    "responses-api",
    "v1-api",
    "foundry-project",
    "foundry-project-missing-role",
    "retired-model",
    "apim-gateway-key-missing",
}


def test_every_required_scenario_ships() -> None:
    assert set(scenario_names()) >= REQUIRED


def test_healthy(standin) -> None:
    s = standin("healthy")
    client = openai_client(s)
    raw = client.chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "ping"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "pong"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert raw.headers["x-ms-deployment-name"] == "chat"
    assert raw.headers["apim-request-id"] == raw.headers["x-request-id"]
    assert [r.path.rsplit("/", 1)[-1] for r in s.requests_log] == [
        "openid-configuration",
        "token",
        "completions",
    ]


def test_scope_missing_default(standin) -> None:
    s = standin("scope-missing-default")
    with pytest.raises(ClientAuthenticationError) as caught:
        call_with_openai(s)
    assert caught.value.message.startswith(
        "Authentication failed: AADSTS1002012: The provided value for scope "
        "https://cognitiveservices.azure.com "
        "is not valid. Client credential flows must have a scope value with /.default suffixed to the "
        "resource "
        "identifier (application ID URI)."
    )
    token_request = next(r for r in s.requests_log if r.path.endswith("/token"))
    assert token_request.form["scope"] == "https://cognitiveservices.azure.com"


def test_missing_role(standin) -> None:
    s = standin("missing-role")
    with pytest.raises(openai.AuthenticationError) as caught:
        call_with_openai(s)
    assert caught.value.status_code == 401
    body = caught.value.response.json()
    assert body["error"]["code"] == "PermissionDenied"
    assert body["error"]["message"] == "Principal does not have access to API/Operation."
    app = s.directory.app_by_name("orders-api")
    assert body["error"]["innererror"]["principalId"] == app.object_id
    assert body["error"]["innererror"]["dataAction"].endswith("/deployments/chat/completions/action")


def test_wrong_tenant(standin) -> None:
    s = standin("wrong-tenant")
    with pytest.raises(openai.BadRequestError) as caught:
        call_with_openai(s)
    fabrikam = s.scenario.tenant("fabrikam").id
    body = caught.value.response.json()
    assert body["error"]["message"] == f"Token tenant {fabrikam} does not match resource tenant."
    assert body["error"]["code"] == "Tenant provided in token does not match resource token"


def test_deployment_not_found(standin) -> None:
    s = standin("deployment-not-found")
    with pytest.raises(openai.NotFoundError) as caught:
        call_with_openai(s)
    assert caught.value.response.json()["error"]["code"] == "DeploymentNotFound"
    assert str(caught.value).startswith("Error code: 404 - ") or "DeploymentNotFound" in str(caught.value)


def test_retired_api_version(standin) -> None:
    s = standin("retired-api-version")
    with pytest.raises(openai.NotFoundError) as caught:
        call_with_openai(s)
    assert caught.value.response.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert caught.value.response.request.url.params["api-version"] == "2023-03-15-preview"


def test_chat_model_on_completions(standin) -> None:
    s = standin("chat-model-on-completions")
    with pytest.raises(openai.BadRequestError) as caught:
        call_with_openai(s)
    error = caught.value.response.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith(
        "The completion operation does not work with the specified model, gpt-35-turbo. Please choose "
        "different "
        "model and try again."
    )


def test_rate_limited(standin) -> None:
    s = standin("rate-limited")
    with pytest.raises(openai.RateLimitError) as caught:
        call_with_openai(s)
    headers = caught.value.response.headers
    retry_after = int(headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert int(headers["retry-after-ms"]) == retry_after * 1000
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert headers["x-ratelimit-limit-tokens"] == "1000"
    message = caught.value.response.json()["error"]["message"]
    assert "ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21" in message
    assert f"Please retry after {retry_after} seconds." in message


def test_key_auth_disabled(standin) -> None:
    s = standin("key-auth-disabled")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        call_with_openai(s)
    assert caught.value.response.json() == {
        "error": {
            "code": "AuthenticationTypeDisabled",
            "message": "Key based authentication is disabled for this resource.",
        }
    }


def test_regional_endpoint(standin) -> None:
    s = standin("regional-endpoint")
    assert s.client_env()["AZURE_OPENAI_ENDPOINT"] == s.regional_endpoint
    with pytest.raises(openai.BadRequestError) as caught:
        call_with_openai(s)
    assert caught.value.response.json()["error"]["message"] == (
        "Please provide a custom subdomain for token authentication, otherwise API key is required. "
        "(Please see https://aka.ms/cogsvc-authenticatewithtoken)"
    )


def test_network_blocked(standin) -> None:
    s = standin("network-blocked")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        call_with_openai(s)
    assert caught.value.response.json() == {
        "error": {"code": "403", "message": "Access denied due to Virtual Network/Firewall rules."}
    }


def test_expired_secret(standin) -> None:
    s = standin("expired-secret")
    with pytest.raises(ClientAuthenticationError) as caught:
        call_with_openai(s)
    app = s.directory.app_by_name("orders-api")
    assert caught.value.message.startswith(
        f"Authentication failed: AADSTS7000222: The provided client secret keys for app '{app.client_id}' "
        "are "
        "expired."
    )


def test_invalid_secret(standin) -> None:
    s = standin("invalid-secret")
    with pytest.raises(ClientAuthenticationError) as caught:
        call_with_openai(s)
    assert "AADSTS7000215: Invalid client secret provided." in caught.value.message


def test_mi_not_assigned(standin) -> None:
    s = standin("mi-not-assigned")
    with pytest.raises(CredentialUnavailableError) as caught:
        call_with_openai(s)
    assert caught.value.message == (
        "App Service managed identity configuration not found in environment. Token request error: "
        "(invalid_scope) 400, No Managed Identity found for specified ClientId/ResourceId/PrincipalId."
    )


def test_service_hangs(standin) -> None:
    s = standin("service-hangs")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        call_with_openai(s, openai_client(s, timeout=0.5))
    assert time.monotonic() - started < 5
    assert s.requests_log[-1].fault == "hang"
    assert s.requests_log[-1].status is None


def test_content_filtered(standin) -> None:
    s = standin("content-filtered")
    with pytest.raises(openai.BadRequestError) as caught:
        call_with_openai(s)
    error = caught.value.response.json()["error"]
    assert error["code"] == "content_filter"
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert error["innererror"]["content_filter_result"]["violence"] == {
        "filtered": True,
        "severity": "medium",
    }
