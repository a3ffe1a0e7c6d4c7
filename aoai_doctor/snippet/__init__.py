"""A complete program that calls the target the way a healthy run proved it works.

:func:`snippet` reads only the report: the calls the test call (AOAI501) made and that answered 200
(their URL, route and deployment), the source that won the credential chain (AOAI210), the scope,
and where an API key or gateway key came from. It does no I/O. Three styles:

- ``openai``: the openai SDK. ``AzureOpenAI(azure_endpoint=..., api_version=...,
  azure_ad_token_provider=get_bearer_token_provider(credential, scope))`` on the dated
  ``/openai/deployments/...`` routes; ``OpenAI(base_url=".../openai/v1/", api_key=token_provider)`` on
  the v1 surface (a v1 base URL, a Foundry project, the Responses API), as openai/openai-python#2584's
  maintainers give it (a callable ``api_key`` from openai 1.106.0 on).
- ``requests``: azure-identity and requests, the proved URL as is; ``get_bearer_token_provider``
  keeps the token and gets a new one before it expires (azure-core's ``BearerTokenCredentialPolicy``
  refreshes within five minutes of expiry), so the provider is called for every request.
- ``curl``: a POSIX shell script; the token from ``az account get-access-token --scope ...``, passed to
  curl on standard input (``--header @-``) so it never shows in the process list.

Secrets are never written into the program: an API key or gateway key is read from the variable the
run found it in, by name. Non-secret values the run proved (endpoint, deployment, api-version, scope)
are written as they were proved, so the program works unmodified.

The credential is the class of the source that won the chain (``EnvironmentCredential()`` …), with a
comment saying that ``DefaultAzureCredential()`` would pick the same source here and the
``AZURE_TOKEN_CREDENTIALS`` value that makes it pick only that one (azure-identity 1.27 accepts
``dev``, ``prod`` and the names in :data:`TOKEN_CREDENTIALS_VALUES`, lower-cased;
``azure/identity/_internal/utils.py``). A source that cannot be built on its own (the broker) gives
``DefaultAzureCredential()`` with a comment naming the source that will win.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aoai_doctor.model import Report
    from aoai_doctor.snippet.proof import PROMPT, TOKEN_CREDENTIALS_VALUES

# The programs and what proves them load on first use: ``import aoai_doctor`` imports this package.

__all__ = ["PROMPT", "SNIPPET_LINE", "TOKEN_CREDENTIALS_VALUES", "Style", "model_answer", "snippet", "why_not"]

SNIPPET_LINE = "next: `aoai-doctor snippet` prints code that calls this target"
"""The line after a healthy text report that points to the ``snippet`` command."""


if not TYPE_CHECKING:  # to mypy the names are the imports above, and a misspelt one stays an error

    def __getattr__(name: str) -> Any:
        if name not in ("PROMPT", "TOKEN_CREDENTIALS_VALUES"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from aoai_doctor.snippet import proof

        value = getattr(proof, name)
        globals()[name] = value
        return value


class Style(str, enum.Enum):
    """Which kind of program to write."""

    OPENAI = "openai"
    REQUESTS = "requests"
    CURL = "curl"


def why_not(report: Report) -> str | None:
    """Why no program can be written from this report (one line naming the diagnosis), or None when
    the run proved the target healthy: no required check failed, the credential chain (or an API key)
    got in, and the test call answered 200."""
    from aoai_doctor.snippet.proof import proof_of

    try:
        proof_of(report)
    except ValueError as exc:
        return str(exc)
    return None


def snippet(report: Report, style: str | Style = "openai") -> str:
    """A complete program, in ``style`` (``openai``, ``requests`` or ``curl``), that calls the target as
    the run proved it works. Pure: built from the report alone.

    Raises ValueError when the report does not prove the target healthy (the message names the
    diagnosis), or for an unknown style.
    """
    try:
        chosen = Style(style)
    except ValueError:
        raise ValueError(f"unknown style {style!r}; choose from {', '.join(s.value for s in Style)}") from None
    from aoai_doctor.snippet.programs import curl_program, openai_program, requests_program
    from aoai_doctor.snippet.proof import proof_of

    proof = proof_of(report)
    if chosen is Style.OPENAI:
        return openai_program(proof)
    if chosen is Style.REQUESTS:
        return requests_program(proof)
    return curl_program(proof)


def model_answer(output: str) -> str:
    """What a program's standard output says the model answered, on one line: the answer a Python style
    prints, or, from the service's JSON that the curl style prints, the message text (chat, completion,
    Responses) or the embedding's size."""
    answers: list[str] = []
    for line in output.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            answers.append(line)
            continue
        answers.append(_json_answer(data) if isinstance(data, dict) else line)
    return " ".join(answers)


def _json_answer(data: Mapping[str, Any]) -> str:
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return str(message["content"])
        if isinstance(choices[0].get("text"), str):
            return str(choices[0]["text"])
    items = data.get("data")
    if isinstance(items, list) and items and isinstance(items[0], dict) and isinstance(items[0].get("embedding"), list):
        return f"embedding of {len(items[0]['embedding'])} dimensions"
    output = data.get("output")
    if isinstance(output, list):
        return "".join(str(part.get("text", "")) for item in output if isinstance(item, dict)
                       and item.get("type") == "message" for part in item.get("content") or ()
                       if isinstance(part, dict) and part.get("type") == "output_text")
    return json.dumps(data)

