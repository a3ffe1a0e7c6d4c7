"""`run` and `explain` give one wording of each fix: for the service's real answers, the test call's finding
and explain's answer for the same body name the same cause, and the run's fix is explain's with the values
the run knows filled in."""

from __future__ import annotations

import json

import pytest

import aoai_doctor
from aoai_doctor.azure import answers as dp
from aoai_doctor.azure.endpoints import parse
from aoai_doctor.explainer.fixes import fill
from tests.test_dataplane import APP, ctx

KNOWN = {"resource": "contoso-openai", "deployment": "chat", "object-id": APP.object_id,
         "principal-type": APP.principal_type}

# (status, body, auth): bodies verbatim from the service reference (shared/reference/aoai-service.md §5).
ANSWERS = {
    "permission-denied": (401, {"error": {"code": "PermissionDenied", "message": "Principal does not have access to "
                                          "API/Operation."}}, "entra"),
    "invalid-key": (401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong "
                                    "API endpoint. Make sure to provide a valid key for an active subscription and "
                                    "use a correct regional API endpoint for your resource."}}, "api-key"),
    "key-auth-disabled": (403, {"error": {"code": "AuthenticationTypeDisabled", "message": "Key based "
                                          "authentication is disabled for this resource."}}, "api-key"),
    "network": (403, {"error": {"code": "403", "message": "Access denied due to Virtual Network/Firewall rules."}},
                "entra"),
    "deployment-not-found": (404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this "
                                             "resource does not exist. If you created the deployment within the last "
                                             "5 minutes, please wait a moment and try again."}}, "entra"),
    "custom-subdomain": (400, {"error": {"code": "BadRequest", "message": "Please provide a custom subdomain for token "
                                         "authentication, otherwise API key is required."}}, "entra"),
    "operation": (400, {"error": {"code": "OperationNotSupported", "message": "The chatCompletion operation does not "
                                  "work with the specified model, text-embedding-3-small. Please choose different "
                                  "model and try again."}}, "entra"),
    "rate-limited": (429, {"error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation under "
                                     "Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your "
                                     "current OpenAI S0 pricing tier."}}, "entra"),
    "server-error": (500, {"error": {"code": "InternalServerError", "message": "The server had an error while "
                                     "processing your request. Sorry about that!"}}, "entra"),
    # Reasoning models (dotnet/extensions#6945; service reference §9.3).
    "unsupported-value": (400, {"error": {"message": "Unsupported value: 'temperature' does not support 0.2 with "
                                          "this model. Only the default (1) value is supported.",
                                          "type": "invalid_request_error", "param": "temperature",
                                          "code": "unsupported_value"}}, "entra"),
    "below-minimum": (400, {"error": {"message": "Invalid 'max_completion_tokens': integer below minimum value. "
                                      "Expected a value >= 16, but got 1 instead.", "type": "invalid_request_error",
                                      "param": "max_completion_tokens", "code": "integer_below_min_value"}}, "entra"),
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_run_and_explain_give_one_wording(name: str) -> None:
    status, body, auth = ANSWERS[name]
    (finding,) = dp.interpret(status, {}, json.dumps(body).encode(), ctx(auth=auth))
    answer = aoai_doctor.explain(f"HTTP {status}: {json.dumps(body)}")
    assert answer.cause == finding.cause
    values = {**KNOWN, **({"route": "embeddings"} if name == "operation" else {}),
              **({"param": body["error"]["param"]} if name in ("unsupported-value", "below-minimum") else {})}
    assert fill(answer.fix, values) == finding.fix


def test_fill_leaves_unknown_placeholders() -> None:
    assert fill("az login --tenant <tenant-id> for <resource>", {"resource": "r1", "tenant-id": None}) == (
        "az login --tenant <tenant-id> for r1")


RAW = {
    "html-block-page": (403, b"<!DOCTYPE html><html><head><title>Web Page Blocked</title></head><body>Access to "
                        b"this site is blocked by your organization.</body></html>", "text/html"),
    "gateway-quota": (403, b'{"statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in '
                      b'00:00:48."}', "application/json"),
    # Azure-Samples/openai-apim-lb#31.
    "gateway-key-missing": (401, b'{"statusCode": 401, "message": "Access denied due to missing subscription key. '
                            b'Make sure to include subscription key when making requests to an API."}',
                            "application/json"),
}


@pytest.mark.parametrize("name", sorted(RAW))
def test_raw_answers_give_one_wording(name: str) -> None:
    status, body, content_type = RAW[name]
    gateway = name.startswith("gateway")
    context = ctx(info=parse("https://contoso-apim.azure-api.net/openai")) if gateway else ctx()
    (finding,) = dp.interpret(status, {"content-type": content_type}, body, context)
    answer = aoai_doctor.explain(f"HTTP {status}: {body.decode()}")
    values = {**KNOWN, **({"resource": "contoso-apim", "endpoint": "https://contoso-apim.azure-api.net",
                           "header": "Ocp-Apim-Subscription-Key"} if gateway else {})}
    assert (answer.cause, fill(answer.fix, values)) == (finding.cause, finding.fix)


def test_the_tenant_a_run_knows_is_in_the_fix() -> None:
    body = {"error": {"code": "401", "message": "Token tenant 11111111-1111-1111-1111-111111111111 does not match "
                      "resource tenant."}}
    (finding,) = dp.interpret(401, {}, json.dumps(body).encode(), ctx(expected_tenant="contoso.onmicrosoft.com"))
    answer = aoai_doctor.explain(json.dumps(body))
    assert answer.cause == finding.cause == "wrong_tenant"
    assert "<tenant-id>" in answer.fix and "<tenant-id>" not in (finding.fix or "")
    assert fill(answer.fix, {**KNOWN, "tenant-id": "contoso.onmicrosoft.com"}) == finding.fix
