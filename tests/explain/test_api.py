"""Public API: cause_info, to_dict, render_text, and the cause vocabulary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aoai_doctor.explainer import Confidence, cause_ids, cause_info, explain, render_text, to_dict
from aoai_doctor.explainer.kb import load_knowledge_base

CAUSES_MD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "causes.md"
CHECK_ID = re.compile(r"^AOAI\d{3}$")


def vocabulary() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", CAUSES_MD.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.skipif(not CAUSES_MD.is_file(), reason="shared/reference/causes.md not beside the repository")
def test_knowledge_base_uses_exactly_the_public_cause_ids() -> None:
    assert set(cause_ids()) == vocabulary()


def test_every_signature_points_at_a_known_cause_and_check() -> None:
    kb = load_knowledge_base()
    for sig in kb.signatures:
        assert sig.cause in kb.causes
        assert sig.confirm_with is None or CHECK_ID.match(sig.confirm_with), sig.id


@pytest.mark.parametrize("cause", cause_ids())
def test_cause_info_is_complete(cause: str) -> None:
    info = cause_info(cause)
    assert info.cause == cause
    assert info.title and info.explanation and info.fix and info.how_to_confirm
    assert info.docs == f"docs/causes/{cause}.md"
    assert info.confirm_with is None or CHECK_ID.match(info.confirm_with)


def test_cause_info_unknown_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        cause_info("no_such_cause")


def test_to_dict_shape_is_json_ready() -> None:
    data = to_dict(explain("openai.RateLimitError: Error code: 429 - {'error': {'code': '429'}}"))
    assert set(data) == {"causes", "credentials"}
    first = data["causes"][0]
    assert set(first) == {"cause", "confidence", "evidence", "explanation", "fix", "confirm_with", "docs"}
    assert first["cause"] == "rate_limited"
    assert first["confidence"] in ("high", "medium", "low")
    json.dumps(data)


def test_render_text_plain_and_colour() -> None:
    explanation = explain("Error code: 403 - {'error': {'code': 'AuthenticationTypeDisabled'}}")
    plain = render_text(explanation)
    assert plain.startswith("key_auth_disabled (high confidence)")
    assert "\x1b[" not in plain
    assert "Docs: aoai-doctor explain key_auth_disabled" in plain
    coloured = render_text(explanation, color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_explain_never_raises_on_odd_input() -> None:
    for text in ("", " ", "\x00\x01", "{" * 5000, "}" * 5000, "\\" * 1000, "\u202e\ufeff"):
        assert explain(text).diagnoses


def test_empty_text_is_other_low() -> None:
    best = explain("").best
    assert best.cause == "other" and best.confidence is Confidence.LOW


def test_import_is_stdlib_only() -> None:
    code = (
        "import sys; import aoai_doctor.explainer as e; e.explain('AADSTS70011');"
        "bad=[m for m in ('azure.identity','azure.core','msal','requests','httpx','openai') if m in "
        "sys.modules];"
        "print(','.join(bad))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == ""
