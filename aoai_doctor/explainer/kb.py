"""The knowledge base: failure signatures and per-cause descriptions, loaded from package data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from aoai_doctor.explainer.answer import CauseInfo, Confidence

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

_FLAGS = re.IGNORECASE
_SIGNATURE_KEYS = frozenset(
    {
        "id",
        "cause",
        "confidence",
        "priority",
        "aadsts",
        "error_code",
        "status",
        "any",
        "all",
        "none",
        "unavailable",
        "informative",
        "kind",
        "explanation",
        "fix",
        "confirm_with",
        "source",
    }
)
_CAUSE_KEYS = frozenset({"title", "explanation", "how_to_confirm", "fix", "confirm_with"})


class KnowledgeBaseError(ValueError):
    """The knowledge-base data is malformed."""


@dataclass(frozen=True, slots=True)
class Signature:
    """One recognisable failure text and the cause it points to."""

    id: str
    cause: str
    confidence: Confidence
    priority: int
    aadsts: frozenset[str]
    error_codes: frozenset[str]
    statuses: frozenset[int]
    any_of: tuple[re.Pattern[str], ...]
    all_of: tuple[re.Pattern[str], ...]
    none_of: tuple[re.Pattern[str], ...]
    unavailable: bool
    """The text is a CredentialUnavailableError: a chain skips the credential."""
    informative: bool
    """False when the message only says that a credential source is not set up here."""
    success: bool
    """The text shows that something worked."""
    explanation: str
    fix: str
    confirm_with: str | None
    source: str

    @property
    def score(self) -> int:
        """Ranking score: confidence first, then priority."""
        return self.confidence.weight + self.priority


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """All signatures and cause descriptions."""

    signatures: tuple[Signature, ...]
    causes: dict[str, CauseInfo]

    def cause_info(self, cause: str) -> CauseInfo:
        """The canonical description of ``cause``; raises KeyError for an unknown id."""
        return self.causes[cause]


def docs_path(cause: str) -> str:
    """Repository path of the docs page of ``cause``."""
    return f"docs/causes/{cause}.md"


def _read(name: str) -> dict[str, Any]:
    data = resources.files("aoai_doctor.explainer").joinpath("data", name).read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def _compile(sig_id: str, patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p, _FLAGS) for p in patterns)
    except re.error as exc:
        raise KnowledgeBaseError(f"signature {sig_id}: bad regex: {exc}") from exc


def _build_causes(raw: dict[str, Any]) -> dict[str, CauseInfo]:
    causes: dict[str, CauseInfo] = {}
    for cause, entry in raw.get("cause", {}).items():
        unknown = set(entry) - _CAUSE_KEYS
        if unknown:
            raise KnowledgeBaseError(f"cause {cause}: unknown keys {sorted(unknown)}")
        causes[cause] = CauseInfo(
            cause=cause,
            title=entry["title"],
            explanation=entry["explanation"].strip(),
            how_to_confirm=entry["how_to_confirm"].strip(),
            fix=entry["fix"].strip(),
            docs=docs_path(cause),
            confirm_with=entry.get("confirm_with") or None,
        )
    return causes


def _build_signature(entry: dict[str, Any], causes: dict[str, CauseInfo]) -> Signature:
    sig_id = str(entry.get("id", "?"))
    unknown = set(entry) - _SIGNATURE_KEYS
    if unknown:
        raise KnowledgeBaseError(f"signature {sig_id}: unknown keys {sorted(unknown)}")
    cause = entry["cause"]
    if cause not in causes:
        raise KnowledgeBaseError(f"signature {sig_id}: unknown cause {cause!r}")
    info = causes[cause]
    kind = entry.get("kind", "error")
    if kind not in ("error", "success"):
        raise KnowledgeBaseError(f"signature {sig_id}: unknown kind {kind!r}")
    conditions = ("aadsts", "error_code", "status", "any", "all")
    if not any(entry.get(key) for key in conditions):
        raise KnowledgeBaseError(f"signature {sig_id}: no match condition")
    return Signature(
        id=sig_id,
        cause=cause,
        confidence=Confidence(entry.get("confidence", "medium")),
        priority=int(entry.get("priority", 0)),
        aadsts=frozenset(str(code) for code in entry.get("aadsts", ())),
        error_codes=frozenset(str(code).lower() for code in entry.get("error_code", ())),
        statuses=frozenset(int(s) for s in entry.get("status", ())),
        any_of=_compile(sig_id, entry.get("any", [])),
        all_of=_compile(sig_id, entry.get("all", [])),
        none_of=_compile(sig_id, entry.get("none", [])),
        unavailable=bool(entry.get("unavailable", False)),
        informative=bool(entry.get("informative", True)),
        success=kind == "success",
        explanation=(entry.get("explanation") or info.explanation).strip(),
        fix=(entry.get("fix") or info.fix).strip(),
        confirm_with=entry.get("confirm_with") or info.confirm_with,
        source=entry.get("source", ""),
    )


@lru_cache(maxsize=1)
def load_knowledge_base() -> KnowledgeBase:
    """Load and validate the packaged knowledge base (parsed once per process; immutable)."""
    causes = _build_causes(_read("causes.toml"))
    entries = _read("signatures.toml").get("signature", [])
    signatures = tuple(_build_signature(entry, causes) for entry in entries)
    seen: set[str] = set()
    for sig in signatures:
        if sig.id in seen:
            raise KnowledgeBaseError(f"duplicate signature id {sig.id}")
        seen.add(sig.id)
    return KnowledgeBase(signatures=signatures, causes=causes)
