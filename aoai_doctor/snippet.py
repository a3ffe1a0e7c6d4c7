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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aoai_doctor.azure import endpoints as ep
from aoai_doctor.model import Report, Status

__all__ = ["PROMPT", "TOKEN_CREDENTIALS_VALUES", "Style", "model_answer", "snippet", "why_not"]

PROMPT = "ping"
"""What the program asks: the test call's default prompt."""

TOKEN_CREDENTIALS_VALUES = frozenset({
    "AzureCliCredential", "AzureDeveloperCliCredential", "AzurePowerShellCredential", "EnvironmentCredential",
    "InteractiveBrowserCredential", "ManagedIdentityCredential", "VisualStudioCodeCredential",
    "WorkloadIdentityCredential",
})
"""The credential names ``AZURE_TOKEN_CREDENTIALS`` accepts besides ``dev`` and ``prod`` (azure-identity
1.27, ``process_credential_exclusions``); SharedTokenCacheCredential and the broker cannot be chosen alone."""


class Style(str, enum.Enum):
    """Which kind of program to write."""

    OPENAI = "openai"
    REQUESTS = "requests"
    CURL = "curl"


@dataclass(frozen=True, slots=True)
class _Call:
    """One call the run proved: a deployment answered 200 on this URL."""

    deployment: str
    kind: str
    """chat, completion, embedding or responses."""
    url: str


@dataclass(frozen=True, slots=True)
class _Proof:
    """What a program needs, as the run proved it."""

    calls: tuple[_Call, ...]
    api_key: bool
    scope: str
    credential: str | None
    """The source that won the chain (None with an API key)."""
    who: str | None
    """The identity the token was for, in words (``app <id>``, a user name)."""
    key_variable: str | None
    key_source: str | None
    gateway_header: str | None
    gateway_variable: str | None
    variables: frozenset[str]
    packages: Mapping[str, str]
    tool_version: str


# Minimum package versions, and why.
_OPENAI_MIN = ("1.0", "AzureOpenAI and azure_ad_token_provider")
_OPENAI_RESPONSES_MIN = ("1.66", "the Responses API")
_OPENAI_V1_MIN = ("1.106", "a token provider as OpenAI's api_key")
_IDENTITY_MIN = ("1.15", "get_bearer_token_provider")
_CURL_MIN = "7.76"  # --fail-with-body

_OPERATIONS = {"chat": "chat/completions", "completion": "completions", "embedding": "embeddings",
               "responses": "responses"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def why_not(report: Report) -> str | None:
    """Why no program can be written from this report (one line naming the diagnosis), or None when
    the run proved the target healthy: no required check failed, the credential chain (or an API key)
    got in, and the test call answered 200."""
    try:
        _proof(report)
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
    proof = _proof(report)
    if chosen is Style.OPENAI:
        return _openai(proof)
    if chosen is Style.REQUESTS:
        return _requests(proof)
    return _curl(proof)


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


# --- what the report proves ------------------------------------------------------------------------

def _proof(report: Report) -> _Proof:
    results = {r.check_id: r for r in report.results}
    diagnosis = report.diagnosis
    if not report.passed or (diagnosis is not None and diagnosis.cause):
        failed = report.failed[0] if report.failed else None
        if diagnosis is not None and diagnosis.cause:
            said = f"{diagnosis.cause}: {diagnosis.summary}"
        else:
            said = f"{failed.check_id} {failed.name} {failed.status.value}" if failed else "a check failed"
        raise ValueError(f"the target is not healthy ({said})")
    call = results.get("AOAI501")
    if call is None or call.status not in (Status.PASS, Status.WARN):
        why = call.skip_reason if call is not None and call.skip_reason else "it did not run"
        raise ValueError(f"no test call proved the target answers ({why}); run without --no-live or --select")
    proved = tuple(
        _Call(str(c["deployment"]), str(c.get("route") or "chat"), str(c["url"]))
        for c in call.data.get("calls") or () if isinstance(c, dict) and c.get("status") == 200 and c.get("url")
    )
    if not proved:
        raise ValueError("the test call did not answer 200 for any deployment")
    target = report.target
    api_key = target.get("auth") is not None and target["auth"].value == "api-key"
    credential = who = None
    if not api_key:
        chain = results.get("AOAI210")
        winner = chain.data.get("winner") if chain is not None and chain.status is Status.PASS else None
        if not isinstance(winner, str) or not winner:
            raise ValueError("no credential source got a token on its own (the run used a given token, which "
                             "expires); set up a source DefaultAzureCredential finds and run again")
        credential = winner
        identity = chain.data.get("identity") if chain is not None else None
        if isinstance(identity, dict):
            who = identity.get("user") or (f"app {identity['app_id']}" if identity.get("app_id") else None)
    key = target.get("api_key")
    gateway = target.get("gateway_key")
    header = re.search(r"header ([^)\s]+)", gateway.value) if gateway is not None else None
    environment = report.environment
    packages = environment.get("packages") if isinstance(environment.get("packages"), dict) else {}
    variables = environment.get("variables_set")
    return _Proof(
        calls=proved,
        api_key=api_key,
        scope=_scope(report, proved[0].url),
        credential=credential,
        who=who,
        key_variable=_variable(key.source, "AZURE_OPENAI_API_KEY") if api_key and key is not None else
        ("AZURE_OPENAI_API_KEY" if api_key else None),
        key_source=key.source if api_key and key is not None else None,
        gateway_header=(header.group(1) if header else ep.APIM_KEY_HEADER) if gateway is not None else None,
        gateway_variable=_variable(gateway.source, "AOAI_DOCTOR_GATEWAY_KEY") if gateway is not None else None,
        variables=frozenset(str(v) for v in variables) if isinstance(variables, list) else frozenset(),
        packages={str(k): str(v) for k, v in (packages or {}).items() if v},
        tool_version=report.tool_version,
    )


def _scope(report: Report, url: str) -> str:
    """The scope the run asked for: configured, else the one the endpoint's cloud (or a project) needs."""
    configured = report.target.get("scope")
    if configured is not None:
        return configured.value
    endpoint = report.target.get("endpoint")
    for value in (endpoint.value if endpoint else None, url):
        if value:
            try:
                scope = ep.parse(value).default_scope
            except ep.EndpointParseError:
                continue
            if scope:
                return scope
    return ep.SCOPES[ep.Cloud.PUBLIC]


def _variable(source: str, default: str) -> str:
    """The variable a value came from: ``env AZURE_OPENAI_API_KEY`` → ``AZURE_OPENAI_API_KEY``; a file's
    key (``config.json:OPENAI_API_KEY``, ``.env:3 NAME``) → that name; else ``default``."""
    last = re.split(r"[\s:]+", source.strip())[-1] if source.strip() else ""
    return last if _VARIABLE.fullmatch(last) and last.upper() == last else default


# --- the shapes of a call ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Route:
    """How the openai SDK reaches a proved URL."""

    azure: bool
    """AzureOpenAI (a dated route: the deployment in the path, an api-version) or OpenAI (v1 and others)."""
    base: str
    """AzureOpenAI's azure_endpoint, or OpenAI's base_url."""
    api_version: str | None


def _route(call: _Call) -> _Route:
    parts = urlsplit(call.url)
    query = parse_qs(parts.query)
    version = query.get("api-version", [None])[0]
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path
    for marker in (f"/openai/deployments/{call.deployment}/", "/openai/responses"):
        at = path.find(marker)
        if at >= 0:
            return _Route(True, origin + path[:at], version)
    operation = "/" + _OPERATIONS.get(call.kind, "chat/completions")
    base = path[: -len(operation)] if path.endswith(operation) else path.rsplit("/", 1)[0]
    return _Route(False, origin + base + "/", version)


def _py(value: object) -> str:
    """A Python literal for a string, or a dict or list of them (JSON's spelling is Python's here)."""
    return json.dumps(value)


def _comment_lines(text: str, prefix: str = "# ") -> list[str]:
    """``text`` wrapped at about 100 columns as comment lines (control characters become spaces, so
    nothing from the report can end a comment)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(prefix) + len(line) + 1 + len(word) > 100:
            out.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(prefix + line)
    return out


def _target_words(proof: _Proof) -> str:
    calls = "; ".join(f"{c.kind} on deployment {c.deployment} ({c.url.split('?')[0]})" for c in proof.calls)
    auth = "an API key" if proof.api_key else f"a Microsoft Entra ID token ({proof.credential})"
    return f"Calls {calls} with {auth}, as aoai-doctor {proof.tool_version} proved it works."


def _proved_with(proof: _Proof, names: Sequence[str]) -> str:
    versions = [f"{n} {proof.packages[n]}" for n in names if proof.packages.get(n)]
    return f"Proved with {', '.join(versions)}." if versions else ""


def _python_header(proof: _Proof, needs: Sequence[tuple[str, str, str]], proved: Sequence[str]) -> list[str]:
    """The opening comment: what it calls, the packages (minimum version and why), what the run used."""
    install = " ".join(f"'{name}>={version}'" for name, version, _ in needs)
    why = "; ".join(f"{name} >= {version}: {reason}" for name, version, reason in needs)
    return [*_comment_lines(_target_words(proof)),
            *_comment_lines(f"Needs Python 3.8+ and: pip install {install} ({why}). {_proved_with(proof, proved)}")]


def _identity_needs(proof: _Proof) -> tuple[str, str, str] | None:
    return None if proof.api_key else ("azure-identity", *_IDENTITY_MIN)


# --- credentials --------------------------------------------------------------------------------------

_SOURCE_WORDS = {
    "EnvironmentCredential": "the service principal in AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
                             "(or AZURE_CLIENT_CERTIFICATE_PATH)",
    "WorkloadIdentityCredential": "the federated token in AZURE_FEDERATED_TOKEN_FILE for AZURE_CLIENT_ID in "
                                  "AZURE_TENANT_ID",
    "ManagedIdentityCredential": "this machine's managed identity",
    "SharedTokenCacheCredential": "the account in the shared token cache",
    "VisualStudioCodeCredential": "the account signed in to Visual Studio Code",
    "AzureCliCredential": "the account signed in to the Azure CLI (az login)",
    "AzurePowerShellCredential": "the account signed in to Azure PowerShell (Connect-AzAccount)",
    "AzureDeveloperCliCredential": "the account signed in to the Azure Developer CLI (azd auth login)",
    "BrokerCredential": "the account signed in to the operating system's broker (WAM)",
}


def _credential_code(proof: _Proof) -> tuple[str, str, list[str]]:
    """The class to import, the expression that builds it, and the comment lines above it."""
    name = proof.credential or "DefaultAzureCredential"
    source = _SOURCE_WORDS.get(name, name)
    who = f" ({proof.who})" if proof.who else ""
    if name == "ManagedIdentityCredential":
        # DefaultAzureCredential passes AZURE_CLIENT_ID on as a user-assigned identity's client id.
        args = 'client_id=os.environ.get("AZURE_CLIENT_ID")' if "AZURE_CLIENT_ID" in proof.variables else ""
        expression = f"ManagedIdentityCredential({args})"
    elif name == "SharedTokenCacheCredential":
        args = 'username=os.environ.get("AZURE_USERNAME")' if "AZURE_USERNAME" in proof.variables else ""
        expression = f"SharedTokenCacheCredential({args})"
    elif name in _SOURCE_WORDS and name != "BrokerCredential":
        expression = f"{name}()"
    else:
        text = (f"DefaultAzureCredential uses {name} here: {source}{who}; the run proved it gets a token. "
                "It cannot be chosen on its own with AZURE_TOKEN_CREDENTIALS.")
        return "DefaultAzureCredential", "DefaultAzureCredential()", _comment_lines(text)
    pick = (f" With AZURE_TOKEN_CREDENTIALS={name}, DefaultAzureCredential() picks only this source."
            if name in TOKEN_CREDENTIALS_VALUES else "")
    text = (f"The source that won DefaultAzureCredential's chain in the run: {source}{who}. "
            f"DefaultAzureCredential() would pick the same one here.{pick}")
    return name, expression, _comment_lines(text)


# --- openai ---------------------------------------------------------------------------------------------

def _openai(proof: _Proof) -> str:
    routes = [_route(c) for c in proof.calls]
    needs: list[tuple[str, str, str]] = [("openai", *_OPENAI_MIN)]
    if any(c.kind == "responses" for c in proof.calls):
        needs = [("openai", *_OPENAI_RESPONSES_MIN)]
    if any(not r.azure for r in routes) and not proof.api_key:
        needs = [("openai", *_OPENAI_V1_MIN)]
    if (identity := _identity_needs(proof)) is not None:
        needs.append(identity)
    lines = _python_header(proof, needs, ("openai", "azure-identity"))
    classes = sorted({"AzureOpenAI" if r.azure else "OpenAI" for r in routes})
    lines += ["", "import os", "", f"from openai import {', '.join(classes)}"]
    if not proof.api_key:
        credential_class, expression, comment = _credential_code(proof)
        lines += [f"from azure.identity import {credential_class}, get_bearer_token_provider", ""]
        lines += comment
        lines += [f"credential = {expression}",
                  "# The provider keeps the token and gets a new one before it expires.",
                  f"token_provider = get_bearer_token_provider(credential, {_py(proof.scope)})"]
    else:
        lines += [""]
        lines += _key_comment(proof)
    headers = _python_headers(proof, openai_client=True)
    clients: dict[_Route, str] = {}
    for route in routes:
        if route in clients:
            continue
        name = "client" if not clients else f"client_{len(clients) + 1}"
        clients[route] = name
        args = _client_args(proof, route)
        if headers:
            args.append(f"default_headers={headers}")
        lines += ["", f"{name} = {'AzureOpenAI' if route.azure else 'OpenAI'}(",
                  *[f"    {a}," for a in args], ")"]
    for call, route in zip(proof.calls, routes, strict=True):
        lines += ["", *_openai_call(call, clients[route])]
    return _program(lines)


def _program(lines: list[str]) -> str:
    """The program's text, without ``import os`` when nothing reads a variable."""
    if not any("os.environ" in line for line in lines):
        lines = [line for line in lines if line != "import os"]
    return "\n".join(lines) + "\n"


def _client_args(proof: _Proof, route: _Route) -> list[str]:
    key = f"os.environ[{_py(proof.key_variable)}]"
    if route.azure:
        args = [f"azure_endpoint={_py(route.base)}", f"api_version={_py(route.api_version)}"]
        args.append(f"api_key={key}" if proof.api_key else "azure_ad_token_provider=token_provider")
        return args
    args = [f"base_url={_py(route.base)}"]
    if proof.api_key:
        args.append(f"api_key={key}")
    else:
        args.append("api_key=token_provider")
    if route.api_version:
        args.append(f"default_query={_py({'api-version': route.api_version})}")
    return args


def _python_headers(proof: _Proof, openai_client: bool) -> str:
    """Extra headers as a Python dict expression ('' for none): an API key on the v1 surface (the SDK
    sends it as a bearer token; ``api-key`` is the header every route reads), a gateway key."""
    items: list[str] = []
    if proof.api_key and openai_client and any(not _route(c).azure for c in proof.calls):
        items.append(f'"api-key": os.environ[{_py(proof.key_variable)}]')
    if proof.gateway_header and proof.gateway_variable:
        items.append(f"{_py(proof.gateway_header)}: os.environ[{_py(proof.gateway_variable)}]")
    return "{" + ", ".join(items) + "}" if items else ""


def _key_comment(proof: _Proof) -> list[str]:
    source = proof.key_source or f"env {proof.key_variable}"
    text = f"The API key is read from {proof.key_variable} (the run found it in {source}); never write it here."
    return _comment_lines(text)


def _openai_call(call: _Call, client: str) -> list[str]:
    model = _py(call.deployment)
    if call.kind == "embedding":
        return [f"reply = {client}.embeddings.create(model={model}, input={_py(PROMPT)})",
                'print(f"embedding of {len(reply.data[0].embedding)} dimensions")']
    if call.kind == "completion":
        return [f"reply = {client}.completions.create(model={model}, prompt={_py(PROMPT)})",
                "print(reply.choices[0].text)"]
    if call.kind == "responses":
        return [f"reply = {client}.responses.create(model={model}, input={_py(PROMPT)})",
                "print(reply.output_text)"]
    return [f"reply = {client}.chat.completions.create(",
            f"    model={model},  # the deployment name",
            f"    messages={_py([{'role': 'user', 'content': PROMPT}])},",
            ")",
            "print(reply.choices[0].message.content)"]


# --- requests -------------------------------------------------------------------------------------------

def _body(call: _Call) -> dict[str, Any]:
    """The request body: the proved route's, without a token budget (a reasoning model may spend a small
    one before it answers)."""
    on_path = f"/openai/deployments/{call.deployment}/" in urlsplit(call.url).path
    body: dict[str, Any] = {} if on_path else {"model": call.deployment}
    if call.kind == "embedding":
        body["input"] = PROMPT
    elif call.kind == "completion":
        body["prompt"] = PROMPT
    elif call.kind == "responses":
        body["input"] = PROMPT
    else:
        body["messages"] = [{"role": "user", "content": PROMPT}]
    return body


_ANSWER = {
    "chat": 'reply["choices"][0]["message"]["content"]',
    "completion": 'reply["choices"][0]["text"]',
    "embedding": 'f"embedding of {len(reply[\'data\'][0][\'embedding\'])} dimensions"',
    "responses": '"".join(part["text"] for item in reply["output"] if item["type"] == "message"\n'
                 '              for part in item["content"] if part["type"] == "output_text")',
}


def _requests(proof: _Proof) -> str:
    needs: list[tuple[str, str, str]] = [("requests", "2.0", "HTTP")]
    if (identity := _identity_needs(proof)) is not None:
        needs.append(identity)
    lines = _python_header(proof, needs, ("requests", "azure-identity"))
    lines += ["", "import os", "import sys", "", "import requests"]
    header_items: list[str] = []
    if proof.api_key:
        lines += [""]
        lines += _key_comment(proof)
        header_items.append(f'"api-key": os.environ[{_py(proof.key_variable)}]')
    else:
        credential_class, expression, comment = _credential_code(proof)
        lines += [f"from azure.identity import {credential_class}, get_bearer_token_provider", "",
                  f"SCOPE = {_py(proof.scope)}", ""]
        lines += comment
        lines += [f"credential = {expression}",
                  "# The provider keeps the token and gets a new one before it expires (within 5 minutes",
                  "# of expiry): call it for every request rather than keeping a token.",
                  "token_provider = get_bearer_token_provider(credential, SCOPE)"]
        header_items.append('"Authorization": f"Bearer {token_provider()}"')
    if proof.gateway_header and proof.gateway_variable:
        header_items.append(f"{_py(proof.gateway_header)}: os.environ[{_py(proof.gateway_variable)}]")
    lines += ["", "", "def post(url: str, body: dict) -> dict:",
              '    """POST the body as JSON; on anything but 200, the answer on standard error and exit 1."""',
              f"    headers = {{{', '.join(header_items)}}}",
              "    answer = requests.post(url, json=body, headers=headers, timeout=60)",
              "    if answer.status_code != 200:",
              '        sys.exit(f"{answer.status_code} {answer.reason}: {answer.text[:2000]}")',
              "    return answer.json()", ""]
    for call in proof.calls:
        lines += ["", "reply = post(", f"    {_py(call.url)},", f"    {_py(_body(call))},", ")",
                  f"print({_ANSWER.get(call.kind, _ANSWER['chat'])})"]
    return _program(lines)


# --- curl -----------------------------------------------------------------------------------------------

def _sh(value: str) -> str:
    """``value`` as one shell word."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


_AZ_LOGIN = {
    "EnvironmentCredential": 'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" '
                             '--password "$AZURE_CLIENT_SECRET"',
    "WorkloadIdentityCredential": 'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant '
                                  '"$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"',
    "ManagedIdentityCredential": "az login --identity (with --client-id for a user-assigned identity)",
}


def _curl(proof: _Proof) -> str:
    lines = ["#!/bin/sh", *_comment_lines(_target_words(proof))]
    if proof.api_key:
        lines += _comment_lines(f"Needs curl {_CURL_MIN}+ (--fail-with-body). {_proved_with(proof, ())}".strip())
        lines += _key_comment(proof)
    else:
        login = _AZ_LOGIN.get(proof.credential or "", "az login")
        who = f" ({proof.who})" if proof.who else ""
        signed_in = ("the Azure CLI's own sign-in" if proof.credential == "AzureCliCredential" else
                     f"sign the Azure CLI in as it first: {login}")
        lines += _comment_lines(f"Needs curl {_CURL_MIN}+ (--fail-with-body) and the Azure CLI 2.x, signed in as the "
                                f"identity the run proved, {proof.credential}{who}: {signed_in}. az hands out a "
                                "cached token and gets a new one before it expires: run it before each call.")
    lines += ["set -eu", ""]
    secrets: list[tuple[str, str]] = []  # (header, variable holding its value)
    if proof.api_key and proof.key_variable:
        lines.append(f': "${{{proof.key_variable}:?set {proof.key_variable} to the API key}}"')
        secrets.append(("api-key", proof.key_variable))
    else:
        lines += [f"scope={_sh(proof.scope)}",
                  'token=$(az account get-access-token --scope "$scope" --query accessToken --output tsv)']
        secrets.append(("Authorization", "token"))
    if proof.gateway_header and proof.gateway_variable:
        lines.append(f': "${{{proof.gateway_variable}:?set {proof.gateway_variable} to the gateway key}}"')
        secrets.append((proof.gateway_header, proof.gateway_variable))
    formats = "".join(f"{h}: {'Bearer ' if h == 'Authorization' else ''}%s\\n" for h, _ in secrets)
    values = " ".join(f'"${v}"' for _, v in secrets)
    for call in proof.calls:
        lines += ["", "# The secret headers go to curl on standard input, never on its command line.",
                  f"printf {_sh(formats)} {values} |",
                  "  curl --silent --show-error --fail-with-body --header @- \\",
                  "    --header 'Content-Type: application/json' \\",
                  f"    --data {_sh(json.dumps(_body(call), separators=(',', ':')))} \\",
                  f"    {_sh(call.url)}",
                  "echo"]
    return "\n".join(lines) + "\n"
