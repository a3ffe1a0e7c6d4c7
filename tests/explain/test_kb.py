"""A malformed knowledge base is a KnowledgeBaseError naming the file, the entry and the key."""

from __future__ import annotations

import pytest

from aoai_doctor import strict_toml
from aoai_doctor.explainer import kb

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
