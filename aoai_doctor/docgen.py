"""Write docs/checks/<ID>.md from each built-in check's docstring.

    python -m aoai_doctor.docgen           # rewrite the pages
    python -m aoai_doctor.docgen --check   # exit 1 when a page is missing or stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from aoai_doctor import registry
from aoai_doctor.check import DOC_HEADINGS, Check, doc_page, doc_sections


def problems(check: type[Check]) -> list[str]:
    """What is wrong with a check's docstring as a documentation page."""
    sections = doc_sections(check)
    return [f"{check.id}: heading '## {h}' missing or empty" for h in DOC_HEADINGS if not sections.get(h)]


def main(argv: list[str]) -> int:
    """Generate (or with ``--check`` verify) the pages of the built-in checks."""
    out_dir = Path(__file__).resolve().parent.parent / "docs" / "checks"
    check_only = "--check" in argv
    bad: list[str] = []
    for check in registry.load().checks:
        if not check.__module__.startswith("aoai_doctor."):
            continue
        bad += problems(check)
        page = out_dir / f"{check.id}.md"
        text = doc_page(check)
        if check_only:
            if not page.exists() or page.read_text(encoding="utf-8") != text:
                bad.append(f"{page} is missing or out of date: run python -m aoai_doctor.docgen")
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            page.write_text(text, encoding="utf-8")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
