"""Every check has its documentation page, with the fixed headings, in step with its docstring."""

from __future__ import annotations

from pathlib import Path

import pytest

from aoai_doctor import docgen, registry
from aoai_doctor.check import DOC_HEADINGS, doc_page

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks"
BUILTIN = [c for c in registry.load().checks if c.__module__.startswith("aoai_doctor.")]


@pytest.mark.parametrize("check", BUILTIN, ids=lambda c: c.id)
def test_every_check_has_an_up_to_date_page_with_every_heading(check) -> None:  # type: ignore[no-untyped-def]
    assert docgen.problems(check) == []
    page = DOCS / f"{check.id}.md"
    assert page.exists(), f"{page} missing: run python -m aoai_doctor.docgen"
    text = page.read_text(encoding="utf-8")
    for heading in DOC_HEADINGS:
        assert f"\n## {heading}\n" in text
    assert text == doc_page(check), f"{page} is stale: run python -m aoai_doctor.docgen"


def test_a_check_without_a_heading_is_caught() -> None:
    from aoai_doctor.check import Check

    class Undocumented(Check):
        """## What it detects
        Something.

        ## How to fix
        Nothing.
        """

        id = "TEST101"
        name = "undocumented"
        summary = "x"

    assert docgen.problems(Undocumented) == [
        "TEST101: heading '## Why it matters' missing or empty", "TEST101: heading '## Options' missing or empty"]


def test_no_stray_pages() -> None:
    ids = {c.id for c in BUILTIN}
    assert {p.stem for p in DOCS.glob("*.md")} == ids
