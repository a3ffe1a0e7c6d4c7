"""Redaction of a whole report before it is written anywhere.

``standard`` (always on): nothing secret-shaped survives in any text (tokens, keys, client secrets,
SAS signatures), on top of the checks never putting one there. ``strict`` also masks what identifies a
tenant, a principal or a resource: GUIDs (tenant, object, app ids), user principal names and e-mail
addresses, and host names, each as a short stable hash, so a reader can still tell two ids apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from typing import Any

from aoai_doctor.explain.redact import PLACEHOLDER
from aoai_doctor.explain.redact import redact as scrub_secrets
from aoai_doctor.model import CheckResult, Finding, Report, Setting

LEVELS = ("standard", "strict")
_GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+#-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_HOST = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|us|cn|io|org|azure)\b", re.I)
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
    from aoai_doctor.endpoint import classify_host

    names = set()
    for setting in report.target.values():
        for match in _HOST.finditer(setting.value):
            name = classify_host(match.group(0))[2]
            if name and len(name) >= 3:
                names.add(name.lower())
    return frozenset(names)


def strict_text(text: str, names: frozenset[str] = frozenset()) -> str:
    """Mask ids, user names, host names and the given resource names with stable hashes."""
    text = _EMAIL.sub(lambda m: _tag("user", m.group(0)), text)
    text = _GUID.sub(lambda m: _tag("id", m.group(0)), text)

    def host(match: re.Match[str]) -> str:
        name = match.group(0)
        return name if name.lower() in _PUBLIC_HOSTS else _tag("host", name)

    text = _HOST.sub(host, text)
    for name in names:
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", _tag("resource", name), text, flags=re.I)
    return text


SLICE = 12


def mask_known(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without any of the given secret values, whole or as a slice of 12 characters or more."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, PLACEHOLDER)
        for start in range(max(0, len(secret) - SLICE + 1)):
            window = secret[start : start + SLICE]
            if window in text:
                text = text.replace(window, PLACEHOLDER)
    return text


def redact_report(report: Report, level: str = "standard", secrets: tuple[str, ...] = ()) -> Report:
    """The report with every text field passed through the level's redaction; ``secrets`` are values
    known to be secret (they are removed whatever their shape)."""
    names = resource_names(report) if level == "strict" else frozenset()

    def clean(text: str) -> str:
        text = scrub_secrets(mask_known(text, secrets))
        return strict_text(text, names) if level == "strict" else text

    def clean_finding(f: Finding) -> Finding:
        return dataclasses.replace(f, message=clean(f.message), fix=_opt(clean, f.fix), detail=_opt(clean, f.detail))

    def clean_result(r: CheckResult) -> CheckResult:
        return dataclasses.replace(
            r,
            findings=tuple(clean_finding(f) for f in r.findings),
            skip_reason=_opt(clean, r.skip_reason),
            data=_walk(r.data, clean),
        )

    return dataclasses.replace(
        report,
        target={k: Setting(clean(s.value), clean(s.source)) for k, s in report.target.items()},
        results=tuple(clean_result(r) for r in report.results),
        sources_read=tuple(clean(s) for s in report.sources_read),
        environment=_walk(report.environment, clean),
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
