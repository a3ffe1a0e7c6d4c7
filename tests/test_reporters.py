"""The text reporter: glyphs or ASCII, colour, grouping, fixes, verbosity, summary."""

from __future__ import annotations

import json
from pathlib import Path

import tomllib

import aoai_doctor
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


def test_ascii_report_groups_by_stage_and_ends_with_the_diagnosis() -> None:
    out = text.render(REPORT, text.Style(unicode=False))
    lines = out.splitlines()
    assert out.isascii()
    assert lines[0] == "aoai-doctor 9.9 - x"
    assert "Config and endpoint" in lines
    assert any(ln.startswith("  [fail]  AOAI102") and "custom_subdomain_required: see below" in ln for ln in lines)
    assert "Data-plane call: [skip] AOAI501 skipped: requires AOAI102 (AOAI102 failed)" in lines
    # the diagnosis is last: cause and evidence, the sentence, the fix, the counts
    assert lines[-4:] == [
        "[fail] custom_subdomain_required  (AOAI102)",
        "  regional endpoint",
        "  fix: use the subdomain",
        "  1 failed - 1 passed - 1 skipped - 12 ms",
    ]
    assert out.count("regional endpoint") == 1  # said once
    assert "✓" not in out and "\x1b[" not in out
    assert "Please provide" not in out and "sources read" not in out  # detail lines need -v


def test_verbose_adds_details_and_configuration_sources() -> None:
    out = text.render(REPORT, text.Style(unicode=True, verbose=True))
    assert "✗" in out and "service says: Please provide a custom subdomain" in out
    assert "second problem" in out and "fix:   fix two" in out
    assert "sources read: env" in out
    assert "  endpoint  https://x  (flag --endpoint)" in out


def test_colour_only_when_asked() -> None:
    assert "\x1b[31m" in text.render(REPORT, text.Style(color=True))


def test_all_pass_summary() -> None:
    report = Report("9.9", {"endpoint": Setting("https://x", "env")}, (PASS,), "t", 3.0)
    lines = text.render(report, text.Style(unicode=True)).splitlines()
    assert lines[-2:] == ["✓ ready: x", "  1 passed · 0 skipped · 3 ms"]


def test_optional_failures_and_fail_on_warning_in_the_summary() -> None:
    optional = CheckResult("AOAI201", "environment-credential", "s", Status.FAIL, 1.0,
                           (Finding(Severity.ERROR, "bad secret", cause="client_secret_invalid"),), required=False)
    warn = CheckResult("AOAI101", "config-present", "s", Status.WARN, 1.0,
                       (Finding(Severity.WARNING, "stray key", cause="auth_mode_mismatch"),))
    report = Report("9.9", {}, (warn, optional), "t", 2.0)
    out = text.render(report, text.Style(unicode=False, width=120))
    assert "environment-credential (optional)" in out
    lines = out.splitlines()
    assert lines[-2] == "[warn] passed, with a warning: auth_mode_mismatch: stray key"
    assert lines[-1] == "  1 optional failed - 1 warning - 0 passed - 0 skipped - 2 ms"  # ASCII: no terminal
    strict = text.render(report, text.Style(unicode=False, fail_on_warning=True)).splitlines()
    head = strict.index("[fail] auth_mode_mismatch  (AOAI101)")
    assert strict[head + 1] == "  stray key"
    assert strict[head + 2].startswith("  1 failed (--fail-on warning) - 1 optional failed - 1 warning")


def test_a_cause_shown_by_several_checks_is_told_once() -> None:
    fix = "Request the right scope:\n\n    get_bearer_token_provider(cred, scope)"
    first = CheckResult("AOAI201", "environment-credential", "s", Status.FAIL, 1.0,
                        (Finding(Severity.ERROR, "AADSTS1002012", cause="scope_missing_default", fix=fix),))
    again = CheckResult("AOAI210", "credential-chain", "s", Status.FAIL, 1.0,
                        (Finding(Severity.ERROR, "stops at EnvironmentCredential", cause="scope_missing_default",
                                 fix=fix),))
    out = text.render(Report("9.9", {}, (first, again), "t", 1.0), text.Style(unicode=False))
    assert out.count("get_bearer_token_provider") == 1 and out.count("see below") == 2
    assert "[fail] scope_missing_default  (AOAI201, AOAI210)" in out


def test_notes_with_a_fix_are_shown_without_verbose() -> None:
    result = CheckResult("AOAI501", "test-call", "s", Status.PASS, 1.0, (
        Finding(Severity.INFO, "chat answered 200"),
        Finding(Severity.INFO, "1 billable call made", fix="--no-live skips the call"),
        Finding(Severity.INFO, "a plain note"),
    ))
    out = text.render(Report("9.9", {}, (result,), "t", 1.0), text.Style(unicode=False))
    assert "1 billable call made" in out and "--no-live skips the call" in out
    assert "a plain note" not in out


def test_every_line_fits_the_width_but_commands() -> None:
    fix = ("use the resource's custom-subdomain endpoint: az cognitiveservices account update --name contoso-openai "
           "--resource-group rg --custom-domain contoso-openai. Keys keep working.")
    wide = CheckResult("AOAI102", "endpoint-format", "s", Status.FAIL, 1.0, (
        Finding(Severity.ERROR, "eastus.api.cognitive.microsoft.com is a regional endpoint, which does not accept "
                "Entra ID tokens " * 2, cause="custom_subdomain_required", fix=fix),))
    for width in (60, 80, 120):
        out = text.render(Report("9.9", {}, (PASS, wide), "t", 1.0), text.Style(unicode=True, width=width))
        long = [ln for ln in out.splitlines() if len(ln) > width]
        assert all(ln.strip().startswith("az ") for ln in long), long
        assert "az cognitiveservices account update --name contoso-openai --resource-group rg" in out


def test_the_json_schema_names_every_cause_id() -> None:
    """A report's cause must validate: the schema's enum is the knowledge base's list of root causes."""
    package = Path(aoai_doctor.__file__).parent
    schema = json.loads((package / "reporters" / "report.schema.json").read_text())
    finding = schema["$defs"]["report"]["properties"]["checks"]["items"]["properties"]["findings"]["items"]
    enum = finding["properties"]["cause"]["oneOf"][1]["enum"]
    causes = tomllib.loads((package / "explainer" / "data" / "causes.toml").read_text())["cause"]
    assert sorted(enum) == sorted(causes)
