"""Secrets, in one place: the :class:`Secret` wrapper, the secret values a run holds, and redaction.

Three layers, each applied to every text before it is written anywhere:

- **known secrets** (:class:`KnownSecrets`): the values this run holds (secret variables, the federated
  token file, proxy passwords, a key or token given to check, and every token obtained during the run)
  are removed whatever their shape, whole or as any slice of 12 characters or more
  (:mod:`aoai_doctor.secret_slices`);
- **secret shapes** (:func:`scrub`, also used by ``explain``): tokens, keys, client secrets, SAS
  signatures and the like are replaced by placeholders; every replacement swaps the whole secret, so
  callers redact the full text first and only then cut excerpts from it;
- **strict** (``--redact strict``): what identifies a tenant, a principal or a resource (GUIDs, user
  principal names and e-mail addresses, host names, the target's resource names) is masked as a short
  stable hash, so a reader can still tell two ids apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from aoai_doctor.model import CheckResult, Finding, Report, Setting
from aoai_doctor.record import field_names
from aoai_doctor.secret_slices import PLACEHOLDER, digest, index_for, mask, mask_known


class Secret:
    """A value that must never be printed. ``str``/``repr`` show only that it is set."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(****)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Variables whose values are secrets: whatever else happens, these values never reach an output.
SECRET_VARS = (
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "IDENTITY_HEADER",
    "MSI_SECRET",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AOAI_DOCTOR_GATEWAY_KEY",
)
MIN_SECRET = 6
"""Shorter values are not treated as secrets (they would mask ordinary words)."""


class KnownSecrets:
    """The secret values one run holds. Thread-safe: checks add the tokens they obtain while they run,
    and a log handler may read the list at the same time."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self.add(*values)

    @classmethod
    def of_environment(cls, environ: Mapping[str, str], *extra: str | None) -> KnownSecrets:
        """Secret variables, the federated token file's content, proxy passwords, and ``extra`` (a key
        or token from a config file or ``--token-file``)."""
        values = [environ.get(name, "") for name in SECRET_VARS]
        token_file = environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if token_file:
            with contextlib.suppress(OSError):
                values.append(Path(token_file).read_text(encoding="utf-8", errors="replace")[:65536].strip())
        for name, value in environ.items():
            if name.lower().endswith("_proxy") and "@" in value:
                password = urlsplit(value if "://" in value else f"http://{value}").password
                if password:
                    values.append(unquote(password))
        return cls([*values, *(v for v in extra if v)])

    def add(self, *values: str | Secret | None) -> None:
        """Remember more secret values (a :class:`Secret` or its plain value)."""
        plain = [v.reveal() if isinstance(v, Secret) else v for v in values if v]
        fresh = {v.strip() for v in plain if v and len(v.strip()) >= MIN_SECRET}
        if not fresh:
            return
        with self._lock:
            merged = set(self._values) | fresh
            self._values = tuple(sorted(merged, key=len, reverse=True))

    def add_from(self, facts: Iterable[object]) -> None:
        """Remember every :class:`Secret` held by these facts (dataclasses with Secret fields)."""
        for fact in facts:
            if isinstance(fact, Secret):
                self.add(fact)
            elif dataclasses.is_dataclass(fact) and not isinstance(fact, type):
                for name in field_names(type(fact)):
                    value = getattr(fact, name, None)
                    if isinstance(value, Secret):
                        self.add(value)

    @property
    def values(self) -> tuple[str, ...]:
        """The values, longest first."""
        return self._values

    def mask(self, text: str) -> str:
        """``text`` without any known secret, whole or as a slice of 12 characters or more."""
        return mask_known(text, self._values)

    def clean(self, text: str) -> str:
        """``text`` without known secrets and without anything shaped like a secret."""
        return scrub(self.mask(text))


_STRONG_NAMES = (
    r"api[-_ ]?key|x-api-key|ocp-apim-subscription-key|subscription[-_]?key|client[-_]?secret|"
    r"azure_client_secret|azure_openai_api_key|openai_api_key|azure_openai_ad_token|azure_ad_token|password|"
    r"passwd|pwd|apikey|accountkey|sharedaccesskey|client[-_]?assertion|access[-_]?token|refresh[-_]?token|"
    r"id[-_]?token|azure_client_certificate_password|certificate[-_]?password|azure_password|"
    r"x?-?identity[-_]header|msi[-_]secret|x-identity-header"
)
_WEAK_NAMES = r"secret|token|key|assertion|sig|credential"
# A value that names where a secret is read from is not a secret: code in a fix (os.environ["APIM_KEY"],
# $AZURE_OPENAI_API_KEY), matched case-sensitively, upper-case names with an underscore only.
_REFERENCE = (r"(?!(?-i:os\.environ\[[\"'][A-Z][A-Z0-9_]*[\"']\]|os\.getenv\([\"'][A-Z][A-Z0-9_]*[\"']\)"
              r"|\$\{?[A-Z][A-Z0-9]*_[A-Z0-9_]*\}?)(?![^\s\"',;&}<>)\]]))")
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
            rf"(?i)((?<![\w-])(?:{_STRONG_NAMES})[\"']?\s*(?:=|:)\s*[\"']?)(?!<redacted){_REFERENCE}"
            r"([^\s\"',;&}<>)\]]{4,})"
        ),
        r"\1" + PLACEHOLDER,
    ),
    (
        re.compile(
            rf"(?i)((?<![\w-])(?:{_WEAK_NAMES})[\"']?\s*(?:=|:)\s*[\"']?)(?!<redacted){_REFERENCE}"
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
            # an Azure OpenAI URL path (/openai/v1/…, /api/projects/…) is not a secret
            r"(?![A-Za-z0-9+/_-]*?/(?:openai|api/projects|deployments|v1|models)/)"
            r"(?=[A-Za-z0-9+/_-]*?[A-Z])"
            r"[A-Za-z0-9+/_-]{32,}={0,2}"
        ),
        PLACEHOLDER,
    ),
)


def scrub(text: str) -> str:
    """``text`` with tokens, keys and secrets replaced by placeholders, whatever their source."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


LEVELS = ("standard", "strict")
_GUID = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
_EMAIL = r"\b[A-Za-z0-9._%+#-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"
_HOST = r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|us|cn|io|org|azure)\b"
# Public service names that identify no one: kept so the report stays readable.
_PUBLIC_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "management.azure.com",
        "cognitiveservices.azure.com",
        "cognitiveservices.azure.us",
        "cognitiveservices.azure.cn",
        "ai.azure.com",
        "sts.windows.net",
        "aka.ms",
        "go.microsoft.com",
        "learn.microsoft.com",
        "openai.azure.com",
        "api.openai.com",
        "graph.microsoft.com",
        "privatelink.openai.azure.com",
    }
)


def _tag(kind: str, value: str) -> str:
    return f"<{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()[:8]}>"


def resource_names(report: Report) -> frozenset[str]:
    """Azure resource names the report's target mentions (the first label of its Azure host names)."""
    from aoai_doctor.azure.endpoints import classify_host

    names = set()
    for setting in report.target.values():
        for match in re.finditer(_HOST, setting.value):
            name = classify_host(match.group(0))[2]
            if name and len(name) >= 3:
                names.add(name.lower())
    return frozenset(names)


def strict_text(text: str, names: frozenset[str] = frozenset()) -> str:
    """Mask ids, user names, host names and the given resource names with stable hashes."""
    text = re.sub(_EMAIL, lambda m: _tag("user", m.group(0)), text)
    text = re.sub(_GUID, lambda m: _tag("id", m.group(0)), text)

    def host(match: re.Match[str]) -> str:
        name = match.group(0)
        return name if name.lower() in _PUBLIC_HOSTS else _tag("host", name)

    text = re.sub(_HOST, host, text)
    for name in names:
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", _tag("resource", name), text, flags=re.I)
    return text


def redact_report(report: Report, level: str = "standard", secrets: tuple[str, ...] = ()) -> Report:
    """The report with every text field passed through the level's redaction; ``secrets`` are values
    known to be secret (they are removed whatever their shape).

    A report holds a few hundred texts, many the same, and a fleet's reports mostly the same ones: each
    distinct text is cleaned once a process (:class:`_Scrubbed`). Of the texts not seen before, the rules
    before the first that finds anything in all of them together (joined by newlines, which every rule treats
    as a text's edge) are not run on each."""
    names = resource_names(report) if level == "strict" else frozenset()
    keys = {text: digest(text) for text in _texts(report)}  # each distinct text, digested once
    index = index_for(secrets, keys) if secrets else None
    if index is not None and not index.holds_any(keys):
        index = None  # no text holds any part of a known secret
    masked = {text: mask(text, index) if index and text else text for text in keys}
    scrubbed = _SCRUBBED.of({text: keys.get(text) or digest(text) for text in masked.values()})
    texts = {original: strict_text(scrubbed[text], names) if level == "strict" else scrubbed[text]
             for original, text in masked.items()}
    if all(cleaned == original for original, cleaned in texts.items()):
        return report  # nothing to hide: the report as it is
    return _map_texts(report, texts.__getitem__)


class _Scrubbed:
    """:func:`scrub` of texts, remembered: a pure function of the text, asked again for every report. A text is
    remembered by its digest, not as itself: what the rules hide in it is never kept."""

    LIMIT = 4096
    """Texts remembered, at most (then it starts again); a longer text than :data:`LONGEST` is not kept."""
    LONGEST = 2048

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[bytes, str] = {}

    def of(self, texts: Mapping[str, bytes]) -> dict[str, str]:
        """Each of ``texts`` (each with its :func:`~aoai_doctor.secret_slices.digest`) and its scrubbed form."""
        known = self._known
        found: dict[str, str] = {}
        fresh: list[tuple[str, bytes]] = []
        for text, key in texts.items():
            clean = known.get(key)
            if clean is None:
                fresh.append((text, key))
            else:
                found[text] = clean
        joined = "\n".join(text for text, _ in fresh)
        # The rules run in order and one's replacement can make another match: from the first that finds
        # anything in the fresh texts, every rule runs.
        first = next((n for n, (pattern, _) in enumerate(_RULES) if pattern.search(joined)), len(_RULES))
        rules = _RULES[first:]
        for text, _ in fresh:
            clean = text
            for pattern, replacement in rules:
                clean = pattern.sub(replacement, clean)
            found[text] = clean
        with self._lock:
            if len(self._known) + len(fresh) > self.LIMIT:
                self._known = {}
            self._known.update((key, found[text]) for text, key in fresh if len(text) <= self.LONGEST)
        return found

    def forget(self) -> None:
        """In a forked child: a lock held by a parent's thread at the fork would never be released."""
        self._lock = threading.Lock()


_SCRUBBED = _Scrubbed()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_SCRUBBED.forget)


def _texts(report: Report) -> Iterator[str]:
    """Every text of the report, in the places :func:`_map_texts` rewrites."""
    for setting in report.target.values():
        yield from (setting.value, setting.source)
    for result in report.results:
        for f in result.findings:
            yield from (t for t in (f.message, f.fix, f.detail) if t is not None)
        if result.skip_reason is not None:
            yield result.skip_reason
        yield from _strings(result.data)
    yield from report.sources_read
    yield from _strings(report.environment)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _map_texts(report: Report, fn: Callable[[str], str]) -> Report:
    """The report with ``fn`` applied to each of its texts."""

    def finding(f: Finding) -> Finding:
        return dataclasses.replace(f, message=fn(f.message), fix=_opt(fn, f.fix), detail=_opt(fn, f.detail))

    def result(r: CheckResult) -> CheckResult:
        return dataclasses.replace(
            r,
            findings=tuple(finding(f) for f in r.findings),
            skip_reason=_opt(fn, r.skip_reason),
            data=_walk(r.data, fn),
        )

    return dataclasses.replace(
        report,
        target={k: Setting(fn(s.value), fn(s.source)) for k, s in report.target.items()},
        results=tuple(result(r) for r in report.results),
        sources_read=tuple(fn(s) for s in report.sources_read),
        environment=_walk(report.environment, fn),
    )


def _opt(fn: Callable[[str], str], value: str | None) -> str | None:
    return None if value is None else fn(value)


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, fn) for v in value]
    return value
