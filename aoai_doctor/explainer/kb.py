"""The knowledge base: failure signatures and per-cause descriptions, loaded from package data."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from aoai_doctor import strict_toml
from aoai_doctor.explainer.answer import CauseInfo, Confidence
from aoai_doctor.record import record
from aoai_doctor.strict_toml import Table, TomlError

_FLAGS = re.IGNORECASE
_CONDITIONS = ("aadsts", "error_code", "status", "any", "all")
"""The keys of a signature that match text; a signature needs at least one."""
_QUANTIFIERS = frozenset("?*+{")
_LITERAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 _-:;,.'\"/=@#%&!<>`~")
"""Characters a prefilter literal may hold (ASCII)."""
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")
"""The only characters a case-insensitive regex matches to an ASCII letter although their ``lower()`` is not
that letter (İ and ı match i, ſ matches s): a text holding one gets no prefilter."""
_MIN_LITERAL = 4


class KnowledgeBaseError(ValueError):
    """The knowledge-base data is malformed."""


@record
class TextPattern:
    """A signature regex, with a literal that every match contains (so most texts are ruled out by a plain
    substring test before the regex engine runs)."""

    regex: re.Pattern[str]
    literal: str | None
    """Lower-case text every match contains, or None when the pattern has no usable literal."""

    def search(self, text: str, lowered: str | None = None) -> re.Match[str] | None:
        """``regex.search(text)``; with ``lowered`` (:func:`prefilter_view` of ``text``) a text that lacks the
        literal is ruled out without running the regex."""
        if self.literal is not None and lowered is not None and self.literal not in lowered:
            return None
        return self.regex.search(text)


def prefilter_view(text: str) -> str | None:
    """``text.lower()`` for the literal prefilter, or None when the text holds a character for which a
    case-insensitive match and ``lower()`` disagree."""
    if any(trap in text for trap in _CASE_TRAPS):
        return None
    return text.lower()


def required_literal(pattern: str) -> str | None:
    """The longest run of plain characters that every match of ``pattern`` contains, lower-cased.

    Only top-level runs count (not inside groups or classes); a top-level ``|`` means no literal; a
    quantified character ends the run before it."""
    runs: list[str] = []
    run: list[str] = []
    depth = 0
    index = 0

    def close() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    while index < len(pattern):
        char = pattern[index]
        following = pattern[index + 1] if index + 1 < len(pattern) else ""
        if char == "\\":
            literal = following if following and not following.isalnum() else None
            index += 2
            if depth:
                continue
            quantified = index < len(pattern) and pattern[index] in _QUANTIFIERS
            if literal is not None and literal.lower() in _LITERAL_CHARS and not quantified:
                run.append(literal.lower())
            else:
                close()
            continue
        if char == "[":
            close()
            end = index + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            index = end + 1
            continue
        if char == "{":
            close()
            counts = re.match(r"\{\d*(?:,\d*)?\}", pattern[index:])
            index += len(counts.group(0)) if counts else 1
            continue
        if char == "(":
            close()
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return None
        elif depth == 0:
            if following in _QUANTIFIERS or char in ".^$?*+{}" or char.lower() not in _LITERAL_CHARS:
                close()
            else:
                run.append(char.lower())
        index += 1
    close()
    best = max(runs, key=len, default="")
    return best if len(best) >= _MIN_LITERAL else None


@record
class Signature:
    """One recognisable failure text and the cause it points to."""

    id: str
    cause: str
    confidence: Confidence
    priority: int
    aadsts: frozenset[str]
    error_codes: frozenset[str]
    statuses: frozenset[int]
    any_of: tuple[TextPattern, ...]
    all_of: tuple[TextPattern, ...]
    none_of: tuple[TextPattern, ...]
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


@record
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


def _read(name: str) -> Table:
    file = resources.files("aoai_doctor.explainer").joinpath("data", name)
    return Table(strict_toml.read(file, source=name), source=name)


def _patterns(entry: Table, key: str) -> tuple[TextPattern, ...]:
    patterns = entry.strings(key)
    try:
        return tuple(TextPattern(re.compile(p, _FLAGS), required_literal(p)) for p in patterns)
    except re.error as exc:
        raise entry.error(key, f"bad regex: {exc}") from None


def _build_causes(root: Table) -> dict[str, CauseInfo]:
    causes: dict[str, CauseInfo] = {}
    table = root.table("cause")
    for cause in table.unread_keys():
        entry = table.table(cause)
        causes[cause] = CauseInfo(
            cause=cause,
            title=entry.text("title", required=True),
            explanation=entry.text("explanation", required=True).strip(),
            how_to_confirm=entry.text("how_to_confirm", required=True).strip(),
            fix=entry.text("fix", required=True).strip(),
            docs=docs_path(cause),
            confirm_with=entry.text("confirm_with") or None,
        )
        entry.done()
    root.done()
    return causes


def _build_signature(entry: Table, causes: dict[str, CauseInfo]) -> Signature:
    sig_id = entry.text("id", required=True)
    cause = entry.text("cause", required=True)
    if cause not in causes:
        raise entry.error("cause", f"unknown cause {cause!r}{strict_toml.did_you_mean(cause, causes)}")
    info = causes[cause]
    kind = entry.choice("kind", ("error", "success"), "error")
    signature = Signature(
        id=sig_id,
        cause=cause,
        confidence=entry.enum("confidence", Confidence, Confidence.MEDIUM),
        priority=entry.integer("priority", 0),
        aadsts=frozenset(entry.strings("aadsts")),
        error_codes=frozenset(code.lower() for code in entry.strings("error_code")),
        statuses=frozenset(entry.integers("status")),
        any_of=_patterns(entry, "any"),
        all_of=_patterns(entry, "all"),
        none_of=_patterns(entry, "none"),
        unavailable=entry.flag("unavailable"),
        informative=entry.flag("informative", True),
        success=kind == "success",
        explanation=(entry.text("explanation") or info.explanation).strip(),
        fix=(entry.text("fix") or info.fix).strip(),
        confirm_with=entry.text("confirm_with") or info.confirm_with,
        source=entry.text("source", ""),
    )
    entry.done()
    if not (signature.aadsts or signature.error_codes or signature.statuses or signature.any_of or signature.all_of):
        raise entry.error(None, f"no match condition (one of {', '.join(_CONDITIONS)})")
    return signature


def _build_signatures(root: Table, causes: dict[str, CauseInfo]) -> tuple[Signature, ...]:
    signatures = tuple(_build_signature(entry, causes) for entry in root.tables("signature", name_key="id"))
    root.done()
    seen: set[str] = set()
    for sig in signatures:
        if sig.id in seen:
            raise root.error("signature", f"duplicate id {sig.id!r}")
        seen.add(sig.id)
    return signatures


@lru_cache(maxsize=1)
def load_knowledge_base() -> KnowledgeBase:
    """Load and validate the packaged knowledge base (parsed once per process; immutable)."""
    try:
        causes = _build_causes(_read("causes.toml"))
        signatures = _build_signatures(_read("signatures.toml"), causes)
    except TomlError as exc:
        raise KnowledgeBaseError(str(exc)) from None
    return KnowledgeBase(signatures=signatures, causes=causes)
