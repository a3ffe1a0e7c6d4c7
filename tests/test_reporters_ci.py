"""The CI reporters: JUnit XML, GitHub Actions annotations and summary, Markdown.

Hand-built reports cover every status, required and optional checks, and hostile text; two real
stand-in runs (failing and healthy) check the reporters against what the runner really produces.
The JUnit output is checked against the rules of Jenkins' ``junit-10.xsd`` (see ``JUNIT_10``), the
schema GitHub, GitLab, Azure Pipelines and Jenkins readers follow, plus the conventions those
readers rely on beyond it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai_doctor.cli import main
from aoai_doctor.model import CheckResult, Finding, Report, Setting, Severity, Status
from aoai_doctor.reporters import github, junit, markdown
from aoai_doctor.reporters import json as json_reporter
from aoai_doctor.reporters.markdown import clean_text

MULTILINE_FIX = ("Request `https://cognitiveservices.azure.com/.default`:\n\n"
                 "    token_provider = get_bearer_token_provider(credential, \"https://cognitiveservices.azure.com/.default\")\n\n"
                 "Then run again.")

PASS = CheckResult("AOAI101", "config-present", "s", Status.PASS, 0.4,
                   (Finding(Severity.INFO, "endpoint and deployment configured (chat)", detail="sources read: env"),))
WARN = CheckResult("AOAI103", "api-version", "s", Status.WARN, 1.5,
                   (Finding(Severity.WARNING, "api-version 2024-02-15-preview retires soon",
                            cause="api_version_invalid", fix="use 2024-10-21"),))
FAIL = CheckResult("AOAI102", "endpoint-format", "s", Status.FAIL, 12.0, (
    Finding(Severity.ERROR, "regional endpoint used with an Entra token", cause="custom_subdomain_required",
            fix="use https://NAME.openai.azure.com", detail="service says: Please provide a custom subdomain"),
    Finding(Severity.WARNING, "second problem", cause="endpoint_wrong", fix="fix two"),
))
OPTIONAL_FAIL = CheckResult("AOAI201", "environment-credential", "s", Status.FAIL, 277.0, (
    Finding(Severity.ERROR, "failed: AADSTS1002012", cause="scope_missing_default", fix=MULTILINE_FIX),
), required=False)
CHAIN_FAIL = CheckResult("AOAI210", "credential-chain", "s", Status.FAIL, 2.3, (
    Finding(Severity.ERROR, "DefaultAzureCredential stops at EnvironmentCredential", cause="scope_missing_default",
            fix=MULTILINE_FIX),
))
SKIP = CheckResult("AOAI501", "test-call", "s", Status.SKIP, 0.0, skip_reason="requires AOAI102 (AOAI102 failed)")
CRASH = CheckResult("AOAI401", "dns", "s", Status.ERROR, 5.0, (
    Finding(Severity.ERROR, "the check crashed: KeyError: 'x'", cause="other",
            fix="this is a bug in the check; please report it with the output of -v",
            detail='  File "dns.py", line 3, in run\n    x["x"]'),
))
OPTIONAL_CRASH = CheckResult("ACME1", "plugin-thing", "s", Status.ERROR, 1.0, (
    Finding(Severity.ERROR, "the check crashed: ValueError", cause="other"),), required=False)
TARGET = {"endpoint": Setting("https://myres.openai.azure.com", "flag --endpoint"),
          "deployment": Setting("chat", "env AZURE_OPENAI_DEPLOYMENT")}
EVERYTHING = Report("9.9", TARGET, (PASS, FAIL, WARN, OPTIONAL_FAIL, CHAIN_FAIL, CRASH, SKIP, OPTIONAL_CRASH),
                    "2026-11-25T01:06:28Z", 1234.6)
GREEN = Report("9.9", TARGET, (PASS, SKIP), "2026-11-25T01:06:28Z", 3.0)

HOSTILE = ("100% <b>bold</b> & \"quoted\" 'x' | pipe ]]> \x00\x01\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f\x85 "
           "ünïcødé ✓ 東京 🚀\r\nsecond line\rthird\n::error::injected %0A")


# --- JUnit ----------------------------------------------------------------------------------------------

# Jenkins xunit-plugin junit-10.xsd: per element, (allowed attributes, required attributes, allowed children).
# Elements not listed here are not in the schema. ``time`` attributes are SUREFIRE_TIME.
JUNIT_10: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set(), {"testsuite"}),
    "testsuite": ({"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
                   "package", "file", "log", "url"}, {"name", "tests", "failures", "errors"},
                  {"testsuite", "properties", "testcase", "system-out", "system-err"}),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, {"name", "value"}, set()),
    "testcase": ({"name", "time", "classname", "group"}, {"name"},
                 {"skipped", "error", "failure", "rerunFailure", "rerunError", "flakyFailure", "flakyError",
                  "system-out", "system-err"}),
    "failure": ({"type", "message"}, set(), set()),
    "error": ({"type", "message"}, set(), set()),
    "skipped": ({"type", "message"}, set(), set()),
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}
ELEMENT_ONLY = {"testsuites", "testsuite", "properties", "property", "testcase"}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
ANT_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
XML_CHARS = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def assert_junit_10(document: str) -> ET.Element:
    """Parse ``document`` and check it against junit-10.xsd's rules and the readers' conventions; return the root.

    Schema rules: known elements only, allowed and required attributes, allowed children, no text in
    element-only content, ``time`` matching SUREFIRE_TIME. Conventions: a ``<testsuites>`` root; counts
    equal to the testcases' children; at most one of failure/error/skipped per testcase; every testcase
    has ``classname`` and ``time``; ``timestamp`` in Ant's zone-less form; only XML 1.0 characters.
    """
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert XML_CHARS.fullmatch(document)
    root = ET.fromstring(document.encode("utf-8"))
    assert root.tag == "testsuites"
    for elem in root.iter():
        assert elem.tag in JUNIT_10, elem.tag
        allowed, required, children = JUNIT_10[elem.tag]
        assert set(elem.attrib) <= allowed, (elem.tag, elem.attrib)
        assert required <= set(elem.attrib), (elem.tag, elem.attrib)
        assert {child.tag for child in elem} <= children, (elem.tag, [c.tag for c in elem])
        if elem.tag in ELEMENT_ONLY:
            assert not (elem.text or "").strip() and all(not (c.tail or "").strip() for c in elem)
        if "time" in elem.attrib:
            assert SUREFIRE_TIME.fullmatch(elem.attrib["time"]), elem.attrib["time"]
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attr, "0")) == sum(1 for c in cases if c.find(tag) is not None)
        if "timestamp" in suite.attrib:
            assert ANT_TIMESTAMP.fullmatch(suite.attrib["timestamp"])
        for case in cases:
            assert case.get("classname") and case.get("time")
            assert sum(1 for c in case if c.tag in ("failure", "error", "skipped")) <= 1
    for attr in ("tests", "failures", "errors"):
        assert int(root.get(attr, "-1")) == sum(int(s.get(attr, "0")) for s in root.findall("testsuite"))
    return root


def cases_by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", "").split(" ")[0]: case for case in root.iter("testcase")}


def test_junit_has_one_testcase_per_check_in_order() -> None:
    root = assert_junit_10(junit.render(EVERYTHING))
    suite = root.find("testsuite")
    assert suite is not None
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names == [f"{r.check_id} {r.name}" for r in EVERYTHING.results]
    assert root.attrib == {"name": "aoai-doctor", "tests": "8", "failures": "2", "errors": "1", "time": "1.235"}
    assert suite.attrib == {"name": "aoai-doctor", "tests": "8", "failures": "2", "errors": "1", "skipped": "1",
                            "time": "1.235", "timestamp": "2026-11-25T01:06:28"}
    cases = cases_by_id(root)
    assert cases["AOAI102"].attrib == {"classname": "aoai-doctor.config", "name": "AOAI102 endpoint-format",
                                       "time": "0.012"}
    assert cases["AOAI210"].get("classname") == "aoai-doctor.credentials"
    assert cases["AOAI401"].get("classname") == "aoai-doctor.network"
    assert cases["ACME1"].get("classname") == "aoai-doctor.plugin"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props.pop("diagnosis.cause") == "custom_subdomain_required"  # the diagnosis leads the properties
    assert props.pop("diagnosis.checks") == "AOAI102" and props.pop("diagnosis.summary") and props.pop("diagnosis.fix")
    assert props == {"aoai-doctor.version": "9.9", "started_at": "2026-11-25T01:06:28Z",
                     "target.endpoint": "https://myres.openai.azure.com", "target.endpoint.source": "flag --endpoint",
                     "target.deployment": "chat", "target.deployment.source": "env AZURE_OPENAI_DEPLOYMENT"}


def test_junit_maps_each_status() -> None:
    cases = cases_by_id(assert_junit_10(junit.render(EVERYTHING)))
    failure = cases["AOAI102"].find("failure")
    assert failure is not None and len(cases["AOAI102"]) == 1
    assert failure.attrib == {"message": "regional endpoint used with an Entra token",
                              "type": "custom_subdomain_required"}
    body = failure.text or ""
    for expected in ("[error] regional endpoint used with an Entra token",
                     "cause: custom_subdomain_required (aoai-doctor explain custom_subdomain_required)",
                     "fix:    use https://NAME.openai.azure.com",
                     "detail: service says: Please provide a custom subdomain",
                     "[warning] second problem", "cause: endpoint_wrong", "fix:    fix two",
                     "docs: docs/checks/AOAI102.md (aoai-doctor explain AOAI102)"):
        assert expected in body
    chain = cases["AOAI210"].find("failure")
    assert chain is not None and "\n            token_provider = get_bearer_token_provider(" in (chain.text or "")

    error = cases["AOAI401"].find("error")
    assert error is not None and error.get("type") == "other"
    assert error.get("message") == "the check crashed: KeyError: 'x'" and 'x["x"]' in (error.text or "")

    skipped = cases["AOAI501"].find("skipped")
    assert skipped is not None and skipped.get("message") == "requires AOAI102 (AOAI102 failed)"

    warn = cases["AOAI103"]
    assert [c.tag for c in warn] == ["system-out"]
    assert "[warning] api-version 2024-02-15-preview retires soon" in (warn.findtext("system-out") or "")

    passed = cases["AOAI101"]
    assert [c.tag for c in passed] == ["system-out"]
    assert (passed.findtext("system-out") or "").startswith("[info] endpoint and deployment configured (chat)")


def test_junit_optional_failures_and_crashes_pass_with_the_problem_in_system_out() -> None:
    cases = cases_by_id(assert_junit_10(junit.render(EVERYTHING)))
    for check_id, verb in (("AOAI201", "failed"), ("ACME1", "crashed")):
        case = cases[check_id]
        assert [c.tag for c in case] == ["system-out"]
        out = case.findtext("system-out") or ""
        assert out.startswith(f"optional check {verb}; it does not fail the run")
        assert f"[checks.{check_id}] required = true" in out and "[error]" in out


def test_junit_fail_on_warning_turns_required_warnings_into_failures() -> None:
    optional_warn = CheckResult("AOAI200", "identity-environment", "s", Status.WARN, 1.0,
                                (Finding(Severity.WARNING, "two sources configured", cause="other"),), required=False)
    report = Report("9.9", {}, (PASS, WARN, optional_warn), "2026-11-25T01:06:28Z", 3.0)
    assert cases_by_id(assert_junit_10(junit.render(report)))["AOAI103"].find("failure") is None
    cases = cases_by_id(assert_junit_10(junit.render(report, fail_on_warning=True)))
    failure = cases["AOAI103"].find("failure")
    assert failure is not None and failure.get("type") == "api_version_invalid"
    assert cases["AOAI200"].find("failure") is None


def test_junit_counts_match_the_gate() -> None:
    root = assert_junit_10(junit.render(EVERYTHING))
    gate = [r for r in EVERYTHING.results if r.fails_gate()]
    red = [c for c in root.iter("testcase") if c.find("failure") is not None or c.find("error") is not None]
    assert [c.get("name", "").split()[0] for c in red] == [r.check_id for r in gate]
    assert {r.check_id for r in gate} == {r.check_id for r in EVERYTHING.failed}


@pytest.mark.parametrize(("started_at", "timestamp"), [
    ("2026-11-25T01:06:28Z", "2026-11-25T01:06:28"),
    ("2026-11-25T01:06:28.123456+00:00", "2026-11-25T01:06:28"),
    ("2026-11-25T03:06:28+02:00", "2026-11-25T01:06:28"),
    ("2026-11-25T01:06:28", "2026-11-25T01:06:28"),
    ("t", None),
])
def test_junit_timestamp_is_utc_without_a_zone(started_at: str, timestamp: str | None) -> None:
    suite = assert_junit_10(junit.render(Report("9.9", {}, (PASS,), started_at, 1.0))).find("testsuite")
    assert suite is not None and suite.get("timestamp") == timestamp


def test_junit_empty_report_is_valid() -> None:
    root = assert_junit_10(junit.render(Report("9.9", {}, (), "2026-11-25T01:06:28Z", 0.0)))
    assert root.get("tests") == "0" and not list(root.iter("testcase"))


def hostile_report(text: str) -> Report:
    """Every text field of a report set to ``text``."""
    bad = CheckResult("AOAI102", f"name {text}", text, Status.FAIL, 1.0,
                      (Finding(Severity.ERROR, text, cause=f"cause {text}", fix=text, detail=text),))
    warn = CheckResult("AOAI103", "api-version", text, Status.WARN, 1.0, (Finding(Severity.WARNING, text, fix=text),))
    skip = CheckResult("AOAI104", "deployment-name", text, Status.SKIP, 0.0, skip_reason=text)
    crash = CheckResult("AOAI105", "x", text, Status.ERROR, 0.0, (Finding(Severity.ERROR, text, cause=text),))
    return Report(text, {text: Setting(text, text)}, (bad, warn, skip, crash), "2026-11-25T01:06:28Z", 1.0, (text,))


def test_junit_escapes_and_strips_what_xml_cannot_carry() -> None:
    document = junit.render(hostile_report(HOSTILE))
    cases = cases_by_id(assert_junit_10(document))
    expected = clean_text(HOSTILE)
    assert "\x00" not in document and "\x1b" not in document and "[31m" not in document and "\x85" not in document
    assert "ünïcødé ✓ 東京 🚀" in document
    failure = cases["AOAI102"].find("failure")
    assert failure is not None
    assert failure.get("message") == expected  # newlines and quotes survive in the attribute
    assert failure.get("type") == f"cause {expected}"
    assert f"[error] {expected.splitlines()[0]}" in (failure.text or "")
    assert cases["AOAI104"].find("skipped") is not None
    skipped = cases["AOAI104"].find("skipped")
    assert skipped is not None and skipped.get("message") == expected
    assert expected == ("100% <b>bold</b> & \"quoted\" 'x' | pipe ]]> red ünïcødé ✓ 東京 🚀\nsecond line\nthird\n"
                        "::error::injected %0A")


def test_clean_text_removes_lone_surrogates_and_noncharacters() -> None:
    assert clean_text("a\ud800b\ufffec\uffffd\U0001f680") == "abcd\U0001f680"
    assert clean_text("tab\tstays") == "tab\tstays"


# --- GitHub Actions -------------------------------------------------------------------------------------

def test_annotations_error_for_gate_failures_warning_for_the_rest() -> None:
    lines = github.annotations(EVERYTHING).splitlines()
    heads = [line.split("::", 2)[1] for line in lines]
    assert heads == [
        "error title=AOAI102 endpoint-format", "error title=AOAI102 endpoint-format",
        "warning title=AOAI103 api-version",
        "warning title=AOAI201 environment-credential (optional)",
        "error title=AOAI210 credential-chain",
        "error title=AOAI401 dns",
        "warning title=ACME1 plugin-thing (optional)",
    ]
    assert lines[0] == ("::error title=AOAI102 endpoint-format::regional endpoint used with an Entra token "
                        "(cause: custom_subdomain_required) — fix: use https://NAME.openai.azure.com"
                        "%0Adocs: docs/checks/AOAI102.md (aoai-doctor explain AOAI102); "
                        "cause: aoai-doctor explain custom_subdomain_required")
    chain = lines[4]
    assert ("(cause: scope_missing_default) — fix:%0ARequest `https://cognitiveservices.azure.com/.default`:%0A%0A"
            in chain)
    assert github.annotations(GREEN) == ""


def test_annotations_follow_fail_on_warning() -> None:
    report = Report("9.9", {}, (WARN,), "t", 1.0)
    assert github.annotations(report).startswith("::warning title=AOAI103 api-version::")
    assert github.annotations(report, fail_on_warning=True).startswith("::error title=AOAI103 api-version::")


def test_annotations_escape_data_and_properties() -> None:
    out = github.annotations(hostile_report(HOSTILE))
    lines = out.splitlines()
    assert out.endswith("\n") and "\r" not in out
    assert len(lines) == 3  # AOAI102 error, AOAI103 warning, AOAI105 crash: one line each despite the newlines
    assert all(line.startswith(("::error title=", "::warning title=")) for line in lines)
    title, message = lines[0][len("::error title="):].split("::", 1)
    assert "," not in title and ":" not in title
    assert title == "AOAI102 name " + github.escape_property(HOSTILE)
    assert message.startswith("100%25 <b>bold</b>") and "%0Asecond line%0Athird%0A::error::injected %250A" in message
    decoded = message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    assert decoded.startswith(clean_text(HOSTILE))


def test_escape_functions_follow_the_actions_toolkit() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_summary_is_the_markdown_report() -> None:
    assert github.summary(EVERYTHING) == markdown.render(EVERYTHING)
    assert github.summary(EVERYTHING, fail_on_warning=True, docs_base_url="https://x/y") == markdown.render(
        EVERYTHING, fail_on_warning=True, docs_base_url="https://x/y")


# --- Markdown -------------------------------------------------------------------------------------------

CELL_TOKEN = re.compile(r"\\.|\|")
"""How GFM splits a row: a backslash escapes the next character (itself included); other pipes end a cell."""
FENCED = re.compile(r"^(`{3,})\n.*?^\1$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1")


def assert_tables_intact(document: str) -> None:
    """Every table row has as many cells as its header, and no row spans lines (fenced code is not a table)."""
    columns: int | None = None
    fence: str | None = None
    for line in document.splitlines():
        opener = re.match(r"^(`{3,})", line)
        if fence is not None:
            if opener and opener.group(1) == fence and line.strip() == fence:
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            columns = None
            continue
        if line.startswith("|"):
            cells = sum(1 for token in CELL_TOKEN.findall(line) if token == "|") - 1
            columns = cells if columns is None else columns
            assert cells == columns, line
            assert line.endswith("|")
        else:
            columns = None


def test_markdown_verdicts() -> None:
    assert markdown.render(EVERYTHING).startswith("## ❌ aoai-doctor: 3 required checks failed\n")
    assert markdown.render(GREEN).startswith("## ✅ aoai-doctor: every required check passed\n")
    soft = Report("9.9", {}, (PASS, WARN, OPTIONAL_FAIL), "t", 1.0)
    assert markdown.render(soft).startswith("## ⚠️ aoai-doctor: passed with 1 warning and 1 optional check failed\n")
    assert markdown.render(soft, fail_on_warning=True).startswith(
        "## ❌ aoai-doctor: 1 required check failed (--fail-on warning)\n")


def test_markdown_target_and_stage_tables() -> None:
    out = markdown.render(EVERYTHING)
    assert_tables_intact(out)
    lines = out.splitlines()
    # the diagnosis leads, then the counts
    assert lines[2].startswith("**Root cause: `custom_subdomain_required`**")
    counts = "aoai-doctor 9.9 · started 2026-11-25T01:06:28Z · 8 checks in 1.2 s: ✅ 1 passed · "
    assert counts + "⚠️ 1 warned · ❌ 3 failed · ⏭️ 1 skipped · 💥 2 crashed (2 of the failed or crashed optional)" \
        in lines
    assert "| endpoint | https://myres.openai.azure.com | flag --endpoint |" in lines
    headings = [ln for ln in lines if ln.startswith("### ")]
    assert headings == ["### Target", "### Config and endpoint", "### Credentials", "### Network",
                        "### Data-plane call", "### Plugins", "### Problems"]
    assert "| ✅ | AOAI101 | config-present | endpoint and deployment configured (chat) | 0 ms |" in lines
    assert "| ❌ | AOAI102 | endpoint-format | regional endpoint used with an Entra token (+1 more) | 12 ms |" in lines
    assert "| ⚠️ | AOAI103 | api-version | api-version 2024-02-15-preview retires soon | 2 ms |" in lines
    assert "| ❌ | AOAI201 | environment-credential (optional) | failed: AADSTS1002012 | 277 ms |" in lines
    assert "| 💥 | AOAI401 | dns | the check crashed: KeyError: 'x' | 5 ms |" in lines
    assert "| ⏭️ | AOAI501 | test-call | requires AOAI102 (AOAI102 failed) | 0 ms |" in lines


def test_markdown_problems_section() -> None:
    out = markdown.render(EVERYTHING)
    problems = out.split("### Problems\n", 1)[1]
    order = re.findall(r"^#### \S+ (\S+)", problems, re.MULTILINE)
    assert order == ["AOAI102", "AOAI210", "AOAI401", "AOAI103", "AOAI201", "ACME1"]  # run-failing first
    assert "#### ❌ AOAI102 endpoint-format (fails the run)" in problems
    assert "#### ❌ AOAI201 environment-credential (optional: does not fail the run)" in problems
    assert "**Cause:** `custom_subdomain_required` — `aoai-doctor explain custom_subdomain_required`" in problems
    assert "**Fix:** use https://NAME.openai.azure.com" in problems
    assert "**Detail:** service says: Please provide a custom subdomain" in problems
    assert f"**Fix:**\n\n```\n{MULTILINE_FIX}\n```\n" in problems  # multi-line fixes are fenced, verbatim
    assert "**Fix:** same as AOAI210 above." in problems  # AOAI201 repeats AOAI210's fix
    assert '**Detail:**\n\n```\n  File "dns.py", line 3, in run\n    x["x"]\n```' in problems
    assert "**Docs:** `docs/checks/AOAI102.md` · `aoai-doctor explain AOAI102`" in problems
    assert "Problems" not in markdown.render(GREEN)


def test_markdown_docs_links_with_a_base_url() -> None:
    out = markdown.render(EVERYTHING, docs_base_url="https://github.com/o/aoai-doctor/blob/main/")
    assert ("**Docs:** [docs/checks/AOAI102.md](https://github.com/o/aoai-doctor/blob/main/docs/checks/AOAI102.md)"
            in out)
    assert "[docs/causes/other.md](https://github.com/o/aoai-doctor/blob/main/docs/causes/other.md)" in out


def test_markdown_escapes_cells_and_text() -> None:
    out = markdown.render(hostile_report(HOSTILE))
    assert_tables_intact(out)
    assert "\x00" not in out and "\x1b" not in out and "\r" not in out
    assert "<b>" not in CODE_SPAN.sub("", FENCED.sub("", out))  # HTML is literal only in code, where it is inert
    assert ("100% \\<b\\>bold\\</b\\> & \"quoted\" 'x' \\| pipe \\]\\]\\> red ünïcødé ✓ 東京 🚀"
            "<br>second line<br>third") in out
    for line in out.splitlines():
        if line.startswith("| ❌ | AOAI102"):
            assert line.count("<br>") >= 2  # newlines in a cell become <br>, the row stays one line
    fence = "```\n" + clean_text(HOSTILE) + "\n```"  # multi-line text goes verbatim into a fence
    assert fence in out


def test_markdown_code_spans_and_fences() -> None:
    text = "run `a | b` then *not bold* [not a link](x) &amp; `unclosed"
    result = CheckResult("AOAI102", "endpoint-format", "s", Status.FAIL, 1.0,
                         (Finding(Severity.ERROR, text, cause="c", fix="one ``` two\n````"),))
    out = markdown.render(Report("9.9", {}, (result,), "t", 1.0))
    assert_tables_intact(out)
    assert "| run `a \\| b` then \\*not bold\\* \\[not a link\\](x) &amp;amp; \\`unclosed |" in out  # table cell
    assert "**Error:** run `a | b` then \\*not bold\\*" in out  # in running text the code span is untouched
    assert "`````\none ``` two\n````\n`````" in out  # the fence outgrows every backtick run inside
    tricky = Report("9.9", {"path": Setting("`C:\\x\\|y`", "flag")}, (), "t", 1.0)
    assert_tables_intact(markdown.render(tricky))  # a backslash before a pipe in a code span cannot split the cell


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80))
def test_any_text_keeps_every_format_well_formed(text: str) -> None:
    report = hostile_report(text)
    assert_junit_10(junit.render(report))
    assert_tables_intact(markdown.render(report))
    markdown.render(report).encode("utf-8")
    for line in github.annotations(report).splitlines():
        assert line.startswith(("::error title=", "::warning title="))
    assert "\r" not in github.annotations(report) and github.annotations(report).count("\n") == 3


# --- real runs ------------------------------------------------------------------------------------------

def report_from_json(data: dict[str, Any]) -> Report:
    """Rebuild the Report a ``--format json`` run serialised (check summaries are not in the JSON)."""
    results = tuple(
        CheckResult(c["id"], c["name"], "", Status(c["status"]), c["duration_ms"],
                    tuple(Finding(Severity[f["severity"].upper()], f["message"], f["cause"], f["fix"], f["detail"])
                          for f in c["findings"]),
                    c["required"], c.get("skip_reason"), c.get("data", {}))
        for c in data["checks"])
    return Report(data["tool"]["version"], {k: Setting(v["value"], v["source"]) for k, v in data["target"].items()},
                  results, data["started_at"], data["duration_ms"], tuple(data["sources_read"]),
                  data.get("environment", {}))


def demo_report(scenario: str) -> tuple[int, Report]:
    result = CliRunner().invoke(main, ["demo", "--scenario", scenario, "--format", "json"], catch_exceptions=False)
    data = json.loads(result.output)
    report = report_from_json(data)
    assert json_reporter.to_dict(report) == data  # the rebuilt report is the one the run made
    return result.exit_code, report


def test_real_failing_run() -> None:
    code, report = demo_report("scope-missing-default")
    assert code == 1
    root = assert_junit_10(junit.render(report))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == [f"{r.check_id} {r.name}" for r in report.results] and "AOAI210 credential-chain" in names
    chain = cases_by_id(root)["AOAI210"].find("failure")
    assert chain is not None and chain.get("type") == "scope_missing_default"
    assert "AADSTS1002012" in (chain.get("message") or "")
    assert int(root.get("failures", "0")) + int(root.get("errors", "0")) == len(report.failed)

    annotations = github.annotations(report).splitlines()
    assert any(a.startswith("::error title=AOAI210 credential-chain::") and "(cause: scope_missing_default)" in a
               for a in annotations)
    assert all(a.startswith("::warning") for a in annotations if "(optional)" in a.split("::")[1])

    out = markdown.render(report)
    assert_tables_intact(out)
    failed = len(report.failed)
    assert out.startswith(f"## ❌ aoai-doctor: {failed} required check{'s' if failed > 1 else ''} failed\n")
    assert "#### ❌ AOAI210 credential-chain (fails the run)" in out
    assert "https://cognitiveservices.azure.com/.default" in out


def test_real_healthy_run() -> None:
    code, report = demo_report("healthy")
    assert code == 0
    root = assert_junit_10(junit.render(report))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert len(list(root.iter("testcase"))) == len(report.results)
    assert github.annotations(report) == ""
    out = markdown.render(report)
    assert_tables_intact(out)
    assert out.startswith("## ✅ aoai-doctor: every required check passed\n") and "### Problems" not in out
