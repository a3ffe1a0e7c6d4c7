"""Unit tests: what each Azure OpenAI answer means (bodies verbatim from the service reference)."""

from __future__ import annotations

import json

import pytest

from aoai_doctor.azure import answers as dp
from aoai_doctor.azure.endpoints import parse
from aoai_doctor.azure.jwt import Identity

INFO = parse("https://contoso-openai.openai.azure.com")
CALL = dp.plan_call(INFO, "chat", None, "2024-10-21")
APP = Identity("tid-1", "oid-1", "app-1", None, "app")


def ctx(**overrides: object) -> dp.Context:
    values: dict[str, object] = {
        "info": INFO,
        "deployment": "chat",
        "call": CALL,
        "api_version": "2024-10-21",
        "auth": "entra",
        "identity": APP,
    }
    values.update(overrides)
    return dp.Context(**values)  # type: ignore[arg-type]


def interpret(status: int, body: object, context: dp.Context | None = None, **headers: str):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return dp.interpret(status, {k.replace("_", "-"): v for k, v in headers.items()}, raw, context or ctx())


def test_plan_calls_per_route() -> None:
    assert (
        CALL.url
        == "https://contoso-openai.openai.azure.com/openai/deployments/chat/chat/completions?api-version=2024-10-21"
    )
    assert CALL.body["max_tokens"] == 1
    legacy = dp.plan_call(INFO, "davinci", "completion", "2022-12-01")
    assert legacy.url.endswith("/openai/deployments/davinci/completions?api-version=2022-12-01")
    v1 = dp.plan_call(parse("https://contoso-openai.openai.azure.com/openai/v1/"), "chat", "embedding", None)
    assert v1.url == "https://contoso-openai.openai.azure.com/openai/v1/embeddings" and v1.body["model"] == "chat"


def test_permission_denied_names_the_role_the_data_action_and_a_ready_command() -> None:
    (finding,) = interpret(
        401, {"error": {"code": "PermissionDenied", "message": "Principal does not have access to API/Operation."}}
    )
    assert finding.cause == "role_assignment_missing"
    assert "deployments/chat/completions/action" in finding.message
    assert finding.fix is not None and finding.fix.startswith(
        "az role assignment create --assignee-object-id oid-1 --assignee-principal-type ServicePrincipal "
        '--role "Cognitive Services OpenAI User" --scope "$(az resource list --name contoso-openai '
        '--resource-type Microsoft.CognitiveServices/accounts --query "[0].id" --output tsv)"'
    )


@pytest.mark.parametrize(("auth", "cause"), [("api-key", "api_key_invalid"), ("entra", "scope_wrong_resource")])
def test_a_plain_401_depends_on_the_auth_mode(auth: str, cause: str) -> None:
    body = {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}
    assert interpret(401, body, ctx(auth=auth))[0].cause == cause


def test_gateway_401_is_the_token() -> None:
    body = {
        "statusCode": 401,
        "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired.",
    }
    assert interpret(401, body)[0].cause == "scope_wrong_resource"
    assert interpret(401, body, ctx(token_expired=True))[0].cause == "token_expired"


@pytest.mark.parametrize(
    ("status", "body", "cause"),
    [
        (
            400,
            {
                "error": {
                    "code": "Tenant provided in token does not match resource token",
                    "message": "Token tenant 1111 does not match resource tenant.",
                }
            },
            "wrong_tenant",
        ),
        (
            403,
            {
                "error": {
                    "code": "AuthenticationTypeDisabled",
                    "message": "Key based authentication is disabled for this resource.",
                }
            },
            "key_auth_disabled",
        ),
        (
            404,
            {
                "error": {
                    "code": "DeploymentNotFound",
                    "message": "The API deployment for this resource does not exist.",
                }
            },
            "deployment_not_found",
        ),
        (404, {"error": {"code": "404", "message": "Resource not found"}}, "endpoint_wrong"),
        (
            400,
            {
                "error": {
                    "code": "OperationNotSupported",
                    "message": "The chatCompletion operation does not work with "
                    "the specified model, text-embedding-3-large. Please choose different model.",
                }
            },
            "operation_not_supported",
        ),
        (
            400,
            {
                "error": {
                    "code": "content_filter",
                    "message": "The response was filtered due to the prompt "
                    "triggering Azure OpenAI's content management policy.",
                }
            },
            "content_filtered",
        ),
        (
            500,
            {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "code": None,
                }
            },
            "service_unavailable",
        ),
        (500, {"statusCode": 500, "message": "Internal server error", "activityId": "a"}, "service_unavailable"),
        (400, {"error": {"code": "BadRequest", "message": "API version not supported"}}, "api_version_invalid"),
        (
            400,
            {
                "error": {
                    "code": "BadRequest",
                    "message": "Please provide a custom subdomain for token "
                    "authentication, otherwise API key is required.",
                }
            },
            "custom_subdomain_required",
        ),
    ],
)
def test_bodies_map_to_causes(status: int, body: object, cause: str) -> None:
    findings = interpret(status, body, apim_request_id="req-1")
    assert findings[0].cause == cause and findings[0].fix
    if cause != "content_filtered":
        assert findings[0].detail is not None and "apim-request-id=req-1" in findings[0].detail


def test_operation_not_supported_points_at_the_route_that_fits() -> None:
    body = {
        "error": {
            "code": "OperationNotSupported",
            "message": "The chatCompletion operation does not work with the specified model, text-embedding-3-large.",
        }
    }
    assert "call /embeddings" in (interpret(400, body)[0].fix or "")


def test_resource_not_found_lists_the_retired_api_version() -> None:
    (finding,) = interpret(
        404, {"error": {"code": "404", "message": "Resource not found"}}, ctx(api_version="2023-03-15-preview")
    )
    assert finding.cause == "api_version_invalid" and "api-version 2023-03-15-preview is retired" in finding.message


def test_rate_limit_reads_the_headers() -> None:
    (finding,) = interpret(
        429,
        {"error": {"code": "429", "message": "Requests ... exceeded token rate limit"}},
        retry_after_ms="1500",
        x_ratelimit_remaining_tokens="0",
    )
    assert finding.cause == "rate_limited" and "retry after 1500 ms" in finding.message
    assert finding.detail is not None and "remaining-tokens=0" in finding.detail


def test_network_rules_say_when_the_name_resolves_publicly() -> None:
    body = {"error": {"code": "403", "message": "Public access is disabled. Please configure private endpoint."}}
    (finding,) = interpret(403, body, ctx(public_address="20.1.2.3"))
    assert finding.cause == "network_blocked"
    assert finding.detail is not None and "resolves to the public address 20.1.2.3" in finding.detail


def test_answers_that_are_not_the_service() -> None:
    html = b"<!DOCTYPE html><html><head><title>Access denied by Contoso proxy</title></head></html>"
    (finding,) = dp.interpret(403, {"content-type": "text/html"}, html, ctx())
    assert finding.cause == "proxy_misconfigured" and "Access denied by Contoso proxy" in finding.message
    (empty,) = dp.interpret(200, {}, b"", ctx())
    assert empty.message.startswith("200 with an empty body")
    (moved,) = dp.interpret(307, {"location": "https://elsewhere.example.com/x"}, b"", ctx())
    assert moved.cause == "endpoint_wrong" and "elsewhere.example.com" in moved.message


def test_success_and_a_filtered_completion() -> None:
    body = {"model": "gpt-4o-mini", "choices": [{"finish_reason": "content_filter"}]}
    findings = interpret(200, body, x_ms_region="East US")
    assert findings[0].message == "chat/completions on chat answered 200 (gpt-4o-mini, East US)"
    assert findings[1].cause == "content_filtered"


def test_max_tokens_refusal_is_recognised() -> None:
    data = {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "code": "unsupported_parameter",
        }
    }
    assert dp.is_max_tokens_refusal(400, data)
    assert (
        dp.plan_call(INFO, "o3", None, "2024-12-01-preview", token_param="max_completion_tokens").body[
            "max_completion_tokens"
        ]
        == 1
    )
