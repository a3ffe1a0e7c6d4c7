"""Typed values produced by the explain engine."""

from __future__ import annotations

from enum import Enum

from aoai_doctor.record import record


class Confidence(str, Enum):
    """How sure the engine is about a diagnosis."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def weight(self) -> int:
        """Ranking weight: any high beats any medium beats any low."""
        return {"high": 300, "medium": 200, "low": 100}[self.value]

    def lowered(self) -> Confidence:
        """The next lower level (low stays low)."""
        return {"high": Confidence.MEDIUM, "medium": Confidence.LOW, "low": Confidence.LOW}[self.value]


class VerdictStatus(str, Enum):
    """What one credential of a chain reported."""

    UNAVAILABLE = "unavailable"
    """The credential is not set up here; a chain skips it and tries the next one."""
    FAILED = "failed"
    """The credential tried and failed; a chain stops here."""


@record
class CauseInfo:
    """The canonical description of one root-cause id."""

    cause: str
    """Root-cause id from the public vocabulary (e.g. ``scope_missing_default``)."""
    title: str
    """One-line summary."""
    explanation: str
    """What is wrong."""
    how_to_confirm: str
    """How to prove that this is the cause."""
    fix: str
    """What to do, with exact commands where there are any."""
    docs: str
    """Repository path of the cause's docs page."""
    confirm_with: str | None
    """The ``aoai-doctor run`` check id that confirms the cause, if any."""


@record
class Diagnosis:
    """One candidate root cause for a pasted text."""

    cause: str
    """Root-cause id."""
    confidence: Confidence
    """How sure the engine is."""
    evidence: str
    """The (redacted) part of the text the diagnosis keyed on."""
    explanation: str
    """Why this is the cause."""
    fix: str
    """What to do."""
    confirm_with: str | None
    """Check id that would confirm it (``aoai-doctor run --select <id>``)."""
    docs: str
    """Repository path of the cause's docs page."""
    signature: str | None = None
    """Id of the knowledge-base signature that matched, if any."""


@record
class CredentialVerdict:
    """What one credential of a DefaultAzureCredential / ChainedTokenCredential chain reported."""

    credential: str
    """Credential class name, e.g. ``AzureCliCredential``."""
    status: VerdictStatus
    """Unavailable (skipped by the chain) or failed (the chain stops)."""
    message: str
    """The credential's (redacted) message."""
    cause: str | None
    """Root-cause id of this credential's message, if one was recognised."""


@record
class Explanation:
    """The answer to ``explain(text)``: candidate causes best first, plus chain verdicts."""

    diagnoses: tuple[Diagnosis, ...]
    """Candidate causes, best first; never empty."""
    credentials: tuple[CredentialVerdict, ...] = ()
    """Per-credential verdicts when a credential chain was found in the text."""

    @property
    def best(self) -> Diagnosis:
        """The most likely diagnosis."""
        return self.diagnoses[0]

    @property
    def cause(self) -> str:
        """The root-cause id of the best diagnosis (``scope_missing_default`` …)."""
        return self.best.cause

    @property
    def confidence(self) -> Confidence:
        """How sure the best diagnosis is."""
        return self.best.confidence

    @property
    def fix(self) -> str:
        """What to do, from the best diagnosis."""
        return self.best.fix
