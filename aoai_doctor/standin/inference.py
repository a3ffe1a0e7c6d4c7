"""The data plane's successful answers: chat completions (plain and streamed), completions, embeddings
and Responses API objects, all saying "pong".

Shapes follow real Azure answers: chat and completions as captured in the issues cited in
``docs/standin.md``; a reasoning model's usage (``completion_tokens_details.reasoning_tokens``,
``prompt_tokens_details.cached_tokens``) and its cut-off answer (``finish_reason: "length"``, empty
content, ``content_filter_results: {}``) as in lobehub/lobehub#6198; the Responses object as in the
Azure OpenAI Responses API how-to (``object: "response"``, an ``output`` list with a ``message`` item
holding ``output_text``, ``usage`` with ``output_tokens_details.reasoning_tokens``) and the openai SDK's
``Response`` type, ``status: "incomplete"`` with ``incomplete_details.reason: "max_output_tokens"``
when the budget runs out (OpenAI reasoning guide).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import time
import uuid
from typing import Any

from aoai_doctor.standin.errors import error
from aoai_doctor.standin.reasoning import Spend
from aoai_doctor.standin.scenario import Deployment
from aoai_doctor.standin.wire import HttpResponse

__all__ = ["chat", "completion", "embeddings", "prompt_text", "responses", "tokens"]

REPLY = "pong"
_EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}
_SAFE = {"filtered": False, "severity": "safe"}


def prompt_text(operation: str, body: dict[str, Any]) -> str:
    """The text a request asks about (for token estimates and the content filter)."""
    if operation == "chat/completions":
        return _message_text(body.get("messages"))
    if operation == "responses":
        raw = body.get("input", "")
        return raw if isinstance(raw, str) else _message_text(raw)
    raw = body.get("prompt" if operation == "completions" else "input", "")
    if isinstance(raw, list):
        return "\n".join(str(x) for x in raw)
    return str(raw)


def _message_text(messages: Any) -> str:
    parts: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def tokens(text: str) -> int:
    """A rough token count (four characters a token)."""
    return max(1, math.ceil(len(text) / 4))


def _filter_results() -> dict[str, Any]:
    return {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}


def _chat_usage(prompt_tokens: int, spend: Spend | None) -> dict[str, Any]:
    if spend is None:
        return {"completion_tokens": 1, "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + 1}
    completion = spend.reasoning_tokens + (0 if spend.exhausted else 1)
    return {
        "completion_tokens": completion,
        "completion_tokens_details": {"reasoning_tokens": spend.reasoning_tokens},
        "prompt_tokens": prompt_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "total_tokens": prompt_tokens + completion,
    }


def chat(deployment: Deployment, body: dict[str, Any], spend: Spend | None) -> HttpResponse:
    """A chat completion (SSE chunks when ``stream`` is set); cut off when reasoning used the budget."""
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise error(400, None, "'messages' is a required property", type="invalid_request_error", param=None)
    prompt_tokens = tokens(prompt_text("chat/completions", body)) + 7
    cut = spend is not None and spend.exhausted
    content = "" if cut else REPLY
    finish = "length" if cut else "stop"
    created = int(time.time())
    completion_id = "chatcmpl-" + uuid.uuid4().hex[:29]
    fingerprint = "fp_" + hashlib.sha1(deployment.model_id.encode()).hexdigest()[:10]
    prompt_filter = [{"prompt_index": 0, "content_filter_results": _filter_results()}]
    if body.get("stream"):
        return _chat_stream(deployment, completion_id, created, fingerprint, prompt_filter, content, finish)
    message: dict[str, Any] = (
        {"content": "", "role": "assistant"} if cut else {"content": content, "refusal": None, "role": "assistant"}
    )
    payload = {
        "choices": [
            {
                "content_filter_results": {} if cut else _filter_results(),
                "finish_reason": finish,
                "index": 0,
                "logprobs": None,
                "message": message,
            }
        ],
        "created": created,
        "id": completion_id,
        "model": deployment.model_id,
        "object": "chat.completion",
        "prompt_filter_results": prompt_filter,
        "system_fingerprint": fingerprint,
        "usage": _chat_usage(prompt_tokens, spend),
    }
    return HttpResponse.json(200, payload)


def _chat_stream(
    deployment: Deployment,
    completion_id: str,
    created: int,
    fingerprint: str,
    prompt_filter: list[dict[str, Any]],
    content: str,
    finish: str,
) -> HttpResponse:
    base = {
        "created": created,
        "id": completion_id,
        "model": deployment.model_id,
        "object": "chat.completion.chunk",
        "system_fingerprint": fingerprint,
    }

    def choice(delta: dict[str, Any], filters: dict[str, Any], reason: str | None) -> dict[str, Any]:
        entry = {"content_filter_results": filters, "delta": delta, "finish_reason": reason, "index": 0}
        return {**base, "choices": [{**entry, "logprobs": None}]}

    chunks: list[dict[str, Any]] = [
        {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": prompt_filter},
        choice({"content": "", "refusal": None, "role": "assistant"}, {}, None),
    ]
    if content:
        chunks.append(choice({"content": content}, _filter_results(), None))
    chunks.append(choice({}, {}, finish))
    events = tuple(f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode() for c in chunks)
    return HttpResponse(
        200,
        b"",
        (("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")),
        events=(*events, b"data: [DONE]\n\n"),
    )


def completion(deployment: Deployment, prompt: str) -> HttpResponse:
    """A legacy text completion."""
    prompt_tokens = tokens(prompt)
    payload = {
        "choices": [
            {
                "content_filter_results": _filter_results(),
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "text": REPLY,
            }
        ],
        "created": int(time.time()),
        "id": "cmpl-" + uuid.uuid4().hex[:29],
        "model": deployment.model_id,
        "object": "text_completion",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _filter_results()}],
        "usage": _chat_usage(prompt_tokens, None),
    }
    return HttpResponse.json(200, payload)


def embeddings(deployment: Deployment, body: dict[str, Any]) -> HttpResponse:
    """Deterministic unit vectors, as floats or base64 (``encoding_format``)."""
    raw = body.get("input")
    if raw is None or raw == "" or raw == []:
        raise error(400, None, "'input' is a required property", type="invalid_request_error", param=None)
    inputs = raw if isinstance(raw, list) else [raw]
    dims = int(body.get("dimensions") or _EMBEDDING_DIMENSIONS.get(deployment.model, 1536))
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    used = 0
    for index, item in enumerate(inputs):
        text = json.dumps(item)
        used += tokens(text)
        vector = _vector(text, dims)
        encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    payload = {
        "object": "list",
        "data": data,
        "model": deployment.model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }
    return HttpResponse.json(200, payload)


def _vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector derived from ``text``."""
    seed = hashlib.sha256(text.encode()).digest()
    values = [((seed[i % 32] ^ (i * 31 & 0xFF)) - 127.5) / 127.5 for i in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def responses(deployment: Deployment, body: dict[str, Any], spend: Spend | None) -> HttpResponse:
    """A Responses API object (SSE events when ``stream`` is set)."""
    if body.get("input") in (None, "", []):
        raise error(400, None, "'input' is a required property", type="invalid_request_error", param=None)
    cut = spend is not None and spend.exhausted
    input_tokens = tokens(prompt_text("responses", body)) + 7
    reasoning_tokens = spend.reasoning_tokens if spend is not None else 0
    output_tokens = reasoning_tokens + (0 if cut else 1)
    output: list[dict[str, Any]] = []
    if spend is not None:
        output.append({"id": "rs_" + uuid.uuid4().hex, "type": "reasoning", "summary": []})
    message = {
        "id": "msg_" + uuid.uuid4().hex,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": REPLY}],
    }
    if not cut:
        output.append(message)
    payload: dict[str, Any] = {
        "id": "resp_" + uuid.uuid4().hex,
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if cut else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": body.get("metadata") or {},
        "model": deployment.model_id,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": "medium", "summary": None} if spend is not None else {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
    }
    if not body.get("stream"):
        return HttpResponse.json(200, payload)
    return _responses_stream(payload, message if not cut else None)


def _responses_stream(final: dict[str, Any], message: dict[str, Any] | None) -> HttpResponse:
    """``response.created``, the text delta, then ``response.completed`` (``response.incomplete`` when cut)."""
    started = {**final, "status": "in_progress", "incomplete_details": None, "output": [], "usage": None}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": started}]
    if message is not None:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": message["id"],
                "output_index": len(final["output"]) - 1,
                "content_index": 0,
                "delta": REPLY,
                "logprobs": [],
            }
        )
    done = "response.completed" if final["status"] == "completed" else "response.incomplete"
    events.append({"type": done, "response": final})
    encoded = tuple(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': n}, separators=(',', ':'))}\n\n".encode()
        for n, e in enumerate(events)
    )
    return HttpResponse(
        200,
        b"",
        (("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")),
        events=encoded,
    )
