"""Every knowledge-base signature is exercised by a real failure text.

Examples come from the benchmark corpus (each record cites its public source) or, for signatures the
corpus does not reach, from tests/explain/examples.py (each entry cites its source).
"""

from __future__ import annotations

import pytest

from aoai_doctor.explainer import explain
from aoai_doctor.explainer.engine import matched_signatures
from aoai_doctor.explainer.kb import load_knowledge_base
from tests.explain.conftest import load_corpus
from tests.explain.examples import INLINE_EXAMPLES

KB = load_knowledge_base()


def _examples() -> dict[str, tuple[str, str]]:
    """signature id -> (source, text): the first corpus text where the signature decides the answer."""
    found: dict[str, tuple[str, str]] = {}
    for record in load_corpus():
        ids = set(matched_signatures(KB, record["text"]))
        best = explain(record["text"]).best.cause
        for sig in KB.signatures:
            if sig.id in ids and sig.cause == best == record["cause"] and sig.id not in found:
                found[sig.id] = (record["source"], record["text"])
    for sig_id, example in INLINE_EXAMPLES.items():
        found.setdefault(sig_id, example)
    return found


EXAMPLES = _examples()


def test_every_signature_has_a_real_example() -> None:
    missing = [sig.id for sig in KB.signatures if sig.id not in EXAMPLES]
    assert missing == []


def test_inline_examples_name_existing_signatures() -> None:
    known = {sig.id for sig in KB.signatures}
    assert set(INLINE_EXAMPLES) <= known


def test_every_signature_names_its_source() -> None:
    assert [sig.id for sig in KB.signatures if not sig.source.strip()] == []


@pytest.mark.parametrize("sig", KB.signatures, ids=lambda sig: sig.id)
def test_signature_matches_its_example(sig) -> None:  # type: ignore[no-untyped-def]
    source, text = EXAMPLES[sig.id]
    assert sig.id in matched_signatures(KB, text), source
    best = explain(text).best
    assert best.cause == sig.cause, f"{source}: got {best.cause}"
