"""Remove tokens, keys and secrets from text before any of it is echoed back.

Every replacement swaps the whole secret for a placeholder, so no slice of a secret survives; callers
redact the full text first and only then cut excerpts from it.
"""

from __future__ import annotations

import re

PLACEHOLDER = "<redacted>"

_STRONG_NAMES = (
    r"api[-_ ]?key|x-api-key|ocp-apim-subscription-key|subscription[-_]?key|client[-_]?secret|"
    r"azure_client_secret|azure_openai_api_key|openai_api_key|azure_openai_ad_token|azure_ad_token|password|"
    r"passwd|pwd|apikey|accountkey|sharedaccesskey|client[-_]?assertion|access[-_]?token|refresh[-_]?token|"
    r"id[-_]?token|azure_client_certificate_password|certificate[-_]?password|azure_password|"
    r"x?-?identity[-_]header|msi[-_]secret|x-identity-header"
)
_WEAK_NAMES = r"secret|token|key|assertion|sig|credential"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens, whole or cut short (a header alone already starts with eyJ).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}"), "<redacted-jwt>"),
    # Authorization headers and bare bearer tokens.
    (
        re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer|basic)?\s*[^\s\"',;}]{4,}"),
        r"\1" + PLACEHOLDER,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + PLACEHOLDER),
    # name=value / name: value / "name": "value" / 'name': 'value' for secret-bearing names.
    (
        re.compile(
            rf"(?i)((?<![\w-])(?:{_STRONG_NAMES})[\"']?\s*(?:=|:)\s*[\"']?)(?!<redacted)"
            r"([^\s\"',;&}<>)\]]{4,})"
        ),
        r"\1" + PLACEHOLDER,
    ),
    (
        re.compile(
            rf"(?i)((?<![\w-])(?:{_WEAK_NAMES})[\"']?\s*(?:=|:)\s*[\"']?)(?!<redacted)"
            r"(?!aadsts)(?=[^\s\"',;&}<>)\]]{0,200}?\d)([^\s\"',;&}<>)\]]{16,})"
        ),
        r"\1" + PLACEHOLDER,
    ),
    # The password in a URL's user info (https://user:password@proxy:8080).
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/:@]+:)(?!<redacted)[^\s/@]+@"), r"\1" + PLACEHOLDER + "@"),
    # Query-string secrets (?sig=…&code=…).
    (
        re.compile(
            r"(?i)([?&](?:sig|code|client_secret|access_token|refresh_token|id_token|key|api-key|"
            r"subscription-key|client_assertion|assertion|password|token)=)[^&\s\"'#]+"
        ),
        r"\1" + PLACEHOLDER,
    ),
    # Command-line secrets (az login -p <secret>, --password, --client-secret, --federated-token).
    (
        re.compile(
            r"(?i)((?:^|\s)(?:-p|--password|--client-secret|--secret|--federated-token)\s+)(?!<)(\S{4,})"
        ),
        r"\1" + PLACEHOLDER,
    ),
    # Entra ID client secret values (e.g. "abc8Q~…").
    (re.compile(r"\b[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{20,}"), PLACEHOLDER),
    # OpenAI platform keys.
    (re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{16,}"), PLACEHOLDER),
    # 32-hex Azure OpenAI / Cognitive Services keys.
    (re.compile(r"(?<![0-9a-fA-F-])[0-9a-fA-F]{32}(?![0-9a-fA-F-])"), PLACEHOLDER),
    # Long random-looking strings (84-char AOAI keys, SAS signatures, opaque tokens).
    (
        re.compile(
            r"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]{32,})(?=[A-Za-z0-9+/_-]*?\d)(?=[A-Za-z0-9+/_-]*?[a-z])"
            r"(?=[A-Za-z0-9+/_-]*?[A-Z])"
            r"[A-Za-z0-9+/_-]{32,}={0,2}"
        ),
        PLACEHOLDER,
    ),
)


def redact(text: str) -> str:
    """``text`` with tokens, keys and secrets replaced by placeholders."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
