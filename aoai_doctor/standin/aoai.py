"""The Azure OpenAI data-plane stand-in.

Checks are applied in the order the service applies them: network rules, route and
``api-version`` (deployments, v1, the dated Responses route, a Foundry project's v1 surface),
authentication (key or Bearer: regional host, signature/audience/lifetime, tenant, role
assignment), deployment (a retired model version answers 404 "Resource not found"), operation
support, the reasoning model's parameter rules, rate limit, content filter, then the injected
processing delay. Every answer carries the gateway's headers (``apim-request-id``,
``x-request-id``, ``x-ms-region``, the echoed ``x-ms-client-request-id``…).
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from aoai_doctor.record import record
from aoai_doctor.standin import inference, rbac, reasoning, versions
from aoai_doctor.standin.directory import Directory
from aoai_doctor.standin.errors import AoaiError, error, resource_not_found
from aoai_doctor.standin.scenario import Deployment, DeploymentKind, ServiceName, region_display_name
from aoai_doctor.standin.tokens import TokenSigner, VerifiedToken
from aoai_doctor.standin.wire import HttpRequest, HttpResponse

__all__ = [
    "AUDIENCES",
    "FOUNDRY_AUDIENCES",
    "AoaiError",
    "AoaiService",
    "RateLimiter",
    "resource_not_found",
]

AUDIENCES = ("https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/")
#: What a Foundry project endpoint accepts: tokens for ``https://ai.azure.com`` only (a token for
#: cognitiveservices.azure.com gets "audience is incorrect (https://ai.azure.com)", microsoft/agent-framework#7201).
FOUNDRY_AUDIENCES = ("https://ai.azure.com", "https://ai.azure.com/")
_OPERATIONS = "chat/completions|embeddings|models|responses"
_DEPLOYMENT_ROUTE = re.compile(
    r"^/openai/deployments/(?P<name>[^/]+)/(?P<op>chat/completions|completions|embeddings)/?$"
)
_V1_ROUTE = re.compile(rf"^/openai/v1/(?P<op>{_OPERATIONS})/?$")
_RESPONSES_ROUTE = re.compile(r"^/openai/(?P<op>responses)/?$")
_PROJECT_ROUTE = re.compile(rf"^/api/projects/(?P<project>[^/]+)/openai/v1/(?P<op>{_OPERATIONS})/?$")
_OPERATION_KIND = {
    "chat/completions": DeploymentKind.CHAT,
    "responses": DeploymentKind.CHAT,
    "completions": DeploymentKind.COMPLETION,
    "embeddings": DeploymentKind.EMBEDDING,
}
_OPERATION_WORD = {
    "chat/completions": "chatCompletion",
    "responses": "responses",
    "completions": "completion",
    "embeddings": "embeddings",
}
_OPERATION_ID = {
    "chat/completions": "ChatCompletions_Create",
    "responses": "createResponse",
    "completions": "Completions_Create",
    "embeddings": "Embeddings_Create",
}
_SAFE = {"filtered": False, "severity": "safe"}


def _unauthorized(audience: str) -> str:
    return (
        f"Unauthorized. Access token is missing, invalid, audience is incorrect ({audience}), or have expired."
    )


UNAUTHORIZED_MESSAGE = _unauthorized("https://cognitiveservices.azure.com")
FOUNDRY_UNAUTHORIZED_MESSAGE = _unauthorized("https://ai.azure.com")
INVALID_KEY_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
    "Please modify "
    "your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: "
    "https://go.microsoft.com/fwlink/?linkid=2198766"
)
#: A Foundry project's v1 surface refuses any api-version (quoted with code BadRequest in public notes).
PROJECT_API_VERSION_MESSAGE = "api-version query parameter is not allowed when using /v1 path"
#: The dated Responses route before 2025-03-01-preview (Aider-AI/aider#4029).
RESPONSES_TOO_OLD_MESSAGE = "Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later"
FOUNDRY_PERMISSIONS = "For instructions on granting the necessary permissions, see https://aka.ms/FoundryPermissions."


@dataclass
class _Window:
    """Requests and tokens counted in the current minute."""

    start: float
    requests: int = 0
    tokens: int = 0


class RateLimiter:
    """Per-deployment request and token budgets over fixed one-minute windows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def take(self, deployment: Deployment, tokens: int) -> tuple[bool, str, int, int, int]:
        """Charge one call.

        Returns (allowed, limit kind, retry-after seconds, remaining requests, remaining tokens).
        """
        current = time.monotonic()
        with self._lock:
            window = self._windows.get(deployment.name)
            if window is None or current - window.start >= 60:
                window = self._windows[deployment.name] = _Window(start=current)
            retry_after = max(1, math.ceil(60 - (current - window.start)))
            if deployment.exhausted:
                return False, "token", retry_after, 0, 0
            if window.requests + 1 > deployment.rpm:
                return False, "call", retry_after, 0, max(0, deployment.tpm - window.tokens)
            if window.tokens + tokens > deployment.tpm:
                return False, "token", retry_after, deployment.rpm - window.requests, 0
            window.requests += 1
            window.tokens += tokens
            return True, "", 0, deployment.rpm - window.requests, deployment.tpm - window.tokens


@record
class _Call:
    """What a data-plane request asks for, read from its route, query and body."""

    operation: str
    """``chat/completions``, ``completions``, ``embeddings``, ``responses`` or ``models``."""
    deployment_name: str | None
    api_version: str
    body: Any
    surface: str
    """``deployments``, ``v1``, ``responses`` (the dated ``/openai/responses`` route) or ``project``."""
    path: str
    """The request path, for "to perform ``POST /openai/v1/responses`` operation"."""


class AoaiService:
    """Answers data-plane requests for the scenario's resource on one host kind."""

    service = ServiceName.AOAI

    def __init__(
        self, directory: Directory, signer: TokenSigner, limiter: RateLimiter, *, regional: bool, wait: Any
    ) -> None:
        """``wait(seconds)`` sleeps unless the stand-in is stopping (used for the processing delay)."""
        self._dir = directory
        self._signer = signer
        self._limiter = limiter
        self._regional = regional
        self._wait = wait
        self._resource = directory.scenario.resource

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request."""
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        headers: list[tuple[str, str]] = []
        try:
            response = self._answer(request, headers)
        except AoaiError as failure:
            response = HttpResponse.json(failure.status, failure.body, failure.headers)
        elapsed_ms = (time.monotonic() - started) * 1000 + 0.5
        common = [
            ("apim-request-id", request_id),
            ("x-request-id", request_id),
            ("x-ms-region", region_display_name(self._resource.region)),
            ("openai-processing-ms", f"{elapsed_ms:.4f}"),
            ("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"),
            ("x-content-type-options", "nosniff"),
        ]
        client_request_id = request.header("x-ms-client-request-id")
        if client_request_id:
            common.append(("x-ms-client-request-id", client_request_id))
        return response.with_headers(tuple(common + headers))

    # pipeline ----------------------------------------------------------------------------------

    def _answer(self, request: HttpRequest, headers: list[tuple[str, str]]) -> HttpResponse:
        self._check_network(request.client_ip)
        call = self._route(request)
        self._authorize(request, call)
        if call.operation == "models":
            return self._models()
        deployment = self._deployment(call.deployment_name or "")
        headers.append(("x-ms-deployment-name", deployment.name))
        if deployment.retired is not None:
            raise resource_not_found()  # the same body as a wrong api-version (BerriAI/litellm#11116)
        if deployment.kind is not _OPERATION_KIND[call.operation]:
            raise error(
                400,
                "OperationNotSupported",
                f"The {_OPERATION_WORD[call.operation]} operation does not work with the specified model, "
                f"{deployment.model}. Please choose different model and try again. You can learn more about "
                "which "
                "models can be used with each operation here: "
                "https://go.microsoft.com/fwlink/?linkid=2197993.",
            )
        body = call.body if isinstance(call.body, dict) else None
        if body is None:
            raise error(400, None, "Invalid JSON body", type="invalid_request_error", param=None)
        budget = reasoning.check(deployment, call.operation, body)
        prompt = inference.prompt_text(call.operation, body)
        requested = (
            body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens") or 16
        )
        estimate = inference.tokens(prompt) + (requested if isinstance(requested, int) else 16)
        allowed, kind, retry_after, left_requests, left_tokens = self._limiter.take(deployment, estimate)
        headers.extend(
            [
                ("x-ratelimit-limit-requests", str(deployment.rpm)),
                ("x-ratelimit-limit-tokens", str(deployment.tpm)),
                ("x-ratelimit-remaining-requests", str(left_requests)),
                ("x-ratelimit-remaining-tokens", str(left_tokens)),
            ]
        )
        if not allowed:
            version = call.api_version or "v1"
            raise AoaiError(
                429,
                {
                    "error": {
                        "code": "429",
                        "message": f"Requests to the {_OPERATION_ID[call.operation]} Operation under "
                        "Azure OpenAI API "
                        f"version {version} have exceeded {kind} rate limit of your current OpenAI S0 "
                        "pricing tier. "
                        f"Please retry after {retry_after} seconds. Please go here: "
                        "https://aka.ms/oai/quotaincrease "
                        "if you would like to further increase the default rate limit.",
                    }
                },
                (("retry-after", str(retry_after)), ("retry-after-ms", str(retry_after * 1000))),
            )
        if call.operation != "embeddings":
            self._check_content(prompt)
        spend = reasoning.spend(deployment, budget)
        if self._resource.delay_ms:
            self._wait(self._resource.delay_ms / 1000)
        if call.operation == "chat/completions":
            return inference.chat(deployment, body, spend)
        if call.operation == "responses":
            return inference.responses(deployment, body, spend)
        if call.operation == "completions":
            return inference.completion(deployment, prompt)
        return inference.embeddings(deployment, body)

    def _check_network(self, client_ip: str) -> None:
        if not self._resource.public_network_access:
            raise error(403, "403", "Public access is disabled. Please configure private endpoint.")
        if self._resource.allowed_ips:
            address = ipaddress.ip_address(client_ip)
            if not any(address in ipaddress.ip_network(c, strict=False) for c in self._resource.allowed_ips):
                raise error(403, "403", "Access denied due to Virtual Network/Firewall rules.")

    def _route(self, request: HttpRequest) -> _Call:
        version = request.query.get("api-version", "")
        path = request.path.rstrip("/")
        if match := _DEPLOYMENT_ROUTE.match(request.path):
            if request.method != "POST" or not versions.serves(version, match["op"]):
                raise resource_not_found()
            return _Call(match["op"], match["name"], version, request.json(), "deployments", path)
        if match := _V1_ROUTE.match(request.path):
            self._check_method(request, match["op"])
            if not versions.serves_v1(request.query.get("api-version")):
                raise error(400, "BadRequest", "API version not supported")
            return self._model_call(request, match["op"], version, "v1", path)
        if match := _RESPONSES_ROUTE.match(request.path):
            self._check_method(request, "responses")
            served = versions.serves_responses(version)
            if served is None:
                raise resource_not_found()
            if not served:
                raise error(400, "BadRequest", RESPONSES_TOO_OLD_MESSAGE)
            return self._model_call(request, "responses", version, "responses", path)
        if (match := _PROJECT_ROUTE.match(request.path)) and self._resource.projects:
            if self._resource.project(match["project"]) is None:
                raise error(404, "NotFound", "The project does not exist.")
            self._check_method(request, match["op"])
            if "api-version" in request.query:
                raise error(400, "BadRequest", PROJECT_API_VERSION_MESSAGE)
            return self._model_call(request, match["op"], "", "project", path)
        raise resource_not_found()

    @staticmethod
    def _check_method(request: HttpRequest, operation: str) -> None:
        if request.method != ("GET" if operation == "models" else "POST"):
            raise resource_not_found()

    @staticmethod
    def _model_call(request: HttpRequest, operation: str, version: str, surface: str, path: str) -> _Call:
        """A call that names its deployment in the body's ``model``."""
        body = request.json()
        name = body.get("model") if isinstance(body, dict) else None
        return _Call(operation, str(name) if name else None, version, body, surface, path)

    def _authorize(self, request: HttpRequest, call: _Call) -> None:
        key = request.header("api-key")
        if key:
            if self._resource.disable_local_auth:
                raise error(
                    403,
                    "AuthenticationTypeDisabled",
                    "Key based authentication is disabled for this resource.",
                )
            if key not in self._dir.api_keys:
                raise error(401, "401", INVALID_KEY_MESSAGE)
            return
        project = call.surface == "project"
        audiences, unauthorized = (
            (FOUNDRY_AUDIENCES, FOUNDRY_UNAUTHORIZED_MESSAGE) if project else (AUDIENCES, UNAUTHORIZED_MESSAGE)
        )
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AoaiError(401, {"statusCode": 401, "message": unauthorized})
        if self._regional:
            raise error(
                400,
                "BadRequest",
                "Please provide a custom subdomain for token authentication, otherwise API key is required. "
                "(Please see https://aka.ms/cogsvc-authenticatewithtoken)",
            )
        try:
            verified = self._signer.verify(token.strip(), audiences)
        except jwt.PyJWTError:
            raise AoaiError(401, {"statusCode": 401, "message": unauthorized}) from None
        resource_tenant = self._dir.resource_tenant
        if verified.tenant_id.lower() != resource_tenant.id.lower():
            raise error(
                400,
                "Tenant provided in token does not match resource token",
                f"Token tenant {verified.tenant_id} does not match resource tenant.",
            )
        roles = self._dir.roles_of(verified.object_id)
        if project:
            if not rbac.allows(roles, rbac.PROJECT_DATA_ACTION):
                raise self._lacks(verified, rbac.PROJECT_DATA_ACTION, "POST /api/projects/{projectName}/openai/*",
                                  FOUNDRY_PERMISSIONS)
            return
        action = rbac.data_action(call.operation)
        if rbac.allows(roles, action):
            return
        if call.operation == "responses":
            raise self._lacks(verified, action, f"POST {call.path}", "")
        raise error(
            401,
            "PermissionDenied",
            "Principal does not have access to API/Operation.",
            innererror={"code": "PermissionDenied", "principalId": verified.object_id, "dataAction": action},
        )

    @staticmethod
    def _lacks(verified: VerifiedToken, action: str, operation: str, advice: str) -> AoaiError:
        """The newer PermissionDenied text, naming the principal, the data action and the operation
        (microsoft-foundry/foundry-samples#692; for ``responses/write``, public notes quoting the same 401)."""
        principal = str(verified.claims.get("upn") or verified.object_id)
        message = (
            f"The principal `{principal}` lacks the required data action `{action}` to perform `{operation}` "
            "operation."
        )
        return error(401, "PermissionDenied", f"{message} {advice}" if advice else message)

    def _deployment(self, name: str) -> Deployment:
        deployment = next((d for d in self._dir.scenario.deployments if d.name == name), None)
        if deployment is None:
            raise error(
                404,
                "DeploymentNotFound",
                "The API deployment for this resource does not exist. If you created the deployment within "
                "the last "
                "5 minutes, please wait a moment and try again.",
            )
        return deployment

    def _check_content(self, prompt: str) -> None:
        lowered = prompt.lower()
        if any(trigger.lower() in lowered for trigger in self._resource.content_filter_triggers):
            results = {
                "hate": _SAFE,
                "jailbreak": {"filtered": False, "detected": False},
                "self_harm": _SAFE,
                "sexual": _SAFE,
                "violence": {"filtered": True, "severity": "medium"},
            }
            raise AoaiError(
                400,
                {
                    "error": {
                        "message": CONTENT_FILTER_MESSAGE,
                        "type": None,
                        "param": "prompt",
                        "code": "content_filter",
                        "status": 400,
                        "innererror": {
                            "code": "ResponsibleAIPolicyViolation",
                            "content_filter_result": results,
                        },
                    }
                },
            )

    def _models(self) -> HttpResponse:
        created = int(time.time()) - 86400 * 30
        data = [
            {
                "id": model,
                "object": "model",
                "created": created,
                "owned_by": "system",
                "lifecycle_status": "generally-available",
                "status": "succeeded",
            }
            for model in dict.fromkeys(d.model for d in self._dir.scenario.deployments)
        ]
        return HttpResponse.json(200, {"object": "list", "data": data})
