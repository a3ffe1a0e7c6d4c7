"""Read structure out of pasted text: JSON bodies, codes, HTTP statuses and credential chains."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import field

from aoai_doctor.explainer.answer import VerdictStatus
from aoai_doctor.record import record

_MAX_BODY = 100_000
_MAX_ATTEMPTS = 60
_MAX_DEPTH = 40
_BRACES = re.compile(r"[{}]")

_AADSTS = re.compile(r"aadsts(\d{4,7})", re.IGNORECASE)
_AADSTS_FIELDS = (
    re.compile(r"""["']?error_codes["']?\s*:\s*\[\s*(\d{4,7})"""),
    re.compile(r"\binvalid_\w{1,20}: (\d{4,7}) - \["),  # msal-node: "invalid_client: 700024 - [date]: ..."
)
_CODE_FIELDS = (
    re.compile(r"""["']code["']\s*:\s*["']([A-Za-z][\w.-]{1,60}|\d{3})["']"""),
    re.compile(r"\bErrorCode: ([A-Za-z][\w.-]{1,60}|\d{3})\b"),
    re.compile(r"(?m)^\s*Code: ([A-Za-z][\w.-]{1,60})\s*$"),
    re.compile(r"""["']error["']\s*:\s*["']([a-z_]{3,40})["']"""),
)
_STATUS_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\berror code:? (\d{3})\b",
        r"\bstatus[ _]?code\b[\"']?\s*[:=]?\s*[\"']?(\d{3})\b",
        r"\bstatus[\"']?\s*[:=]\s*[\"']?(\d{3})\b",
        r"\bresponse status: (\d{3})\b",
        r"\breturned (?:http error|status)[: ]+(\d{3})\b",
        r"\bhttp (?:status|error)[: ]+(\d{3})\b",
        r"\bhttp/\d(?:\.\d)?\"? (\d{3})\b",
        r"\bhttp (\d{3})\b",
        r"\bstatus (\d{3})\b",
        r"\berror (\d{3})\b",
        r"\b(\d{3}) (?:unauthorized|forbidden|not found|too many requests|bad request|internal server error|"
        r"service unavailable|bad gateway|gateway time-?out|proxy authentication required)\b",
        r"\((\d{3})\)",
    )
)
_HEADER = re.compile(
    r"(?:DefaultAzureCredential|ChainedTokenCredential)\s+(?:failed to retrieve a token from the included "
    r"credentials|authentication failed)|Attempted credentials:|AggregateAuthenticationError",
    re.IGNORECASE,
)
_KNOWN = (
    "Environment|WorkloadIdentity|ManagedIdentity|SharedTokenCache|VisualStudioCode|VisualStudio|AzureCli|"
    "AzurePowerShell|AzureDeveloperCli|InteractiveBrowser|InteractiveBrowserBroker|Broker|ClientSecret|"
    "ClientCertificate|ClientAssertion|AzurePipelines|DeviceCode|UsernamePassword|Imds|AppService"
)
_PY_ITEM = re.compile(rf"(?:^|(?<=[\s.:]))((?:{_KNOWN})Credential): ")
_JS_ITEM = re.compile(
    r"(?:^|(?<=[\s.]))(CredentialUnavailableError|AuthenticationError|AuthenticationRequiredError): "
)
_NET_ITEM = re.compile(r"(?m)^[ \t]*- ")
_LOG_VERDICT = re.compile(
    rf"\b((?:{_KNOWN})Credential)\.(?:get_token(?:_info)?|GetToken) "
    r"(?:failed: |was unable to retrieve an access token\..{0,400}?Exception: )([^\n]{1,2000})",
    re.IGNORECASE,
)
_CHAIN_END = re.compile(
    r"To mitigate this issue|See the troubleshooting guide for more information\.\s*$", re.I
)
_UNAVAILABLE = re.compile(
    r"unavailable|not found on path|not installed|could not be found|please run ['\"`]?(?:az|azd) |"
    r"connect-azaccount|no accounts were found|is not available|not fully configured|"
    r"requires the 'azure-identity-broker'|can't be accessed|not detected|stored credentials not found|"
    r"no response|unable to execute powershell|failed to invoke",
    re.IGNORECASE,
)
_NAME_HINTS = (
    (re.compile(r"azure developer cli|\bazd\b", re.I), "AzureDeveloperCliCredential"),
    (re.compile(r"azure cli|\baz login\b", re.I), "AzureCliCredential"),
    (re.compile(r"powershell|connect-azaccount", re.I), "AzurePowerShellCredential"),
    (re.compile(r"visual studio code|vscode", re.I), "VisualStudioCodeCredential"),
    (re.compile(r"visual studio", re.I), "VisualStudioCredential"),
    (re.compile(r"\bimds\b|managed identity", re.I), "ManagedIdentityCredential"),
    (re.compile(r"shared ?token ?cache", re.I), "SharedTokenCacheCredential"),
    (re.compile(r"environment variables", re.I), "EnvironmentCredential"),
    (re.compile(r"broker", re.I), "BrokerCredential"),
)
_EXPLICIT_NAME = re.compile(rf"\b((?:{_KNOWN})Credential)\b")
_ALIASES = {
    "ImdsCredential": "ManagedIdentityCredential",
    "AppServiceCredential": "ManagedIdentityCredential",
}


@record
class Facts:
    """Structured facts read from a text."""

    aadsts: frozenset[str] = frozenset()
    """AADSTS codes (digits only)."""
    error_codes: frozenset[str] = frozenset()
    """``error.code`` / ``innererror.code`` / OAuth ``error`` values, lower-cased."""
    statuses: frozenset[int] = frozenset()
    """HTTP statuses mentioned."""
    bodies: tuple[object, ...] = ()
    """JSON (or Python-repr) bodies found in the text."""


@record
class RawVerdict:
    """One credential's line in a chain, before cause matching."""

    credential: str
    status: VerdictStatus
    message: str
    explicit_status: bool = False
    """True when the text itself labelled the status (e.g. ``CredentialUnavailableError:``)."""


@record
class Chain:
    """A credential chain found in the text."""

    kind: str
    """``DefaultAzureCredential``, ``ChainedTokenCredential`` or ``log`` (per-credential log lines)."""
    verdicts: tuple[RawVerdict, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------------------------------ JSON bodies


def _brace_pairs(text: str) -> list[tuple[int, int, int]]:
    """Balanced ``{...}`` spans as (start, end, depth), found in one linear pass."""
    stack: list[int] = []
    pairs: list[tuple[int, int, int]] = []
    for match in _BRACES.finditer(text):
        index = match.start()
        if match.group(0) == "{":
            stack.append(index)
        elif stack:
            start = stack.pop()
            pairs.append((start, index + 1, len(stack)))
    return pairs


def _load(span: str) -> object | None:
    candidates = [span]
    if '\\"' in span:
        candidates.append(span.replace('\\\\"', '"').replace('\\"', '"'))
    for candidate in candidates:
        try:
            loaded: object = json.loads(candidate)
            return loaded
        except (ValueError, RecursionError):
            pass
    if "'" in span or "None" in span or "True" in span or "False" in span:
        try:
            evaluated: object = ast.literal_eval(span)
            return evaluated
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    return None


def extract_bodies(text: str) -> tuple[object, ...]:
    """JSON objects and Python dict reprs embedded in ``text``, outermost first."""
    pairs = [p for p in _brace_pairs(text) if p[1] - p[0] <= _MAX_BODY and p[2] <= _MAX_DEPTH]
    pairs.sort(key=lambda p: (p[2], p[0]))
    bodies: list[object] = []
    covered: list[tuple[int, int]] = []
    attempts = 0
    for start, end, _depth in pairs:
        if attempts >= _MAX_ATTEMPTS:
            break
        if any(s <= start and end <= e for s, e in covered):
            continue
        attempts += 1
        body = _load(text[start:end])
        if isinstance(body, dict):
            bodies.append(body)
            covered.append((start, end))
    return tuple(bodies)


def _walk(node: object, depth: int = 0) -> Iterator[tuple[str, object]]:
    if depth > 8:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from _walk(value, depth + 1)
    elif isinstance(node, list):
        for item in node[:50]:
            yield from _walk(item, depth + 1)


def _is_status(value: object) -> bool:
    return isinstance(value, int | str) and str(value).isdigit() and 100 <= int(str(value)) <= 599


def _facts_from_bodies(bodies: tuple[object, ...]) -> tuple[set[str], set[str], set[int]]:
    codes: set[str] = set()
    aadsts: set[str] = set()
    statuses: set[int] = set()
    for body in bodies:
        for key, value in _walk(body):
            lowered = key.lower()
            if lowered == "code" and isinstance(value, str | int) and not isinstance(value, bool):
                codes.add(str(value).lower())
            elif lowered == "error" and isinstance(value, str):
                codes.add(value.lower())
            elif lowered == "error_codes" and isinstance(value, list):
                aadsts.update(str(v) for v in value if isinstance(v, int))
            elif lowered in ("statuscode", "status", "status_code") and _is_status(value):
                statuses.add(int(str(value)))
    return codes, aadsts, statuses


def extract_facts(original: str, flat: str) -> Facts:
    """Codes, statuses and bodies from a text (``original`` for JSON, ``flat`` for regexes)."""
    bodies = extract_bodies(original)
    codes, aadsts, statuses = _facts_from_bodies(bodies)
    aadsts.update(_AADSTS.findall(flat))
    for pattern in _AADSTS_FIELDS:
        aadsts.update(pattern.findall(flat))
    for pattern in _CODE_FIELDS:
        codes.update(code.lower() for code in pattern.findall(original))
    for pattern in _STATUS_PATTERNS:
        for value in pattern.findall(flat):
            number = int(value)
            if 200 <= number <= 599:
                statuses.add(number)
    return Facts(
        aadsts=frozenset(aadsts), error_codes=frozenset(codes), statuses=frozenset(statuses), bodies=bodies
    )


# ------------------------------------------------------------------------------------- credential chains


def _credential_name(message: str, explicit: str | None = None) -> str:
    if explicit:
        return _ALIASES.get(explicit, explicit)
    named = _EXPLICIT_NAME.search(message)
    if named:
        return _ALIASES.get(named.group(1), named.group(1))
    for pattern, name in _NAME_HINTS:
        if pattern.search(message):
            return name
    return "UnknownCredential"


def verdict_status(message: str) -> VerdictStatus:
    """Unavailable when the message reads like a CredentialUnavailableError, else failed."""
    if _UNAVAILABLE.search(message) and not _AADSTS.search(message):
        return VerdictStatus.UNAVAILABLE
    return VerdictStatus.FAILED


def _clean(message: str) -> str:
    message = _CHAIN_END.split(message, maxsplit=1)[0]
    return " ".join(message.split())


def _split(body: str, pattern: re.Pattern[str]) -> list[tuple[str | None, str]]:
    matches = list(pattern.finditer(body))
    items: list[tuple[str | None, str]] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        label = match.group(1) if match.groups() else None
        items.append((label, body[match.end() : end]))
    return items


def _chain_kind(header: str) -> str:
    return "ChainedTokenCredential" if "chained" in header.lower() else "DefaultAzureCredential"


def parse_chain(lines: str) -> Chain | None:
    """Split a DefaultAzureCredential / ChainedTokenCredential failure into per-credential verdicts."""
    header = _HEADER.search(lines)
    if header is None:
        return _log_chain(lines)
    kind = _chain_kind(lines[max(0, header.start() - 40) : header.end()])
    body = lines[header.end() :]
    verdicts: list[RawVerdict] = []
    js_items = _split(body, _JS_ITEM)
    if js_items:
        for label, text in js_items:
            message = _clean(text)
            if not message:
                continue
            explicit = label == "CredentialUnavailableError"
            status = VerdictStatus.UNAVAILABLE if explicit else verdict_status(message)
            verdicts.append(RawVerdict(_credential_name(message), status, message, explicit))
    else:
        py_items = _split(body, _PY_ITEM)
        items = py_items or [(None, text) for _, text in _split(body, _NET_ITEM)]
        for label, text in items:
            message = _clean(text)
            if message:
                verdicts.append(
                    RawVerdict(_credential_name(message, label), verdict_status(message), message)
                )
    if not verdicts:
        message = _clean(body)
        if not message:
            return None
        verdicts.append(RawVerdict(_credential_name(message), verdict_status(message), message))
    return Chain(kind=kind, verdicts=tuple(verdicts))


def _log_chain(lines: str) -> Chain | None:
    verdicts: dict[str, RawVerdict] = {}
    for match in _LOG_VERDICT.finditer(lines):
        message = _clean(match.group(2))
        name = _credential_name(message, match.group(1))
        verdicts[name] = RawVerdict(name, verdict_status(message), message)
    if not verdicts:
        return None
    return Chain(kind="log", verdicts=tuple(verdicts.values()))
