"""The human report: one line per check, grouped by stage, that fits the terminal; each thing said once;
the diagnosis (cause, sentence, fix, evidence) last, where the eye lands.

Width comes from the style (the CLI measures the terminal; 80 when unknown). Columns are dropped as
the width shrinks (timings below 110, names below 90), messages are clipped to one line, prose wraps
at word boundaries, and only a copyable command may run past the edge, alone on its line. Without
``-v``: skipped checks fold into one line per stage, credential sources that are merely not set up
here into one line, and a check whose problem is the diagnosis points to it instead of repeating it.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Mapping

from aoai_doctor.diagnosis import diagnosis_of, told_by
from aoai_doctor.model import CheckResult, Diagnosis, Finding, FleetReport, Report, Setting, Severity, Status
from aoai_doctor.reporters.style import Style
from aoai_doctor.sanitize import sanitize_all
from aoai_doctor.snippet import SNIPPET_LINE, why_not

__all__ = ["Style", "render", "render_fleet", "target_label"]

_GLYPHS = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "·", Status.ERROR: "‼"}
_ASCII = {Status.PASS: "[ok]", Status.WARN: "[warn]", Status.FAIL: "[fail]", Status.SKIP: "[skip]",
          Status.ERROR: "[error]"}
_COLORS = {Status.PASS: "32", Status.WARN: "33", Status.FAIL: "31", Status.SKIP: "2", Status.ERROR: "35"}
_SOURCES = tuple(f"AOAI{n}" for n in range(201, 210))
_NAME_WIDTH = 34


SCREEN = 30
"""Lines a report may take without ``-v`` before passing checks fold into one line per stage."""


def render(report: Report, style: Style | None = None) -> str:
    """The report as text for a terminal or a log."""
    style = style or Style()
    report = sanitize_all(report)  # text from outside loses its control sequences before the doctor's own
    diagnosis = diagnosis_of(report, style.fail_on_warning)
    draw = _Drawer(style, [_name(r) for r in report.results if style.verbose or r.status is not Status.SKIP])
    lines = _lines(report, draw, diagnosis, fold_passes=False)
    if not style.verbose and len(lines) > SCREEN:
        lines = _lines(report, draw, diagnosis, fold_passes=True)
    out = "\n".join(lines) + "\n"
    return out if style.unicode else ascii_only(out)


def _lines(report: Report, draw: _Drawer, diagnosis: Diagnosis, fold_passes: bool) -> list[str]:
    style = draw.style
    lines = [draw.clip(_header(report))]
    results = list(report.results)
    for stage in dict.fromkeys(r.stage for r in results):
        in_stage = [r for r in results if r.stage is stage]
        if not style.verbose and all(r.status is Status.SKIP for r in in_stage):
            folded = _folded(draw, in_stage, prefix=f"{stage.title}: ")
            if len(folded) == 1:  # a stage that did not run at all: one line
                lines += folded
                continue
        lines.append(draw.paint(stage.title, "1"))
        passed = [r for r in in_stage if r.status is Status.PASS and not _has_note(r)]
        if fold_passes and len(passed) > 1:
            names = ", ".join(f"{r.check_id} {r.name}" for r in passed)
            lines.append(draw.paint(draw.clip(f"  {draw.glyph(Status.PASS)} {len(passed)} passed: {names}"),
                                    _COLORS[Status.PASS]))
        for result in in_stage:
            if style.verbose:
                lines += draw.row(result, _message(result)) + _details(draw, result)
            elif result.status is not Status.SKIP and not (fold_passes and len(passed) > 1 and result in passed):
                lines += _line(draw, result, diagnosis)
        if not style.verbose:
            lines += _folded(draw, in_stage)
    if style.verbose and report.target:
        lines += ["", draw.paint("Configuration", "1")]
        width = max(len(n) for n in report.target)
        lines += [draw.clip(f"  {name.ljust(width)}  {s.value}  ({s.source})") for name, s in report.target.items()]
    return [*lines, "", *_diagnosis_block(draw, report, diagnosis)]


def _has_note(result: CheckResult) -> bool:
    """A passing check with something to do (a note that carries a fix), or figures that were asked for
    (``--repeat``, ``--stream``), keeps its own line."""
    return any(f.fix for f in result.findings) or bool(_figures(result))


def _figures(result: CheckResult) -> list[str]:
    figures = result.data.get("figures")
    return [str(f) for f in figures] if isinstance(figures, list) else []


_ASCII_FOR = str.maketrans({"·": "-", "→": "->", "←": "<-", "–": "-", "—": "-", "…": "...", "‘": "'", "’": "'",
                            "“": '"', "”": '"', "✓": "ok", "✗": "x", "‼": "!!", "•": "-", "×": "x", "≥": ">=",
                            "≤": "<=", "\u00a0": " "})


def ascii_only(text: str) -> str:
    """``text`` in pure ASCII (for CI logs and terminals that cannot show more): common symbols spelled
    out, anything else as a ``\\u`` escape."""
    return text.translate(_ASCII_FOR).encode("ascii", "backslashreplace").decode("ascii")


class _Drawer:
    """Glyphs, colour and widths for one rendering."""

    def __init__(self, style: Style, names: list[str] | None = None) -> None:
        self.style = style
        self.name_width = min(_NAME_WIDTH, max((len(n) for n in names or ()), default=0))
        self.width = max(40, style.width)
        self.names = self.width >= 90 or (style.verbose and self.width >= 80)
        self.times = self.width >= 110

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.style.color else text

    def glyph(self, status: Status) -> str:
        return _GLYPHS[status] if self.style.unicode else _ASCII[status]

    def text(self, text: str) -> str:
        """``text`` as this terminal can show it (symbols spelled out in ASCII), before it is measured."""
        return text if self.style.unicode else text.translate(_ASCII_FOR)

    def clip(self, text: str, width: int | None = None) -> str:
        """One line of at most ``width`` columns (leading indentation kept), cut with an ellipsis."""
        width = width or self.width
        line = self.text(text).replace("\r", " ").replace("\n", " ")
        if len(line) <= width:
            return line
        return line[: width - 1].rstrip() + ("…" if self.style.unicode else "~")

    def row(self, result: CheckResult, message: str) -> list[str]:
        mark = self.glyph(result.status).ljust(1 if self.style.unicode else 7)
        head = f"  {mark} {result.check_id:<7} "
        if self.names:
            name = _name(result)
            width = self.name_width
            head += (name if len(name) <= width else name[: width - 1] + "~").ljust(width) + " "
        tail = f"  {_ms(result.duration_ms)}" if self.times else ""
        room = self.width - len(head) - len(tail)
        body = self.clip(message, room)
        text = head + (body.ljust(room) + tail if tail else body)
        painted = self.paint(text.rstrip(), _COLORS[result.status]) if self.style.color else text.rstrip()
        return [painted]

    def fits(self, result: CheckResult, message: str) -> bool:
        """Whether a check's row shows ``message`` whole (measured before any colour is added)."""
        plain = _Drawer(dataclasses.replace(self.style, color=False), None)
        plain.name_width, plain.names, plain.times = self.name_width, self.names, self.times
        row = plain.row(result, message)[0]
        return len(row) <= self.width and not row.endswith(("…", "~"))

    def wrap(self, text: str, indent: str, first: str = "", limit: int | None = None) -> list[str]:
        """Prose wrapped at word boundaries under ``indent`` (``first`` opens the first line); indented
        lines (commands, code) stay whole so they can be copied."""
        out: list[str] = []
        hang = indent + " " * len(first)
        for raw in _commands_apart(self.text(text).strip("\n")).splitlines() or [""]:
            lead = indent + first if not out else hang
            if raw.startswith((" ", "\t")) or _is_command(raw):
                command = raw.strip()
                if command and len(lead) + len(command) > self.width and lead.strip():
                    out.append(lead.rstrip())  # a long command goes alone on its line, whole, to be copied
                    out.append(f"{hang}{command}")
                else:
                    out.append(f"{lead}{command}" if command else "")
                continue
            if not raw.strip():
                out.append("")
                continue
            width = max(20, self.width - len(lead))
            wrapped = textwrap.wrap(raw, width, break_on_hyphens=False, break_long_words=False) or [""]
            out.append(f"{lead}{wrapped[0]}")
            out += [f"{hang}{w}" for w in wrapped[1:]]
        while out and not out[-1]:
            out.pop()
        if limit is not None and len(out) > limit:
            out = out[:limit]
            out[-1] = self.clip(out[-1] + " …", self.width) if self.style.unicode else out[-1] + " ~"
        return out


_COMMAND = re.compile(r"(?<=: )((?:az|azd|export|unset|pip|aoai-doctor) .*?)(?=\. [A-Z(]|\.?$)")


def _commands_apart(text: str) -> str:
    """Commands written inside a sentence ("…, add one: az … update …. Then …") on lines of their own, so
    wrapping never breaks one."""
    out = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) or not _COMMAND.search(line):
            out.append(line)
            continue
        pos = 0
        for match in _COMMAND.finditer(line):
            before = line[pos:match.start()].lstrip(". ").rstrip()
            if before:
                out.append(before)
            out.append("    " + match.group(1))
            pos = match.end()
        rest = line[pos:].lstrip(". ").strip()
        if rest:
            out.append(rest)
    return "\n".join(out)


def _is_command(line: str) -> bool:
    return line.startswith(("az ", "azd ", "export ", "unset ", "pip ", "Connect-AzAccount", "aoai-doctor "))


def _header(report: Report) -> str:
    parts = [f"aoai-doctor {report.tool_version}"]
    target = report.target
    for key, label in (("endpoint", ""), ("deployment", ""), ("api_version", "api-version "), ("auth", "auth ")):
        if key in target:
            value = target[key].value
            parts.append(f"{label}{value.split('://', 1)[-1] if key == 'endpoint' else value}")
    return " · ".join(parts)


def _name(result: CheckResult) -> str:
    optional = not result.required and result.status in (Status.FAIL, Status.ERROR, Status.WARN)
    return f"{result.name} (optional)" if optional else result.name


def _message(result: CheckResult) -> str:
    if result.status is Status.SKIP:
        return result.skip_reason or "skipped"
    problems = [f for f in result.findings if f.severity >= Severity.WARNING]
    shown = problems or list(result.findings)
    if not shown:
        return ""
    extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return shown[0].message.splitlines()[0] + extra


def _not_set_up(result: CheckResult) -> bool:
    """A credential source that is merely not configured on this machine."""
    return result.check_id in _SOURCES and result.status is Status.SKIP


def _folded(draw: _Drawer, stage: list[CheckResult], prefix: str = "  ") -> list[str]:
    """The lines that stand for a stage's skipped checks: the credential sources merely not set up here,
    and the rest (each line clipped to the width, then painted)."""
    skipped = [r for r in stage if r.status is Status.SKIP]
    glyph = draw.glyph(Status.SKIP)
    sources = [r for r in skipped if _not_set_up(r)]
    others = [r for r in skipped if not _not_set_up(r)]
    texts: list[str] = []
    if sources:
        noun = "credential sources" if len(sources) == len(_SOURCES) else "other credential sources"
        texts.append(f"{glyph} {len(sources)} {noun} not set up here; -v lists them")
    if others:
        ids = others[0].check_id if len(others) == 1 else _id_span([r.check_id for r in others])
        texts.append(f"{glyph} {ids} skipped: {others[0].skip_reason or ''}")
    out = []
    for text in texts:
        line = draw.clip(prefix + text)
        head = prefix.rstrip() if prefix.strip() else ""
        out.append(draw.paint(head, "1") + draw.paint(line[len(head):], "2") if head else draw.paint(line, "2"))
    return out


def _id_span(ids: list[str]) -> str:
    numbers = [int(i[4:]) for i in ids if i.startswith("AOAI") and i[4:].isdigit()]
    if len(numbers) == len(ids) and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return f"AOAI{numbers[0]}–{numbers[-1]}"
    return ", ".join(ids)


def _line(draw: _Drawer, result: CheckResult, diagnosis: Diagnosis) -> list[str]:
    """A check's line, and for a problem the diagnosis does not tell, its fix under it."""
    problems = [f for f in result.findings if f.severity >= Severity.WARNING]
    if told_by(result, diagnosis):
        told = diagnosis.cause or diagnosis.warning
        if _overlaps(_message(result), diagnosis.summary) or result.check_id == diagnosis.checks[0]:
            return draw.row(result, f"{told}: see below")
        return draw.row(result, f"{told} (see below): {_message(result)}")
    message = _message(result)
    label = f"{problems[0].cause}" if problems and problems[0].cause else message
    fits = draw.fits(result, message)
    if problems and not fits:  # the cause on the row, the whole message once, under it
        out = draw.row(result, label) + draw.wrap(problems[0].message, "      ", limit=3)
    else:
        out = draw.row(result, message)
    for item in problems[:1]:
        out += _fix_lines(draw, item)
    for figure in _figures(result):
        out += draw.wrap(figure, "      ", first="- ", limit=2)
    for note in [f for f in result.findings if f.severity < Severity.WARNING and f.fix][:1]:
        out += draw.wrap(note.message, "      ", first="- ", limit=2) + _fix_lines(draw, note)
    if result.status is Status.ERROR and not problems:
        out += draw.wrap(result.findings[0].message if result.findings else "crashed", "      ")
    return out


def _fix_lines(draw: _Drawer, item: Finding) -> list[str]:
    if not item.fix:
        return []
    return draw.wrap(item.fix, "      ", first="fix: ", limit=6)


def _overlaps(a: str, b: str, size: int = 60) -> bool:
    """Whether two messages share a stretch of ``size`` characters (the same text, told twice)."""
    if len(a) < size or len(b) < size:
        return a.strip() == b.strip()
    import difflib  # loaded when two long messages are compared, not by every report

    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= size


def _details(draw: _Drawer, result: CheckResult) -> list[str]:
    """-v: every finding of a check, wrapped, with cause, fix, detail and docs."""
    out: list[str] = []
    for item in result.findings:
        marker = {Severity.ERROR: "x", Severity.WARNING: "!", Severity.INFO: "-"}[item.severity]
        out += draw.wrap(item.message, "      ", first=f"{marker} ")
        if item.cause:
            out.append(f"        cause: {item.cause}")
        if item.fix:
            out += draw.wrap(item.fix, "        ", first="fix:   ")
        if item.detail:
            out += draw.wrap(item.detail, "          ")
    if [f for f in result.findings if f.severity >= Severity.WARNING] or result.status is Status.ERROR:
        out.append(f"        docs:  aoai-doctor explain {result.check_id}")
    return out


def _diagnosis_block(draw: _Drawer, report: Report, diagnosis: Diagnosis) -> list[str]:
    counts = _counts(report, draw.style)
    if diagnosis.cause is None:
        warned = _warned(report)
        head = f"{draw.glyph(Status.WARN if warned else Status.PASS)} "
        lines = draw.wrap(_clean(diagnosis.summary), "", first=head, limit=None if draw.style.verbose else 3)
        if diagnosis.fix and warned:
            lines += [ln for ln in draw.wrap(_essential(diagnosis.fix), "  ", first="fix: ") if ln]
        return [draw.paint(lines[0], "1;33" if warned else "1;32") if draw.style.color else lines[0], *lines[1:],
                *([] if why_not(report) else draw.wrap(SNIPPET_LINE, "  ")), *draw.wrap(counts, "  ")]
    title = f"{draw.glyph(Status.FAIL)} {diagnosis.cause}"
    evidence = ", ".join(diagnosis.checks)
    head = draw.clip(f"{title}  ({evidence})") if len(title) + len(evidence) + 4 <= draw.width else title
    out = [draw.paint(head, "1;31") if draw.style.color else head]
    out += draw.wrap(_clean(diagnosis.summary, whole=draw.style.verbose), "  ", limit=None if draw.style.verbose else 4)
    if diagnosis.fix:
        fix = diagnosis.fix if draw.style.verbose else _essential(diagnosis.fix)
        out += [line for line in draw.wrap(fix, "  ", first="fix: ") if line or draw.style.verbose]
    more = f" · aoai-doctor explain {diagnosis.cause}"
    out += draw.wrap(f"{counts}{more}" if len(counts) + len(more) + 2 <= draw.width else counts, "  ")
    return out


def _essential(fix: str) -> str:
    """The fix up to its first command or code block: what to do. The reasons after it stay in -v."""
    lines = fix.strip("\n").splitlines()
    code = [i for i, ln in enumerate(lines) if ln.startswith((" ", "\t")) or _is_command(ln)]
    if not code:
        return fix
    end = code[0]
    while end + 1 < len(lines) and (lines[end + 1].startswith((" ", "\t")) or _is_command(lines[end + 1])):
        end += 1
    return "\n".join(lines[: end + 1])


def _clean(sentence: str, whole: bool = False) -> str:
    """The sentence without the ids support needs but a reader does not (they stay in -v and JSON), and
    without ``whole``, only its first sentence."""
    for marker in (" Trace ID:", " Correlation ID:", " Timestamp:"):
        if marker in sentence:
            sentence = sentence.split(marker, 1)[0]
    if not whole:
        end = sentence.find(". ", 40)
        sentence = sentence[: end + 1] if end > 0 else sentence
    return sentence.strip()


def _warned(report: Report) -> bool:
    return any(r.status is Status.WARN or (not r.required and r.status in (Status.FAIL, Status.ERROR))
               for r in report.results)


def _counts(report: Report, style: Style) -> str:
    gate = [r for r in report.results if r.fails_gate(style.fail_on_warning)]
    optional = [r for r in report.results if not r.required and r.status in (Status.FAIL, Status.ERROR)]
    parts = []
    if gate:
        mode = " (--fail-on warning)" if style.fail_on_warning else ""
        parts.append(f"{len(gate)} failed{mode}")
    if optional:
        parts.append(f"{len(optional)} optional failed")
    if report.count(Status.WARN):
        parts.append(_plural(report.count(Status.WARN), "warning"))
    parts.append(f"{report.count(Status.PASS)} passed")
    parts.append(f"{report.count(Status.SKIP)} skipped")
    calls = report.billable_calls
    if calls:
        parts.append(_plural(calls, "billable call"))
    parts.append(_ms(report.duration_ms))
    return " · ".join(parts)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def render_fleet(fleet: FleetReport, style: Style | None = None) -> str:
    """A run over many targets: a line per target (its one answer), then the diagnosis of each failing one;
    with ``-v``, each target's whole report after the lines."""
    style = style or Style()
    draw = _Drawer(style)
    reports = fleet.reports
    gated = {id(r) for r in fleet.failing(style.fail_on_warning)}
    failing = [i for i, r in enumerate(reports) if id(r) in gated]
    # What is printed loses its control sequences: each target's answer and name, and the whole report of a
    # failing one (its diagnosis is drawn from it), not every report of the fleet.
    clean = {i: sanitize_all(reports[i]) for i in failing}
    answers = [sanitize_all(diagnosis_of(clean.get(i, r), style.fail_on_warning)) for i, r in enumerate(reports)]
    # (the endpoint and the deployment cleaned apart: a sequence cut short in one must not swallow the other)
    names = [" ".join(_label(sanitize_all(r.target)).split()) for r in reports]  # one line each
    labels = names
    hosts = {label.rsplit("/", 1)[0] for label in labels}
    where = ""
    if len(hosts) == 1 and all("/" in label for label in labels):  # one endpoint: say it once, name deployments
        where, labels = hosts.pop(), [label.rsplit("/", 1)[1] for label in labels]
    width = min(max((len(label) for label in labels), default=0), max(16, draw.width // 3))
    ready = f"{len(reports) - len(failing)} ready, {len(failing)} failing"
    calls = f" · {_plural(fleet.billable_calls, 'billable call')}" if fleet.billable_calls else ""
    lines = [draw.clip(f"aoai-doctor {fleet.tool_version} · {_plural(len(reports), 'target')} · {ready}{calls} · "
                       f"{fleet.duration_ms / 1000:.1f} s")]
    lines += [draw.clip(f"  deployments of {where}")] if where else []
    for i, (report, answer, label) in enumerate(zip(reports, answers, labels, strict=True)):
        status = Status.FAIL if i in failing else Status.WARN if _warned(report) else Status.PASS
        # A target that is ready needs no sentence (it would repeat the label): how long it took says more.
        said = f"{answer.cause}: {answer.summary}" if answer.cause else (
            f"ready with {_plural(report.count(Status.WARN), 'warning')}" if status is Status.WARN else "ready")
        shown = _fit_label(label, width, "…" if style.unicode else "~")
        mark = draw.glyph(status).ljust(1 if style.unicode else 6)
        tail = "" if answer.cause else f"  {_ms(report.duration_ms)}"
        line = draw.clip(f"  {mark} {shown.ljust(width)}  {_clean(said).splitlines()[0]}{tail}")
        lines.append(draw.paint(line, _COLORS[status]) if style.color else line)
    told: dict[tuple[str | None, str | None], str] = {}  # a diagnosis already given, and for which target
    for i in failing:
        heading = draw.clip(names[i])
        key = (answers[i].cause, answers[i].fix)
        if key in told:  # the same cause and fix: once is enough
            lines += ["", draw.paint(heading, "1"), draw.clip(f"  {answers[i].cause}: the same fix as {told[key]}")]
            continue
        told[key] = labels[i]
        lines += ["", draw.paint(heading, "1"), *_diagnosis_block(draw, clean[i], answers[i])]
    if style.verbose:
        for report in reports:
            lines += ["", draw.paint("─" * min(draw.width, 40) if style.unicode else "-" * 40, "2"),
                      render(report, style).rstrip("\n")]
    out = "\n".join(lines) + "\n"
    return out if style.unicode else ascii_only(out)


def _fit_label(label: str, width: int, ellipsis: str) -> str:
    """``host/deployment`` in ``width`` columns: the host is cut, the deployment name kept whole."""
    if len(label) <= width:
        return label
    host, _, deployment = label.rpartition("/")
    room = width - len(deployment) - 2
    return f"{host[:room]}{ellipsis}/{deployment}" if host and room >= 4 else label[: width - 1] + ellipsis


def target_label(report: Report) -> str:
    """``host/deployment``: how a fleet's reports name a target."""
    return _label(report.target)


def _label(target: Mapping[str, Setting]) -> str:
    endpoint = target.get("endpoint")
    host = endpoint.value.split("://", 1)[-1].rstrip("/") if endpoint else "(no endpoint)"
    deployment = target.get("deployment")
    return f"{host}/{deployment.value.split(' (', 1)[0]}" if deployment else host
