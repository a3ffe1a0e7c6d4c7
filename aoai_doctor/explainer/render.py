"""Pure renderers for an :class:`Explanation`: plain text for people, dicts for JSON."""

from __future__ import annotations

import textwrap
from typing import Any

from aoai_doctor.explainer.answer import Confidence, Explanation, VerdictStatus

_WIDTH = 100
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_COLOURS = {Confidence.HIGH: "\x1b[31m", Confidence.MEDIUM: "\x1b[33m", Confidence.LOW: "\x1b[36m"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _wrap(text: str, indent: str, width: int = _WIDTH) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if paragraph.startswith("    ") or not paragraph.strip():
            lines.append(indent + paragraph if paragraph.strip() else "")
            continue
        lines.extend(textwrap.wrap(paragraph, width, initial_indent=indent, subsequent_indent=indent,
                                   break_on_hyphens=False, break_long_words=False))
    return lines


def reflow(markdown: str, width: int) -> str:
    """A Markdown page (docs are hard-wrapped at about 100 columns) re-wrapped for a terminal of
    ``width``: paragraphs and list items re-flowed with a hanging indent; headings, indented code and
    fenced blocks kept as they are."""
    out: list[str] = []
    block: list[str] = []
    fenced = False

    def flush() -> None:
        if not block:
            return
        text = " ".join(line.strip() for line in block)
        hang = "  " if text.startswith(("- ", "* ")) else ""
        out.extend(textwrap.wrap(text, max(20, width), subsequent_indent=hang, break_on_hyphens=False,
                                 break_long_words=False) or [""])
        block.clear()

    for line in markdown.splitlines():
        if line.startswith("```"):
            flush()
            fenced = not fenced
            out.append(line)
        elif fenced or line.startswith(("    ", "\t", "#", "|")) or not line.strip():
            flush()
            out.append(line)
        elif line.startswith(("- ", "* ")) or (line[:1].isdigit() and ". " in line[:4]):
            flush()
            block.append(line)
        else:
            block.append(line)
    flush()
    return "\n".join(out) + "\n"


def render_text(explanation: Explanation, *, color: bool = False, width: int = _WIDTH) -> str:
    """Human-readable report: best cause with evidence, explanation, fix and the confirming check."""
    best = explanation.best
    head = f"{best.cause} ({best.confidence.value} confidence)"
    lines = [_paint(head, _BOLD + _COLOURS[best.confidence], color), ""]
    lines.append(_paint("Evidence:", _BOLD, color))
    lines.extend(_wrap(best.evidence, "  ", width))
    lines += ["", _paint("Why:", _BOLD, color)]
    lines.extend(_wrap(best.explanation, "  ", width))
    lines += ["", _paint("Fix:", _BOLD, color)]
    lines.extend(_wrap(best.fix, "  ", width))
    lines.append("")
    if best.confirm_with:
        lines.append(f"Confirm with: aoai-doctor run --select {best.confirm_with}")
    lines.append(f"Docs: aoai-doctor explain {best.cause}")
    if explanation.credentials:
        lines += ["", _paint("Credential chain:", _BOLD, color)]
        width = max(len(v.credential) for v in explanation.credentials)
        for verdict in explanation.credentials:
            status = verdict.status.value
            mark = "x" if verdict.status is VerdictStatus.FAILED else "-"
            cause = verdict.cause or "?"
            lines.append(f"  {mark} {verdict.credential.ljust(width)}  {status:<11}  {cause}")
    others = explanation.diagnoses[1:]
    if others:
        lines += ["", _paint("Other possible causes:", _BOLD, color)]
        for index, diagnosis in enumerate(others, start=2):
            confirm = f"  (confirm: {diagnosis.confirm_with})" if diagnosis.confirm_with else ""
            lines.append(f"  {index}. {diagnosis.cause} ({diagnosis.confidence.value}){confirm}")
    text = "\n".join(lines).rstrip() + "\n"
    return text if not color else text.replace("Confirm with:", _paint("Confirm with:", _DIM, True))


def to_dict(explanation: Explanation) -> dict[str, Any]:
    """JSON-ready form: ``{"causes": [...], "credentials": [...]}``, best cause first."""
    return {
        "causes": [
            {
                "cause": d.cause,
                "confidence": d.confidence.value,
                "evidence": d.evidence,
                "explanation": d.explanation,
                "fix": d.fix,
                "confirm_with": d.confirm_with,
                "docs": d.docs,
            }
            for d in explanation.diagnoses
        ],
        "credentials": [
            {"credential": v.credential, "status": v.status.value, "message": v.message, "cause": v.cause}
            for v in explanation.credentials
        ],
    }
