"""Unit tests: what each Azure OpenAI answer means (bodies verbatim from the service reference)."""

from __future__ import annotations

import json

import pytest

from aoai_doctor.azure import answers as dp
from aoai_doctor.azure import calls
from aoai_doctor.azure.endpoints import parse
from aoai_doctor.azure.jwt import Identity
from aoai_doctor.model import Severity

INFO = parse("https://contoso-openai.openai.azure.com")
CALL = calls.plan_call(INFO, "chat", None, "2024-10-21")
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
    assert CALL.body == {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 16}
    legacy = calls.plan_call(INFO, "davinci", "completion", "2022-12-01")
    assert legacy.url.endswith("/openai/deployments/davinci/completions?api-version=2022-12-01")
    v1 = calls.plan_call(parse("https://contoso-openai.openai.azure.com/openai/v1/"), "chat", "embedding", None)
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


# Bodies verbatim from dotnet/extensions#6945 and the service reference §9.3.
MAX_TOKENS_REFUSED = {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                                "Use 'max_completion_tokens' instead.", "type": "invalid_request_error",
                                "param": "max_tokens", "code": "unsupported_parameter"}}
BELOW_MINIMUM = {"error": {"message": "Invalid 'max_completion_tokens': integer below minimum value. Expected a value "
                           ">= 16, but got 1 instead.", "type": "invalid_request_error",
                           "param": "max_completion_tokens", "code": "integer_below_min_value"}}


def test_the_budget_parameter_follows_the_route_and_the_model_family() -> None:
    assert calls.plan_call(INFO, "gpt-4o", None, "2024-10-21").param == "max_tokens"
    reasoning = calls.plan_call(INFO, "o3-mini", None, "2024-12-01-preview")
    assert reasoning.body["max_completion_tokens"] == 16 and "max_tokens" not in reasoning.body
    responses = calls.plan_call(INFO, "gpt-5", "responses", "2024-10-21")
    assert responses.url == "https://contoso-openai.openai.azure.com/openai/v1/responses"
    assert responses.body == {"model": "gpt-5", "input": "ping", "max_output_tokens": 16}
    v1 = calls.plan_call(parse("https://contoso-openai.openai.azure.com/openai/v1"), "chat", None, "preview")
    assert v1.url.endswith("/openai/v1/chat/completions?api-version=preview") and v1.body["model"] == "chat"
    dated = calls.plan_call(parse("https://contoso-openai.openai.azure.com/openai/v1"), "chat", None, "2024-10-21")
    assert "api-version" not in dated.url  # the v1 surface takes no dated version
    assert not any(k in CALL.body for k in ("temperature", "top_p"))


def test_a_refused_max_tokens_is_asked_again_with_max_completion_tokens() -> None:
    adapted = calls.adapt(CALL, 400, MAX_TOKENS_REFUSED)
    assert adapted is not None
    call, note = adapted
    assert call.body == {"messages": CALL.body["messages"], "max_completion_tokens": 16}
    assert call.url == CALL.url and "max_completion_tokens" in note
    assert calls.adapt(call, 400, MAX_TOKENS_REFUSED) is None  # once only: the new call has no max_tokens


def test_a_budget_under_the_minimum_is_raised_to_it_within_bounds() -> None:
    small = calls.plan_call(INFO, "o3", None, "2024-12-01-preview", budget=1)
    adapted = calls.adapt(small, 400, BELOW_MINIMUM)
    assert adapted is not None and adapted[0].body["max_completion_tokens"] == 16
    assert calls.adapt(calls.plan_call(INFO, "o3", None, "2024-12-01-preview"), 400, BELOW_MINIMUM) is None
    greedy = json.loads(json.dumps(BELOW_MINIMUM).replace(">= 16", ">= 5000"))
    assert calls.adapt(small, 400, greedy) is None  # never a large billable call


def test_refusals_that_adaptation_cannot_fix_are_parameter_unsupported() -> None:
    temperature = {"error": {"message": "Unsupported value: 'temperature' does not support 0.2 with this model. Only "
                             "the default (1) value is supported.", "type": "invalid_request_error",
                             "param": "temperature", "code": "unsupported_value"}}
    (finding,) = interpret(400, temperature)
    assert finding.cause == "parameter_unsupported" and "'temperature'" in finding.message
    (finding,) = interpret(400, BELOW_MINIMUM)
    assert finding.cause == "parameter_unsupported"
    (finding,) = interpret(400, MAX_TOKENS_REFUSED)
    assert finding.cause == "parameter_unsupported" and "max_tokens" in finding.message


def test_running_out_of_budget_is_success() -> None:
    reasoning_only = {"object": "chat.completion", "model": "gpt-5-mini-2025-08-07",
                      "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant",
                                                                                     "content": ""}}],
                      "usage": {"completion_tokens": 16, "completion_tokens_details": {"reasoning_tokens": 16}}}
    (finding,) = interpret(200, reasoning_only)
    assert finding.severity is Severity.INFO and "16 of them reasoning" in finding.message
    incomplete = {"object": "response", "status": "incomplete", "model": "gpt-5",
                  "incomplete_details": {"reason": "max_output_tokens"}, "output": [],
                  "usage": {"output_tokens": 16, "output_tokens_details": {"reasoning_tokens": 16}}}
    call = calls.plan_call(INFO, "gpt-5", "responses", None)
    (finding,) = interpret(200, incomplete, ctx(call=call))
    assert finding.severity is Severity.INFO and "whole 16-token budget" in finding.message


def test_a_404_on_a_retired_model_is_model_retired_not_the_api_version() -> None:
    from aoai_doctor.azure.models import retirement, retirement_by_name

    body = {"error": {"code": "404", "message": "Resource not found"}}
    assert interpret(404, body)[0].cause == "endpoint_wrong"  # 2024-10-21 is fine: the path, then
    assert interpret(404, body, ctx(api_version="2023-03-15-preview"))[0].cause == "api_version_invalid"
    row = retirement_by_name("gpt-4-0613")
    assert row == retirement("gpt-4", "0613")
    (finding,) = interpret(404, body, ctx(deployment="gpt-4-0613", retirement=row))  # Resource Manager said so
    assert finding.cause == "model_retired" and "retired on 2025-06-06" in finding.message
    # the suggested gpt-4o 2024-11-20 is past its own date: its successor is named
    assert "--model-name gpt-4.1 --model-version 2025-04-14" in (finding.fix or "")
    assert retirement_by_name("gpt-4") is None  # the bare name has live and retired versions
    assert retirement_by_name("ada") is None  # a common name for an embeddings deployment


def test_a_deployments_name_is_a_hint_never_proof_of_retirement() -> None:
    from aoai_doctor.azure.models import retirement_by_name

    body = {"error": {"code": "404", "message": "Resource not found"}}
    hint = retirement_by_name("gpt-35-turbo-0613")  # the name outlives an upgrade to another model
    (finding,) = interpret(404, body, ctx(deployment="gpt-35-turbo-0613", named_retirement=hint))
    assert finding.cause == "endpoint_wrong"
    assert "the deployment's name suggests gpt-35-turbo 0613, retired on 2025-02-13" in finding.message
    (finding,) = interpret(404, body, ctx(deployment="gpt-35-turbo-0613", named_retirement=hint,
                                          api_version="2023-03-15-preview"))
    assert finding.cause == "api_version_invalid"


def test_a_replacement_that_is_itself_past_its_date_is_followed_to_a_current_one() -> None:
    import datetime as dt

    from aoai_doctor.azure.models import RETIREMENTS, current_replacement, retirement

    today = dt.date(2026, 11, 30)
    for row in RETIREMENTS:
        model, _, version = current_replacement(row, today).partition(" (")
        final = retirement(model, version.rstrip(")") or None)
        assert final is None or final.on > today, (row.describe(), final)


def test_a_budget_used_up_before_the_answer_is_asked_again_with_room() -> None:
    # steipete/CodexBar#2867 (Azure OpenAI, max_completion_tokens too small for a reasoning model)
    used_up = {"error": {"message": "Could not finish the message because max_tokens or model output limit was "
                         "reached. Please try again with higher max_tokens.", "type": "invalid_request_error",
                         "param": None, "code": None}}
    reasoning = calls.plan_call(INFO, "o3", None, "2024-12-01-preview")
    adapted = calls.adapt(reasoning, 400, used_up)
    assert adapted is not None and adapted[0].body["max_completion_tokens"] == calls.MAX_BUDGET
    assert calls.adapt(adapted[0], 400, used_up) is None  # never more than the bound
    (finding,) = interpret(400, used_up, ctx(call=adapted[0]))
    assert finding.cause == "parameter_unsupported" and "whole 256-token budget" in finding.message


def test_apim_answers_are_the_gateway_not_the_key() -> None:
    gateway = parse("https://contoso-apim.azure-api.net/openai-proxy")
    apim = dp.Context(gateway, "chat", CALL, "2024-10-21", "entra", APP)
    missing = {"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include "
               "subscription key when making requests to an API."}
    (finding,) = interpret(401, missing, apim)
    assert finding.cause == "gateway_key_missing" and "Ocp-Apim-Subscription-Key" in (finding.fix or "")
    renamed = dp.Context(apim.info, "chat", CALL, "2024-10-21", "entra", APP, gateway_header="api-key")
    assert "api-key" in (interpret(401, missing, renamed)[0].fix or "")
    # felixrieseberg/project-oxford#24: API Management's wrong-key answer, not Azure OpenAI's invalid key
    invalid = {"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a "
               "valid key for an active subscription."}
    assert interpret(401, invalid, apim)[0].cause == "gateway_key_missing"
    validate_jwt = {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}
    assert interpret(401, validate_jwt, apim)[0].fix.startswith("Send an Entra token for the audience")  # type: ignore[union-attr]


def test_a_foundry_project_names_azure_ai_user() -> None:
    project = dp.Context(parse("https://contoso.services.ai.azure.com/api/projects/p1"), "chat", CALL, None, "entra",
                         APP)
    # Verbatim from davrous/AzureAgentToM365#3 (the principal id masked there too).
    body = {"error": {"code": "PermissionDenied", "message": "The principal XXXXXXXXXXXXXXXX lacks the required data "
                      "action Microsoft.CognitiveServices/accounts/AIServices/agents/read to perform GET "
                      "/api/projects/{projectName}/assistants/{assistantId} operation. For instructions on granting "
                      "the necessary permissions, see https://aka.ms/FoundryPermissions."}}
    (finding,) = interpret(401, body, project)
    assert finding.cause == "role_assignment_missing" and "Azure AI User" in (finding.fix or "")
    assert "AIServices/agents/read" in finding.message
