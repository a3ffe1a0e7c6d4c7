"""The data-plane test call as pure functions: what to send for a deployment, and how to ask again when
the service names what it wants instead. What an answer means is :mod:`aoai_doctor.azure.answers`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aoai_doctor.azure import api_versions as av
from aoai_doctor.azure.endpoints import MODELS_INFERENCE_VERSION, EndpointInfo
from aoai_doctor.azure.models import is_reasoning
from aoai_doctor.record import record


@record
class Call:
    """What to send for one deployment."""

    kind: str
    """chat, completion, embedding or responses."""
    url: str
    body: dict[str, Any]
    operation: str
    """The route's operation, as the service names it in errors (chat/completions …)."""
    param: str | None = None
    """The body's token-budget parameter (``max_tokens``, ``max_completion_tokens``, ``max_output_tokens``)."""

    @property
    def budget(self) -> int:
        """The most tokens the call may produce (0 for embeddings)."""
        value = self.body.get(self.param, 0) if self.param else 0
        return value if isinstance(value, int) else 0


BUDGET = 16
"""The token budget of the test call: the smallest every current model accepts (reasoning models refuse
budgets under 16 with ``integer_below_min_value``; service reference §9.3)."""
MAX_ADAPTATIONS = 2
"""How many times the call is changed to what a 400 names: a parameter, then a budget."""
MAX_BUDGET = 256
"""The most an adapted call may ask for: when the service names a higher minimum, or when a reasoning model
used the whole budget before it could answer."""


def budget_param(kind: str, deployment: str) -> str | None:
    """The token-budget parameter a route and model family take: ``max_output_tokens`` on Responses,
    ``max_completion_tokens`` for reasoning models (they refuse ``max_tokens``), else ``max_tokens``."""
    if kind == "embedding":
        return None
    if kind == "responses":
        return "max_output_tokens"
    if kind == "chat" and is_reasoning(deployment):
        return "max_completion_tokens"
    return "max_tokens"


def plan_call(
    info: EndpointInfo,
    deployment: str,
    kind: str | None,
    api_version: str | None,
    stream: bool = False,
    token_param: str | None = None,
    prompt: str = "ping",
    budget: int = BUDGET,
) -> Call:
    """The smallest request that proves the deployment answers on the route that fits it: no sampling
    parameters, a budget the model accepts. A v1 endpoint (and a Foundry project, whose OpenAI surface is
    the v1 API) and the Responses API use ``/openai/v1`` with the deployment as ``model``."""
    kind = kind or "chat"
    param = token_param or budget_param(kind, deployment)
    body: dict[str, Any]
    if info.models_inference and kind in ("chat", "embedding"):
        # The Azure AI Model Inference route: its own api-version, the deployment as ``model``.
        query = f"?api-version={api_version or MODELS_INFERENCE_VERSION}"
        if kind == "embedding":
            return Call(kind, f"{info.base_url}/models/embeddings{query}", {"model": deployment, "input": [prompt]},
                        "embeddings")
        body = {"model": deployment, "messages": [{"role": "user", "content": prompt}], param or "max_tokens": budget}
        url, operation = f"{info.base_url}/models/chat/completions{query}", "chat/completions"
    elif info.is_v1 or kind == "responses":
        base = f"{info.base_url}/openai/v1"
        # The v1 surface takes no dated api-version; only its own values are passed on.
        query = f"?api-version={api_version}" if api_version in av.V1_VALUES else ""
        body = {"model": deployment}
        if kind == "embedding":
            return Call(kind, f"{base}/embeddings{query}", {**body, "input": prompt}, "embeddings")
        if kind == "responses":
            body = {**body, "input": prompt, "max_output_tokens": budget}
            url, operation = f"{base}/responses{query}", "responses"
        elif kind == "completion":
            body = {**body, "prompt": prompt, "max_tokens": budget}
            url, operation = f"{base}/completions{query}", "completions"
        else:
            body = {**body, "messages": [{"role": "user", "content": prompt}], param or "max_tokens": budget}
            url, operation = f"{base}/chat/completions{query}", "chat/completions"
    else:
        base = f"{info.base_url}/openai/deployments/{deployment}"
        query = f"?api-version={api_version}" if api_version else ""
        if kind == "embedding":
            return Call(kind, f"{base}/embeddings{query}", {"input": prompt}, "embeddings")
        if kind == "completion":
            body = {"prompt": prompt, "max_tokens": budget}
            url, operation = f"{base}/completions{query}", "completions"
        else:
            body = {"messages": [{"role": "user", "content": prompt}], param or "max_tokens": budget}
            url, operation = f"{base}/chat/completions{query}", "chat/completions"
    if stream:
        body["stream"] = True
    return Call(kind, url, body, operation, param)


def adapt(call: Call, status: int, data: dict[str, Any] | None) -> tuple[Call, str] | None:
    """The same call changed once to what a 400 answer names, and what changed; None when the answer
    does not name something the call can give. A reasoning model that refuses ``max_tokens`` gets
    ``max_completion_tokens``; a budget under the model's minimum is raised to it (up to
    :data:`MAX_BUDGET`), and so is one the model used up reasoning before it could answer; an api-version
    that does not know ``max_completion_tokens`` gets ``max_tokens``."""
    if status != 400 or call.param is None or data is None:
        return None
    message, code, param = error_message(data), error_code(data).lower(), error_param(data)
    named = param or (m.group(2) if (m := re.search(UNSUPPORTED, message)) else "")
    if call.param == "max_tokens" and named == "max_tokens" and "max_completion_tokens" in message:
        return _with_param(call, "max_completion_tokens"), ("the model refuses max_tokens; asked again with "
                                                           "max_completion_tokens")
    if call.param == "max_completion_tokens" and re.search(_UNRECOGNISED, message):
        return _with_param(call, "max_tokens"), ("this api-version does not know max_completion_tokens; asked "
                                                 "again with max_tokens")
    if re.search(OUTPUT_LIMIT, message) and call.budget < MAX_BUDGET:
        # The model spent the budget before it could answer (steipete/CodexBar#2867): one call with room.
        body = {**call.body, call.param: MAX_BUDGET}
        return (Call(call.kind, call.url, body, call.operation, call.param),
                f"the model used up {call.budget} tokens before answering; asked again with {MAX_BUDGET}")
    below = code == "integer_below_min_value" or "below minimum value" in message
    if below and (not named or named == call.param) and (m := re.search(r">=\s*(\d+)", message)):
        minimum = int(m.group(1))
        if call.budget < minimum <= MAX_BUDGET:
            body = {**call.body, call.param: minimum}
            return (Call(call.kind, call.url, body, call.operation, call.param),
                    f"the model wants {call.param} >= {minimum}; asked again with {minimum}")
    return None


def _with_param(call: Call, param: str) -> Call:
    body = {k: v for k, v in call.body.items() if k != call.param}
    body[param] = call.budget
    return Call(call.kind, call.url, body, call.operation, param)


MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects :func:`parse_body` reads; a real error body is 3 deep.
``json.loads`` recurses once per level and raises ``RecursionError`` near the interpreter's limit."""
MAX_JSON_BYTES = 1 << 20
"""The largest body :func:`parse_body` reads (the HTTP layer keeps no more: ``services.http.MAX_BODY``)."""

_JSON_STRING = rb'(?s)"(?:[^"\\]|\\.)*"'
_JSON_BRACKET = rb"[\[\]{}]"


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw``, counted without recursion (brackets inside strings
    do not count; malformed input gives a number, never an error)."""
    depth = deepest = 0
    for match in re.finditer(_JSON_BRACKET, re.sub(_JSON_STRING, b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def parse_body(body: bytes) -> dict[str, Any] | None:
    """The JSON object of an answer, or None when it is not JSON (an HTML page, nothing at all), is larger
    than :data:`MAX_JSON_BYTES` or nests deeper than :data:`MAX_JSON_DEPTH`."""
    if body_unreadable(body):
        return None
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def body_unreadable(body: bytes) -> str:
    """Why :func:`parse_body` will not parse ``body`` as JSON before trying (too large, too deep), or ''."""
    if len(body) > MAX_JSON_BYTES:
        return f"the body is {len(body)} bytes, more than the {MAX_JSON_BYTES} read as JSON"
    # nothing nests deeper than it has brackets: most bodies are passed on a count, in C
    if (body.lstrip()[:1] in (b"{", b"[") and body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH
            and (depth := json_depth(body)) > MAX_JSON_DEPTH):
        return f"the body's JSON nests {depth} levels deep, more than the {MAX_JSON_DEPTH} read"
    return ""


def error_code(data: Mapping[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or "")
    return str(data.get("statusCode") or "")


def error_param(data: Mapping[str, Any] | None) -> str:
    error = data.get("error") if data else None
    return str(error.get("param") or "") if isinstance(error, dict) else ""


def error_message(data: Mapping[str, Any] | None) -> str:
    if not data:
        return ""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(data.get("message") or "")


UNSUPPORTED = r"(?i)unsupported (parameter|value): '([\w.\[\]]+)'"
OUTPUT_LIMIT = r"(?i)could not finish the message because max_tokens or model output limit was reached"
_UNRECOGNISED = r"(?i)unrecogni[sz]ed request argument supplied: max_completion_tokens"
