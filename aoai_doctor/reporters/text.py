"""The human report: one line per check grouped by stage, fixes under each problem, a summary."""

from __future__ import annotations

import textwrap

from tabulate import tabulate  # type: ignore[import-untyped]

from aoai_doctor.model import CheckResult, Report, Severity, Stage, Status
from aoai_doctor.reporters.style import Style

__all__ = ["Style", "render"]


_GLYPHS = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-", Status.ERROR: "‼"}
_ASCII = {Status.PASS: "[ok]", Status.WARN: "[warn]", Status.FAIL: "[fail]", Status.SKIP: "[skip]",
          Status.ERROR: "[error]"}
_COLORS = {Status.PASS: "32", Status.WARN: "33", Status.FAIL: "31", Status.SKIP: "2", Status.ERROR: "35"}


def render(report: Report, style: Style | None = None) -> str:
    """The report as text for a terminal or a log."""
    style = style or Style()
    paint = _painter(style)
    lines: list[str] = [_header(report), ""]
    rows = [[_glyph(r.status, style), r.check_id, _name(r), _message(r), _ms(r.duration_ms)]
            for r in report.results]
    table = tabulate(rows, tablefmt="plain", disable_numparse=True).splitlines() if rows else []
    stage: Stage | None = None
    fixes_shown: dict[str, str] = {}  # a fix already printed, and the check that printed it
    for result, row in zip(report.results, table, strict=True):
        if result.stage is not stage:
            if stage is not None:
                lines.append("")
            stage = result.stage
            lines.append(paint(stage.title, "1"))
        lines.append("  " + paint(row, _COLORS[result.status]) if style.color else "  " + row)
        lines.extend(_details(result, style, fixes_shown))
    if style.verbose and report.target:
        lines += ["", paint("Configuration", "1")]
        width = max(len(n) for n in report.target)
        lines += [f"  {name.ljust(width)}  {s.value}  ({s.source})" for name, s in report.target.items()]
    lines += ["", _summary(report, style)]
    return "\n".join(lines) + "\n"


def _header(report: Report) -> str:
    parts = [f"aoai-doctor {report.tool_version}"]
    target = report.target
    for key, label in (("endpoint", ""), ("deployment", "deployment "), ("api_version", "api-version "),
                       ("auth", "auth ")):
        if key in target:
            parts.append(f"{label}{target[key].value}")
    return " · ".join(parts)


MESSAGE_WIDTH = 100
WRAP_WIDTH = 110


def _message(result: CheckResult) -> str:
    if result.status is Status.SKIP:
        return _clip(result.skip_reason or "skipped")
    shown = [f for f in result.findings if f.severity >= Severity.WARNING] or list(result.findings)
    if not shown:
        return ""
    problems = [f for f in shown if f.severity >= Severity.WARNING]
    extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return _clip(shown[0].message, MESSAGE_WIDTH - len(extra)) + extra


def _clip(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width and line == text else line[: width - 1].rstrip() + "…"


def _details(result: CheckResult, style: Style, fixes_shown: dict[str, str]) -> list[str]:
    out: list[str] = []
    pad = "       "
    problems = [f for f in result.findings if f.severity >= Severity.WARNING]
    for index, item in enumerate(result.findings):
        is_problem = item.severity >= Severity.WARNING
        # Notes are -v material, except the ones that say what to do (they carry a fix).
        if not is_problem and not style.verbose and not (item.fix and index > 0):
            continue
        first_shown = problems[:1] == [item] or (not problems and index == 0)
        if first_shown and _clip(item.message) != item.message:
            out += _block(pad + "  ", "", item.message)
        if not first_shown:
            marker = "✗" if item.severity >= Severity.ERROR else "!" if is_problem else "•"
            if not style.unicode:
                marker = {"✗": "x", "!": "!", "•": "-"}[marker]
            out.append(f"{pad}{marker} {item.message}")
        if item.cause:
            out.append(f"{pad}  cause: {item.cause}")
        if item.fix and item.fix in fixes_shown and "\n" in item.fix:
            out.append(f"{pad}  fix:   as for {fixes_shown[item.fix]} above")
        elif item.fix:
            out += _block(pad + "  ", "fix:   ", item.fix, wrap=False)
            fixes_shown.setdefault(item.fix, result.check_id)
        if item.detail and style.verbose:
            out += _block(pad + "  ", "", item.detail)
    if problems or (style.verbose and result.status is Status.ERROR):
        out.append(f"{pad}  docs:  {result.docs} (aoai-doctor explain {result.check_id})")
    return out


def _block(indent: str, label: str, text: str, wrap: bool = True) -> list[str]:
    """A labelled, possibly multi-line value, with continuation lines under the first."""
    lines: list[str] = []
    for line in text.strip("\n").splitlines() or [""]:
        # prose wraps; fixes and indented lines (commands, code) stay whole so they can be copied
        long_prose = wrap and len(line) > WRAP_WIDTH and not line.startswith((" ", "\t"))
        lines += textwrap.wrap(line, WRAP_WIDTH, break_on_hyphens=False) if long_prose else [line]
    hang = indent + " " * len(label)
    return [f"{indent}{label}{lines[0]}", *(f"{hang}{ln}".rstrip() for ln in lines[1:])]


def _name(result: CheckResult) -> str:
    optional = not result.required and result.status in (Status.FAIL, Status.ERROR, Status.WARN)
    return f"{result.name} (optional)" if optional else result.name


def _summary(report: Report, style: Style) -> str:
    gate = [r for r in report.results if r.fails_gate(style.fail_on_warning)]
    optional = [r for r in report.results if not r.required and r.status in (Status.FAIL, Status.ERROR)]
    warns = _plural(report.count(Status.WARN), "warning")
    counts = f"{report.count(Status.PASS)} passed, {report.count(Status.SKIP)} skipped"
    ms = _ms(report.duration_ms)
    extra = f"; {_plural(len(optional), 'optional check')} failed" if optional else ""
    if gate:
        problems = _plural(len(gate), "problem")
        mode = " (--fail-on warning)" if style.fail_on_warning else ""
        return f"{_glyph(Status.FAIL, style)} aoai-doctor found {problems}{mode} ({warns}{extra}); {counts} [{ms}]"
    if report.count(Status.WARN) or optional:
        return f"{_glyph(Status.WARN, style)} no required check failed; {warns}{extra}; {counts} [{ms}]"
    endpoint = report.target.get("endpoint")
    where = f" for {endpoint.value}" if endpoint else ""
    return f"{_glyph(Status.PASS, style)} ready{where}: {counts} [{ms}]"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _glyph(status: Status, style: Style) -> str:
    return _GLYPHS[status] if style.unicode else _ASCII[status]


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _painter(style: Style):  # type: ignore[no-untyped-def]
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if style.color else text
    return paint
