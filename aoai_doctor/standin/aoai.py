"""The Azure OpenAI data-plane stand-in.

Checks are applied in the order the service applies them: network rules, route and
``api-version``, authentication (key or Bearer: regional host, signature/audience/lifetime,
tenant, role assignment), deployment, operation support, rate limit, content filter, then the
injected processing delay. Every answer carries the gateway's headers (``apim-request-id``,
``x-request-id``, ``x-ms-region``, the echoed ``x-ms-client-request-id``…).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from aoai_doctor.standin import rbac, versions
from aoai_doctor.standin.directory import Directory
from aoai_doctor.standin.scenario import Deployment, DeploymentKind, ServiceName, region_display_name
from aoai_doctor.standin.tokens import TokenSigner
from aoai_doctor.standin.wire import HttpRequest, HttpResponse

AUDIENCES = ("https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/")
_DEPLOYMENT_ROUTE = re.compile(
    r"^/openai/deployments/(?P<name>[^/]+)/(?P<op>chat/completions|completions|embeddings)/?$"
)
_V1_ROUTE = re.compile(r"^/openai/v1/(?P<op>chat/completions|embeddings|models)/?$")
_OPERATION_KIND = {
    "chat/completions": DeploymentKind.CHAT,
    "completions": DeploymentKind.COMPLETION,
    "embeddings": DeploymentKind.EMBEDDING,
}
_OPERATION_WORD = {
    "chat/completions": "chatCompletion",
    "completions": "completion",
    "embeddings": "embeddings",
}
_OPERATION_ID = {
    "chat/completions": "ChatCompletions_Create",
    "completions": "Completions_Create",
    "embeddings": "Embeddings_Create",
}
_EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}
_SAFE = {"filtered": False, "severity": "safe"}
UNAUTHORIZED_MESSAGE = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), "
    "or have expired."
)
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


class AoaiError(Exception):
    """A data-plane failure with its status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers


def _error(status: int, code: str | None, message: str, **extra: Any) -> AoaiError:
    return AoaiError(status, {"error": {"code": code, "message": message, **extra}})


def resource_not_found() -> AoaiError:
    """The ambiguous 404 for a wrong path or a bad/missing ``api-version``."""
    return _error(404, "404", "Resource not found")


@dataclass
class _Window:
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


@dataclass(frozen=True)
class _Call:
    operation: str
    """``chat/completions``, ``completions``, ``embeddings`` or ``models``."""
    deployment_name: str | None
    api_version: str
    body: Any


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
        required = _OPERATION_KIND[call.operation]
        if deployment.kind is not required:
            raise _error(
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
            raise _error(400, None, "Invalid JSON body", type="invalid_request_error", param=None)
        prompt = _prompt_text(call.operation, body)
        estimate = _tokens(prompt) + int(body.get("max_tokens") or body.get("max_completion_tokens") or 16)
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
        if self._resource.delay_ms:
            self._wait(self._resource.delay_ms / 1000)
        if call.operation == "chat/completions":
            return _chat(deployment, body)
        if call.operation == "completions":
            return _completion(deployment, body, prompt)
        return _embeddings(deployment, body)

    def _check_network(self, client_ip: str) -> None:
        if not self._resource.public_network_access:
            raise _error(403, "403", "Public access is disabled. Please configure private endpoint.")
        if self._resource.allowed_ips:
            address = ipaddress.ip_address(client_ip)
            if not any(address in ipaddress.ip_network(c, strict=False) for c in self._resource.allowed_ips):
                raise _error(403, "403", "Access denied due to Virtual Network/Firewall rules.")

    def _route(self, request: HttpRequest) -> _Call:
        version = request.query.get("api-version", "")
        if match := _DEPLOYMENT_ROUTE.match(request.path):
            if request.method != "POST" or not versions.serves(version, match["op"]):
                raise resource_not_found()
            return _Call(match["op"], match["name"], version, request.json())
        if match := _V1_ROUTE.match(request.path):
            operation = match["op"]
            if request.method != ("GET" if operation == "models" else "POST"):
                raise resource_not_found()
            if not versions.serves_v1(request.query.get("api-version")):
                raise _error(400, "BadRequest", "API version not supported")
            body = request.json()
            name = body.get("model") if isinstance(body, dict) else None
            return _Call(operation, str(name) if name else None, version, body)
        raise resource_not_found()

    def _authorize(self, request: HttpRequest, call: _Call) -> None:
        key = request.header("api-key")
        if key:
            if self._resource.disable_local_auth:
                raise _error(
                    403,
                    "AuthenticationTypeDisabled",
                    "Key based authentication is disabled for this resource.",
                )
            if key not in self._dir.api_keys:
                raise _error(401, "401", INVALID_KEY_MESSAGE)
            return
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AoaiError(401, {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE})
        if self._regional:
            raise _error(
                400,
                "BadRequest",
                "Please provide a custom subdomain for token authentication, otherwise API key is required. "
                "(Please see https://aka.ms/cogsvc-authenticatewithtoken)",
            )
        try:
            verified = self._signer.verify(token.strip(), AUDIENCES)
        except jwt.PyJWTError:
            raise AoaiError(401, {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE}) from None
        resource_tenant = self._dir.resource_tenant
        if verified.tenant_id.lower() != resource_tenant.id.lower():
            raise _error(
                400,
                "Tenant provided in token does not match resource token",
                f"Token tenant {verified.tenant_id} does not match resource tenant.",
            )
        action = rbac.data_action(call.operation)
        if not rbac.allows(self._dir.roles_of(verified.object_id), action):
            raise _error(
                401,
                "PermissionDenied",
                "Principal does not have access to API/Operation.",
                innererror={
                    "code": "PermissionDenied",
                    "principalId": verified.object_id,
                    "dataAction": action,
                },
            )

    def _deployment(self, name: str) -> Deployment:
        deployment = next((d for d in self._dir.scenario.deployments if d.name == name), None)
        if deployment is None:
            raise _error(
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


def _prompt_text(operation: str, body: dict[str, Any]) -> str:
    if operation == "chat/completions":
        parts: list[str] = []
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)
    raw = body.get("prompt" if operation == "completions" else "input", "")
    if isinstance(raw, list):
        return "\n".join(str(x) for x in raw)
    return str(raw)


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _filter_results() -> dict[str, Any]:
    return {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}


def _reply(prompt_tokens: int) -> tuple[str, dict[str, int]]:
    content = "pong"
    usage = {"completion_tokens": 1, "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + 1}
    return content, usage


def _chat(deployment: Deployment, body: dict[str, Any]) -> HttpResponse:
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise _error(400, None, "'messages' is a required property", type="invalid_request_error", param=None)
    prompt_tokens = _tokens(_prompt_text("chat/completions", body)) + 7
    content, usage = _reply(prompt_tokens)
    created = int(time.time())
    completion_id = "chatcmpl-" + uuid.uuid4().hex[:29]
    fingerprint = "fp_" + hashlib.sha1(deployment.model_id.encode()).hexdigest()[:10]
    prompt_filter = [{"prompt_index": 0, "content_filter_results": _filter_results()}]
    if body.get("stream"):
        base = {
            "created": created,
            "id": completion_id,
            "model": deployment.model_id,
            "object": "chat.completion.chunk",
            "system_fingerprint": fingerprint,
        }
        chunks: list[dict[str, Any]] = [
            {
                "choices": [],
                "created": 0,
                "id": "",
                "model": "",
                "object": "",
                "prompt_filter_results": prompt_filter,
            },
            {
                **base,
                "choices": [
                    {
                        "content_filter_results": {},
                        "delta": {"content": "", "refusal": None, "role": "assistant"},
                        "finish_reason": None,
                        "index": 0,
                        "logprobs": None,
                    }
                ],
            },
            {
                **base,
                "choices": [
                    {
                        "content_filter_results": _filter_results(),
                        "delta": {"content": content},
                        "finish_reason": None,
                        "index": 0,
                        "logprobs": None,
                    }
                ],
            },
            {
                **base,
                "choices": [
                    {
                        "content_filter_results": {},
                        "delta": {},
                        "finish_reason": "stop",
                        "index": 0,
                        "logprobs": None,
                    }
                ],
            },
        ]
        events = tuple(f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode() for c in chunks)
        return HttpResponse(
            200,
            b"",
            (("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")),
            events=(*events, b"data: [DONE]\n\n"),
        )
    payload = {
        "choices": [
            {
                "content_filter_results": _filter_results(),
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "message": {"content": content, "refusal": None, "role": "assistant"},
            }
        ],
        "created": created,
        "id": completion_id,
        "model": deployment.model_id,
        "object": "chat.completion",
        "prompt_filter_results": prompt_filter,
        "system_fingerprint": fingerprint,
        "usage": usage,
    }
    return HttpResponse.json(200, payload)


def _completion(deployment: Deployment, body: dict[str, Any], prompt: str) -> HttpResponse:
    content, usage = _reply(_tokens(prompt))
    payload = {
        "choices": [
            {
                "content_filter_results": _filter_results(),
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "text": content,
            }
        ],
        "created": int(time.time()),
        "id": "cmpl-" + uuid.uuid4().hex[:29],
        "model": deployment.model_id,
        "object": "text_completion",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _filter_results()}],
        "usage": usage,
    }
    return HttpResponse.json(200, payload)


def _embeddings(deployment: Deployment, body: dict[str, Any]) -> HttpResponse:
    raw = body.get("input")
    if raw is None or raw == "" or raw == []:
        raise _error(400, None, "'input' is a required property", type="invalid_request_error", param=None)
    inputs = raw if isinstance(raw, list) else [raw]
    dims = int(body.get("dimensions") or _EMBEDDING_DIMENSIONS.get(deployment.model, 1536))
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, item in enumerate(inputs):
        text = json.dumps(item)
        tokens += _tokens(text)
        vector = _vector(text, dims)
        encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    payload = {
        "object": "list",
        "data": data,
        "model": deployment.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return HttpResponse.json(200, payload)


def _vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector derived from ``text``."""
    seed = hashlib.sha256(text.encode()).digest()
    values = [((seed[i % 32] ^ (i * 31 & 0xFF)) - 127.5) / 127.5 for i in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]
