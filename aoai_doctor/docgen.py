"""Write what is generated from the built-in checks: docs/checks/<ID>.md from each check's docstring,
and aoai_doctor/catalog.json, the metadata `aoai-doctor checks` and `explain <ID>` read instead of
importing every check module.

    python -m aoai_doctor.docgen           # rewrite the pages and the catalog
    python -m aoai_doctor.docgen --check   # exit 1 when a page or the catalog is missing or stale
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


def builtin_checks() -> tuple[type[Check], ...]:
    """The checks this package ships, imported, in pipeline order."""
    return tuple(c for c in registry.load().checks if c.__module__.startswith("aoai_doctor."))


def main(argv: list[str]) -> int:
    """Generate (or with ``--check`` verify) the pages and the catalog of the built-in checks."""
    out_dir = Path(__file__).resolve().parent.parent / "docs" / "checks"
    check_only = "--check" in argv
    bad: list[str] = []
    checks = builtin_checks()
    outputs = [(out_dir / f"{check.id}.md", doc_page(check)) for check in checks]
    outputs.append((registry.CATALOG, registry.catalog_text(checks)))
    for check in checks:
        bad += problems(check)
    for path, text in outputs:
        if check_only:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                bad.append(f"{path} is missing or out of date: run {registry.REGENERATE}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
