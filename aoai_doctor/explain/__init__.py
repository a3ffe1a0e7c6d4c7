"""``aoai-doctor explain``: paste any error text, get the root cause and the fix.

The engine reads structure (JSON bodies, AADSTS codes, HTTP statuses, credential chains) and matches
it against a knowledge base of real failure texts kept as package data. It imports only the standard
library, so it answers instantly even where authentication is broken.

Example::

    from aoai_doctor.explain import explain, render_text
    print(render_text(explain(pasted_text)))
"""

from __future__ import annotations

from aoai_doctor.explain.engine import diagnose
from aoai_doctor.explain.kb import load_knowledge_base
from aoai_doctor.explain.model import (
    CauseInfo,
    Confidence,
    CredentialVerdict,
    Diagnosis,
    Explanation,
    VerdictStatus,
)
from aoai_doctor.explain.render import render_text, to_dict

__all__ = [
    "CauseInfo",
    "Confidence",
    "CredentialVerdict",
    "Diagnosis",
    "Explanation",
    "VerdictStatus",
    "cause_ids",
    "cause_info",
    "explain",
    "render_text",
    "to_dict",
]


def explain(text: str) -> Explanation:
    """Diagnose a pasted error text. Never raises for any ``str`` input.

    Returns candidate causes best first (``Explanation.best`` is the answer) and, when the text holds
    a DefaultAzureCredential / ChainedTokenCredential failure, one verdict per credential.
    """
    kb = load_knowledge_base()
    try:
        return diagnose(kb, text if isinstance(text, str) else str(text))
    except Exception as exc:
        return _internal_failure(exc)


def _internal_failure(exc: Exception) -> Explanation:
    info = cause_info("other")
    diagnosis = Diagnosis(
        cause="other",
        confidence=Confidence.LOW,
        evidence=f"(the text could not be analysed: {type(exc).__name__})",
        explanation=info.explanation,
        fix=info.fix,
        confirm_with=info.confirm_with,
        docs=info.docs,
    )
    return Explanation(diagnoses=(diagnosis,))


def cause_info(cause: str) -> CauseInfo:
    """Canonical title, explanation, fix, docs page and confirming check of a root-cause id.

    Raises ``KeyError`` for an id that is not in the public vocabulary.
    """
    return load_knowledge_base().cause_info(cause)


def cause_ids() -> tuple[str, ...]:
    """Every root-cause id the knowledge base describes."""
    return tuple(load_knowledge_base().causes)
