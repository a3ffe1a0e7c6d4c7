"""``aoai-doctor explain``: paste any error text, get the root cause and the fix.

The engine reads structure (JSON bodies, AADSTS codes, HTTP statuses, credential chains) and matches
it against a knowledge base of real failure texts kept as package data. It imports only the standard
library, so it answers instantly even where authentication is broken.

Example::

    from aoai_doctor.explainer import explain, render_text
    print(render_text(explain(pasted_text)))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aoai_doctor.explainer.answer import (
        CauseInfo,
        Confidence,
        CredentialVerdict,
        Diagnosis,
        Explanation,
        VerdictStatus,
    )
    from aoai_doctor.explainer.kb import load_knowledge_base as load_knowledge_base
    from aoai_doctor.explainer.render import render_text, to_dict

# Each name loads on first use: a run imports this package for its fixes (aoai_doctor.explainer.fixes) alone,
# and the knowledge base is read only when a fix is asked for.
_LAZY = {
    **dict.fromkeys(("CauseInfo", "Confidence", "CredentialVerdict", "Diagnosis", "Explanation", "VerdictStatus"),
                    "answer"),
    "load_knowledge_base": "kb",
    "render_text": "render",
    "to_dict": "render",
}

if not TYPE_CHECKING:  # to mypy the names are the imports above, and a misspelt one stays an error

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value

__all__ = [
    "CauseInfo",
    "Confidence",
    "CredentialVerdict",
    "Diagnosis",
    "Explanation",
    "VerdictStatus",
    "cause_ids",
    "cause_info",
    "exception_text",
    "explain",
    "render_text",
    "to_dict",
]


def explain(error: str | BaseException) -> Explanation:
    """Diagnose an error: a pasted text, or a caught exception (its type, message, the exceptions it
    was raised from, and an HTTP error's body). Never raises.

    Returns candidate causes best first (``Explanation.best`` is the answer; ``.cause``,
    ``.confidence`` and ``.fix`` read it) and, when the text holds a DefaultAzureCredential /
    ChainedTokenCredential failure, one verdict per credential.
    """
    from aoai_doctor.explainer.engine import diagnose
    from aoai_doctor.explainer.kb import load_knowledge_base

    kb = load_knowledge_base()
    try:
        text = error if isinstance(error, str) else exception_text(error)
        return diagnose(kb, text)
    except Exception as exc:
        return _internal_failure(exc)


def exception_text(exc: BaseException) -> str:
    """What an exception says, as a person would paste it: ``Type: message`` for it and each exception
    it was raised from or during (outermost last, as a traceback prints them), with an HTTP error's
    status and body (openai's ``APIStatusError``, azure-core's ``HttpResponseError``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines = []
    for item in reversed(chain):
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}: {item}")
        status = getattr(item, "status_code", None)
        body = getattr(item, "body", None)
        if isinstance(status, int):
            lines.append(f"HTTP status {status}")
        if body is not None and str(body) not in str(item):
            lines.append(str(body))
    return "\n".join(lines)


def _internal_failure(exc: Exception) -> Explanation:
    from aoai_doctor.explainer.answer import Confidence, Diagnosis, Explanation

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
    from aoai_doctor.explainer.kb import load_knowledge_base

    return load_knowledge_base().cause_info(cause)


def cause_ids() -> tuple[str, ...]:
    """Every root-cause id the knowledge base describes."""
    from aoai_doctor.explainer.kb import load_knowledge_base

    return tuple(load_knowledge_base().causes)
