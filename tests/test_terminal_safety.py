"""No report format lets text from outside drive the terminal: escape sequences and control characters from
findings, details, data, target values and sources are removed in every format, the visible text stays,
and with colour on only the doctor's own SGR sequences remain."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import types
import xml.etree.ElementTree as ET

import pytest

from aoai_doctor.model import CheckResult, Finding, FleetReport, Report, Setting, Severity, Status
from aoai_doctor.reporters import github, junit, markdown, progress, text
from aoai_doctor.reporters import json as json_reporter
from aoai_doctor.sanitize import sanitize, sanitize_all

# Each hostile piece wraps a visible word that must survive.
HOSTILE = {
    "osc-title-bel": "\x1b]0;pwned-title\x07TITLE",
    "osc-hyperlink-st": "\x1b]8;;https://evil.example/\x1b\\LINK\x1b]8;;\x1b\\",
    "osc-8bit": "\x9d0;eight-bit-title\x9cOSCEIGHT",
    "csi-colour": "\x1b[31;1mRED\x1b[0m",
    "csi-8bit": "\x9b2JCLEARED",
    "csi-cursor": "\x1b[2J\x1b[HHOME",
    "dcs": "\x1bPq#0;2;0;0;0\x1b\\DCS",
    "apc": "\x1b_hidden\x1b\\APC",
    "bare-esc": "\x1bcRESET",
    "c0": "BELL\x07\x08\x00\x0bNUL",
    "c1": "NEL\x85CSI\x9b0mDONE",
    "cr-overwrite": "REAL\rFAKE",
    "unterminated-osc": "KEEP\x1b]0;never ends",
}
VISIBLE = ["TITLE", "LINK", "OSCEIGHT", "RED", "CLEARED", "HOME", "DCS", "APC", "RESET", "BELL", "NUL", "NEL",
           "DONE", "REAL", "FAKE", "KEEP"]
ALL = " ".join(HOSTILE.values())
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
OWN_SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile_report() -> Report:
    finding = Finding(Severity.ERROR, f"the service said: {ALL}", cause="other", fix=f"try {ALL}",
                      detail=f"body:\n{ALL}\n\theaders: {ALL}")
    failed = CheckResult("AOAI501", "test-call", "s", Status.FAIL, 3.0, (finding,),
                         data={"error": ALL, ALL: [ALL, {"nested": ALL}], "figures": [ALL]})
    warned = CheckResult("AOAI206", "az-cli", "s", Status.WARN, 2.0,
                         (Finding(Severity.WARNING, f"az printed {ALL}", fix=f"az login {ALL}"),))
    skipped = CheckResult("AOAI502", "deployment", "s", Status.SKIP, 0.0, skip_reason=f"because {ALL}")
    return Report("9.9", {"endpoint": Setting(f"https://x/{ALL}", f"config.json {ALL}")},
                  (failed, warned, skipped), "2026-01-01T00:00:00Z", 5.0, sources_read=(f"file {ALL}",),
                  environment={"python": ALL})


def assert_clean(out: str) -> None:
    assert "\x1b" not in out
    assert not FORBIDDEN.search(out), repr(FORBIDDEN.search(out))
    for word in VISIBLE:
        assert word in out, word
    assert "pwned-title" not in out and "evil.example" not in out and "hidden" not in out


RENDERINGS = {
    "text": lambda r: text.render(r, text.Style(color=False, verbose=True, width=200)),
    "text-ascii": lambda r: text.render(r, text.Style(unicode=False, verbose=True, width=200)),
    "text-short": lambda r: text.render(r, text.Style()),
    "markdown": lambda r: markdown.render(r),
    "github-annotations": lambda r: github.annotations(r),
    "github-summary": lambda r: github.summary(r),
}


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_no_control_sequence_survives(name: str) -> None:
    out = RENDERINGS[name](hostile_report())
    if name == "github-annotations":  # the toolkit's escaping turns newlines into %0A; undo it to read the words
        out = out.replace("%0A", "\n").replace("%0D", "\r")
    if name == "text-short":  # the short form shows messages, not details
        assert "the service said" in out and "\x1b" not in out and not FORBIDDEN.search(out.replace("\n", ""))
        return
    assert_clean(out)


def test_a_fleets_lines_and_diagnoses_are_sanitized() -> None:
    """The fleet's text sanitizes what it prints (each target's line, a failing one's diagnosis), not whole
    reports: a ready target's hostile name and a failing target's hostile findings are both cleaned."""
    hostile = hostile_report()
    ready = Report("9.9", {"endpoint": Setting(f"https://ready/{ALL}", "flag"), "deployment": Setting("chat", "flag")},
                   (CheckResult("AOAI101", "config-present", "s", Status.PASS, 1.0),), "2026-01-01T00:00:00Z", 1.0)
    warned = Report("9.9", {"endpoint": Setting("https://warned", "flag")},
                    (CheckResult("AOAI206", "az-cli", "s", Status.WARN, 2.0,
                                 (Finding(Severity.WARNING, f"az printed {ALL}", cause="other", fix="az login"),)),),
                    "2026-01-01T00:00:00Z", 2.0)
    fleet = FleetReport("9.9", (ready, warned, hostile), "2026-01-01T00:00:00Z", 6.0)
    for style in (text.Style(color=False, width=200), text.Style(color=True, width=200)):
        out = OWN_SGR.sub("", text.render_fleet(fleet, style))
        assert "\x1b" not in out and not FORBIDDEN.search(out.replace("\n", ""))
        assert "pwned-title" not in out and "evil.example" not in out
        assert "TITLE" in out and "the service said" in out  # the names and the diagnosis, visible
        assert "ready with 1 warning" in out
        lines = out.splitlines()  # a line per target after the heading, each name on one line
        assert [line.split()[0] for line in lines[1:4]] == (["✓", "!", "✗"] if style.unicode else ["[ok]", "[warn]",
                                                                                                  "[FAIL]"])
        assert "TITLE" in lines[1] and lines[1].endswith("ready  1 ms") and lines[4] == ""


def test_a_fleets_names_keep_the_deployment_whatever_the_endpoint_ends_with() -> None:
    """Endpoint and deployment are cleaned apart: an escape sequence cut short at the end of the endpoint
    does not swallow the '/' and the deployment's name."""
    def report(deployment: str) -> Report:
        target = {"endpoint": Setting("https://h.openai.azure.com/\x1b", "flag"),
                  "deployment": Setting(deployment, "flag")}
        return Report("9.9", target, (CheckResult("AOAI101", "config-present", "s", Status.PASS, 1.0),), "t", 1.0)

    out = text.render_fleet(FleetReport("9.9", (report("chat-a"), report("unterminated\x1b]0;x")), "t", 2.0),
                            text.Style(color=False, width=120))
    assert "\x1b" not in out
    assert [line.split()[1] for line in out.splitlines()[2:4]] == ["chat-a", "unterminated"]


def test_colour_on_leaves_only_the_doctors_own_sgr() -> None:
    out = text.render(hostile_report(), text.Style(color=True, verbose=True, width=200))
    plain = OWN_SGR.sub("", out)
    assert OWN_SGR.search(out)
    assert_clean(plain)
    for sequence in OWN_SGR.findall(out):
        assert re.fullmatch(r"\x1b\[(?:[0-9]{1,2}(?:;[0-9]{1,2})*)?m", sequence)
    assert "\x1b[31;1m" not in out  # the server's own colour is not passed through


def test_json_keeps_text_and_drops_sequences() -> None:
    out = json_reporter.render(hostile_report())
    assert "\\u001b" not in out and "\x1b" not in out and not FORBIDDEN.search(out)
    data = json.loads(out)
    dumped = json.dumps(data, ensure_ascii=False)
    for word in VISIBLE:
        assert word in dumped, word
    check = data["checks"][0]
    assert "\x9b" not in json.dumps(check, ensure_ascii=False) and "\x85" not in json.dumps(check, ensure_ascii=False)


def test_junit_is_valid_xml_without_sequences() -> None:
    out = junit.render(hostile_report())
    ET.fromstring(out.encode())
    assert "&#27;" not in out and "&#x1b;" not in out.lower()
    assert_clean(out)


def test_progress_line_is_sanitized() -> None:
    stream = io.StringIO()
    with progress.Progress(stream, total=1, limits={"X\x1b]0;t\x07": 1.0}) as bar:
        bar.update("X\x1b]0;title\x07\x9b2J", "start")
        for _ in range(100):
            if "X" in stream.getvalue():
                break
            bar._stop.wait(0.01)
    lines = stream.getvalue().replace("\r\x1b[2K", "\n")
    assert "\x1b" not in lines and "\x9b" not in lines and "\x07" not in lines


def test_sanitize_keeps_text_newlines_and_tabs() -> None:
    assert sanitize("a\tb\nc ✓ ünï") == "a\tb\nc ✓ ünï"
    assert sanitize("REAL\r\nnext\rFAKE") == "REAL\nnext\nFAKE"
    assert sanitize("\x1b]0;x\x07a\x1b[0mb\x9b1mc\x1b\\d") == "abcd"



def test_sanitize_all_copies_only_what_it_cleans() -> None:
    hostile = hostile_report()
    calm = CheckResult("AOAI101", "config-present", "s", Status.PASS, 1.0,
                       (Finding(Severity.INFO, "kept\tas\nit is ✓", fix="nothing"),), data={"n": [1, "two"]})
    report = dataclasses.replace(hostile, results=(*hostile.results, calm))
    cleaned = sanitize_all(report)
    assert_clean(" ".join(_strings(dataclasses.asdict(cleaned))))
    assert cleaned.results[-1] is calm  # a result with nothing to remove is shared, not copied
    quiet = dataclasses.replace(report, target={}, results=(calm,), sources_read=(), environment={})
    assert sanitize_all(quiet) is quiet
    # any other mapping or sequence becomes a dict, tuple or list whatever it holds
    proxied = CheckResult("AOAI101", "c", "s", Status.PASS, 1.0, data={"m": types.MappingProxyType({"a": "x"})})
    assert type(sanitize_all(proxied).data["m"]) is dict


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []
