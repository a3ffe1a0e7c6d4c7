"""The three programs, written from a :class:`~aoai_doctor.snippet.proof.Proof`: the openai SDK,
azure-identity + requests, and a shell script with curl and az."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aoai_doctor.snippet.proof import (
    PROMPT,
    Call,
    Proof,
    Route,
    comment_lines,
    credential_code,
    route_of,
)

# Minimum package versions, and why.
_OPENAI_MIN = ("1.0", "AzureOpenAI and OpenAI(base_url=...)")
_OPENAI_RESPONSES_MIN = ("1.66", "the Responses API")
_OPENAI_V1_MIN = ("1.106", "a token provider as OpenAI's api_key")
_IDENTITY_MIN = ("1.15", "get_bearer_token_provider")
_CURL_MIN = "7.76"  # --fail-with-body

def _py(value: object) -> str:
    """A Python literal for a string, or a dict or list of them (JSON's spelling is Python's here)."""
    return json.dumps(value)


def _target_words(proof: Proof) -> str:
    calls = "; ".join(f"{c.kind} on deployment {c.deployment} ({c.url.split('?')[0]})" for c in proof.calls)
    auth = "an API key" if proof.api_key else f"a Microsoft Entra ID token ({proof.credential})"
    return f"Calls {calls} with {auth}, as aoai-doctor {proof.tool_version} proved it works."


def _proved_with(proof: Proof, names: Sequence[str]) -> str:
    versions = [f"{n} {proof.packages[n]}" for n in names if proof.packages.get(n)]
    return f"Proved with {', '.join(versions)}." if versions else ""


def _python_header(proof: Proof, needs: Sequence[tuple[str, str, str]], proved: Sequence[str]) -> list[str]:
    """The opening comment: what it calls, the packages (minimum version and why), what the run used."""
    install = " ".join(f"'{name}>={version}'" for name, version, _ in needs)
    why = "; ".join(f"{name} >= {version}: {reason}" for name, version, reason in needs)
    return [*comment_lines(_target_words(proof)),
            *comment_lines(f"Needs Python 3.8+ and: pip install {install} ({why}). {_proved_with(proof, proved)}")]


def _identity_needs(proof: Proof) -> tuple[str, str, str] | None:
    return None if proof.api_key else ("azure-identity", *_IDENTITY_MIN)


# --- openai ---------------------------------------------------------------------------------------------

def openai_program(proof: Proof) -> str:
    routes = [route_of(c) for c in proof.calls]
    needs: list[tuple[str, str, str]] = [("openai", *_OPENAI_MIN)]
    if any(c.kind == "responses" for c in proof.calls):
        needs = [("openai", *_OPENAI_RESPONSES_MIN)]
    if any(not r.azure for r in routes) and not proof.api_key:
        needs = [("openai", *_OPENAI_V1_MIN)]
    if (identity := _identity_needs(proof)) is not None:
        needs.append(identity)
    needs += _dotenv_needs(proof)
    lines = _python_header(proof, needs, [n for n, _, _ in needs])
    classes = sorted({"AzureOpenAI" if r.azure else "OpenAI" for r in routes})
    lines += ["", "import os", "", f"from openai import {', '.join(classes)}", *_dotenv_lines(proof)]
    if not proof.api_key:
        credential_class, expression, comment = credential_code(proof)
        lines += [f"from azure.identity import {credential_class}, get_bearer_token_provider", ""]
        lines += comment
        lines += [f"credential = {expression}",
                  "# The provider keeps the token and gets a new one before it expires.",
                  f"token_provider = get_bearer_token_provider(credential, {_py(proof.scope)})"]
    else:
        lines += [""]
        lines += _key_comment(proof)
    headers = _python_headers(proof, openai_client=True)
    clients: dict[Route, str] = {}
    for route in routes:
        if route in clients:
            continue
        name = "client" if not clients else f"client_{len(clients) + 1}"
        clients[route] = name
        args = [f"    {a}," for a in _client_args(proof, route)]
        if headers:
            if proof.api_key and not route.azure:
                args.append("    # OpenAI sends the key as a bearer token; api-key is the header every route reads")
            args.append(f"    default_headers={headers},")
        lines += ["", f"{name} = {'AzureOpenAI' if route.azure else 'OpenAI'}(", *args, ")"]
    for call, route in zip(proof.calls, routes, strict=True):
        lines += ["", *_openai_call(call, clients[route])]
    return _program(lines)


def _dotenv_needs(proof: Proof) -> list[tuple[str, str, str]]:
    return [("python-dotenv", "1.0", "reads the settings files the run read")] if proof.env_files else []


def _dotenv_lines(proof: Proof) -> list[str]:
    """The settings files the run read, loaded as the app loads them (the environment, then the first file
    to set a variable, win)."""
    if not proof.env_files:
        return []
    return ["from dotenv import load_dotenv", "",
            *(f"load_dotenv({_py(path)})  # settings the run read there" for path in proof.env_files)]


def _program(lines: list[str]) -> str:
    """The program's text, without ``import os`` when nothing reads a variable."""
    if not any("os.environ" in line for line in lines):
        at = lines.index("import os")
        del lines[at:at + 2]  # and the blank line after it
    return "\n".join(lines) + "\n"


def _client_args(proof: Proof, route: Route) -> list[str]:
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


def _python_headers(proof: Proof, openai_client: bool) -> str:
    """Extra headers as a Python dict expression ('' for none): an API key on the v1 surface (the SDK
    sends it as a bearer token; ``api-key`` is the header every route reads), a gateway key."""
    items: list[str] = []
    if proof.api_key and openai_client and any(not route_of(c).azure for c in proof.calls):
        items.append(f'"api-key": os.environ[{_py(proof.key_variable)}]')
    if proof.gateway_header and proof.gateway_variable:
        items.append(f"{_py(proof.gateway_header)}: os.environ[{_py(proof.gateway_variable)}]")
    return "{" + ", ".join(items) + "}" if items else ""


def _key_comment(proof: Proof) -> list[str]:
    source = proof.key_source or f"env {proof.key_variable}"
    text = f"The API key is read from {proof.key_variable} (the run found it in {source}); never write it here."
    return comment_lines(text)


def _openai_call(call: Call, client: str) -> list[str]:
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

def _body(call: Call) -> dict[str, Any]:
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


def requests_program(proof: Proof) -> str:
    needs: list[tuple[str, str, str]] = [("requests", "2.0", "HTTP")]
    if (identity := _identity_needs(proof)) is not None:
        needs.append(identity)
    needs += _dotenv_needs(proof)
    lines = _python_header(proof, needs, [n for n, _, _ in needs])
    lines += ["", "import os", "import sys", "", "import requests", *_dotenv_lines(proof)]
    header_items: list[str] = []
    if proof.api_key:
        lines += [""]
        lines += _key_comment(proof)
        header_items.append(f'"api-key": os.environ[{_py(proof.key_variable)}]')
    else:
        credential_class, expression, comment = credential_code(proof)
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


def curl_program(proof: Proof) -> str:
    lines = ["#!/bin/sh", *comment_lines(_target_words(proof))]
    if proof.api_key:
        lines += comment_lines(f"Needs curl {_CURL_MIN}+ (--fail-with-body). {_proved_with(proof, ())}".strip())
        lines += _key_comment(proof)
    else:
        login = _AZ_LOGIN.get(proof.credential or "", "az login")
        who = f" ({proof.who})" if proof.who else ""
        signed_in = ("the Azure CLI's own sign-in" if proof.credential == "AzureCliCredential" else
                     f"sign the Azure CLI in as it first: {login}")
        lines += comment_lines(f"Needs curl {_CURL_MIN}+ (--fail-with-body) and the Azure CLI 2.x, signed in as the "
                                f"identity the run proved, {proof.credential}{who}: {signed_in}. az hands out a "
                                "cached token and gets a new one before it expires: run it before each call.")
    if proof.env_files:
        lines += comment_lines("The run read settings from " + ", ".join(proof.env_files) + ": export those this "
                               "script reads by name (a key) before running it.")
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
