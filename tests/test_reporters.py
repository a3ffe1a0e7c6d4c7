"""The text reporter: glyphs or ASCII, colour, grouping, fixes, verbosity, summary."""

from __future__ import annotations

from aoai_doctor.model import CheckResult, Finding, Report, Setting, Severity, Status
from aoai_doctor.reporters import text

FAIL = CheckResult("AOAI102", "endpoint-format", "s", Status.FAIL, 1.0, (
    Finding(Severity.ERROR, "regional endpoint", cause="custom_subdomain_required", fix="use the subdomain",
            detail="service says: Please provide a custom subdomain"),
    Finding(Severity.WARNING, "second problem", cause="endpoint_wrong", fix="fix two"),
))
PASS = CheckResult("AOAI101", "config-present", "s", Status.PASS, 0.4, (Finding(Severity.INFO, "all set",
                                                                                 detail="sources read: env"),))
SKIP = CheckResult("AOAI501", "test-call", "s", Status.SKIP, 0.0, skip_reason="requires AOAI102 (AOAI102 failed)")
REPORT = Report("9.9", {"endpoint": Setting("https://x", "flag --endpoint")}, (PASS, FAIL, SKIP), "t", 12.0)


def test_ascii_report_groups_by_stage_and_shows_fixes() -> None:
    out = text.render(REPORT, text.Style(unicode=False))
    lines = out.splitlines()
    assert lines[0] == "aoai-doctor 9.9 · https://x"
    assert "Config and endpoint" in lines and "Data-plane call" in lines
    assert any(ln.startswith("  [fail]  AOAI102") and "regional endpoint (+1 more)" in ln for ln in lines)
    assert "         cause: custom_subdomain_required" in lines
    assert "       ! second problem" in lines and "         fix:   fix two" in lines
    assert any("[skip]  AOAI501  test-call        requires AOAI102 (AOAI102 failed)" in ln for ln in lines)
    assert lines[-1].startswith("[fail] aoai-doctor found 1 problem (0 warnings) in 3 checks")
    assert "✓" not in out and "\x1b[" not in out
    assert "Please provide" not in out and "sources read" not in out  # detail lines need -v


def test_verbose_adds_details_and_configuration_sources() -> None:
    out = text.render(REPORT, text.Style(unicode=True, verbose=True))
    assert "✗" in out and "service says: Please provide a custom subdomain" in out
    assert "sources read: env" in out
    assert "  endpoint  https://x  (flag --endpoint)" in out


def test_colour_only_when_asked() -> None:
    assert "\x1b[31m" in text.render(REPORT, text.Style(color=True))


def test_all_pass_summary() -> None:
    report = Report("9.9", {"endpoint": Setting("https://x", "env")}, (PASS,), "t", 3.0)
    last = text.render(report, text.Style(unicode=True)).splitlines()[-1]
    assert last == "✓ 1 check passed for https://x [3 ms]"
