"""docs/causes/<cause>.md exist for every cause, have the fixed headings and match the knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from aoai_doctor.explainer import cause_ids
from aoai_doctor.explainer.kb import load_knowledge_base
from aoai_doctor.explainer.pages import HEADINGS, render_page, stale_pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "causes"


@pytest.mark.parametrize("cause", cause_ids())
def test_page_exists_with_headings(cause: str) -> None:
    page = DOCS / f"{cause}.md"
    assert page.is_file(), f"missing {page}; run python -m aoai_doctor.explainer.pages"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {cause}\n")
    for heading in HEADINGS:
        assert f"\n{heading}\n" in text


def test_pages_are_up_to_date() -> None:
    assert stale_pages(load_knowledge_base(), DOCS) == [], "run python -m aoai_doctor.explainer.pages"


def test_stale_detection(tmp_path: Path) -> None:
    kb = load_knowledge_base()
    (tmp_path / "rate_limited.md").write_text(render_page(kb, "rate_limited") + "edited\n", encoding="utf-8")
    stale = stale_pages(kb, tmp_path)
    assert "rate_limited.md" in stale
    assert len(stale) == len(kb.causes)
