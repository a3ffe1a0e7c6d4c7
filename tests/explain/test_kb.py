"""A malformed knowledge base is a KnowledgeBaseError naming the file, the entry and the key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aoai_doctor import strict_toml
from aoai_doctor.explainer import kb
from tests.explain.examples import INLINE_EXAMPLES

CAUSES = """
[cause.token_expired]
title = "t"
explanation = "e"
how_to_confirm = "h"
fix = "f"
"""

SIGNATURE = """
[[signature]]
id = "expired"
cause = "token_expired"
any = ["expired"]
"""


def load(causes: str, signatures: str, monkeypatch: pytest.MonkeyPatch) -> kb.KnowledgeBase:
    texts = {"causes.toml": causes, "signatures.toml": signatures}

    def read(name: str) -> strict_toml.Table:
        return strict_toml.Table(strict_toml.parse(texts[name], source=name), source=name)

    monkeypatch.setattr(kb, "_read", read)
    return kb.load_knowledge_base.__wrapped__()


def test_a_well_formed_knowledge_base_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    base = load(CAUSES, SIGNATURE, monkeypatch)
    assert [s.id for s in base.signatures] == ["expired"] and base.cause_info("token_expired").title == "t"


@pytest.mark.parametrize(
    ("causes", "signatures", "expected"),
    [
        (CAUSES + 'titel = "x"\n', SIGNATURE,
         "causes.toml: cause.token_expired.titel: unknown key (did you mean 'title'?)"),
        (CAUSES.replace('fix = "f"\n', ""), SIGNATURE, "causes.toml: cause.token_expired.fix: is required"),
        (CAUSES, SIGNATURE + 'explantion = "x"\n',
         "signatures.toml: signature[\"expired\"].explantion: unknown key (did you mean 'explanation'?)"),
        (CAUSES, SIGNATURE.replace("token_expired", "token_expird"),
         "signatures.toml: signature[\"expired\"].cause: unknown cause 'token_expird' (did you mean 'token_expired'?)"),
        (CAUSES, SIGNATURE + "status = [\"401\"]\n",
         "signatures.toml: signature[\"expired\"].status[0]: expected an integer, got a string"),
        (CAUSES, SIGNATURE.replace('any = ["expired"]', 'any = ["("]'),
         "signatures.toml: signature[\"expired\"].any: bad regex"),
        (CAUSES, SIGNATURE.replace('any = ["expired"]', ""),
         "signatures.toml: signature[\"expired\"]: no match condition"),
        (CAUSES, SIGNATURE + SIGNATURE, "signatures.toml: signature: duplicate id 'expired'"),
        (CAUSES, "[[signature]\n", "signatures.toml: not valid TOML"),
    ],
)
def test_malformed_entries(causes: str, signatures: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(kb.KnowledgeBaseError) as caught:
        load(causes, signatures, monkeypatch)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("access denied", "access denied"),
        ("abc", None),  # too short to be worth a substring test
        ("foo|barbazqux", None),  # an alternative need not contain either side
        (r"token tenant [^ ]{1,60} does not match resource tenant", " does not match resource tenant"),
        (r"(?:app service|azure ml) managed identity configuration", " managed identity configuration"),
        (r"abcdex?yz", "abcde"),  # a quantified character ends the run before it
        (r"a\.?bcdef", "bcdef"),
        (r"unauthorized\. access token", "unauthorized. access token"),
        (r"x[^]]yzwq", "yzwq"),
        (r"\bServiceModelDeprecat(?:ed|ing)\b", "servicemodeldeprecat"),
        (r"\d{3} gateway time-?out", " gateway time"),  # a {m,n} count is no literal
        (r"x{1000}yz", None),
    ],
)
def test_required_literal(pattern: str, literal: str | None) -> None:
    assert kb.required_literal(pattern) == literal


EXAMPLE_TEXTS = [text for _, text in INLINE_EXAMPLES.values()]
TRAPS = st.sampled_from(["", "\u0130", "\u0131", "\u017f", "\u212a", "…", "K"])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(EXAMPLE_TEXTS), st.booleans(), TRAPS, st.integers(min_value=0, max_value=400))
def test_the_literal_prefilter_never_changes_a_match(text: str, swap: bool, trap: str, where: int) -> None:
    """With or without the prefilter, every knowledge-base pattern matches the same texts (case changes and
    the characters whose case-insensitive match differs from ``lower()`` included)."""
    text = text.swapcase() if swap else text
    text = text[:where] + trap + text[where:]
    lowered = kb.prefilter_view(text)
    for sig in kb.load_knowledge_base().signatures:
        for pattern in sig.any_of + sig.all_of + sig.none_of:
            assert (pattern.regex.search(text) is None) == (pattern.search(text, lowered) is None), pattern.regex
