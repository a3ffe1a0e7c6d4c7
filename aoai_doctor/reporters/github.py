"""GitHub Actions output: workflow-command annotations and the job summary.

:func:`annotations` gives one line per problem finding, which the runner turns into annotations on
the run and the pull request::

    ::error title=AOAI210 credential-chain::DefaultAzureCredential stops at … (cause: …) — fix: …

``::error`` for a finding of a check that fails the run, ``::warning`` for everything else worth a
look (warnings, and optional checks that failed or crashed). Passing and skipped checks are quiet.
Values are escaped as the Actions toolkit does (``%``, CR and LF in the message; also ``:`` and
``,`` in properties), so no message can end the line and start a command of its own.

:func:`summary` is the Markdown the CLI appends to ``$GITHUB_STEP_SUMMARY``.
"""

from aoai_doctor.model import CheckResult, Finding, Report, Severity, Status
from aoai_doctor.reporters import markdown
from aoai_doctor.reporters.markdown import clean_text
from aoai_doctor.sanitize import sanitize_all


def annotations(report: Report, *, fail_on_warning: bool = False, label: str = "") -> str:
    """Workflow commands (``::error`` / ``::warning``), one line per problem finding; "" when none. ``label``
    names the target in each title (a fleet's reports)."""
    report = sanitize_all(report)
    lines: list[str] = []
    for result in report.results:
        if result.status is Status.SKIP:
            continue
        level = "error" if result.fails_gate(fail_on_warning) else "warning"
        title = f"{label}: {result.check_id} {result.name}" if label else f"{result.check_id} {result.name}"
        if not result.required and result.status in (Status.FAIL, Status.ERROR, Status.WARN):
            title += " (optional)"
        for finding in result.findings:
            if finding.severity >= Severity.WARNING:
                lines.append(f"::{level} title={escape_property(title)}::{escape_data(_message(result, finding))}")
    return "".join(line + "\n" for line in lines)


def summary(report: Report, *, fail_on_warning: bool = False, docs_base_url: str | None = None) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the Markdown report."""
    return markdown.render(report, fail_on_warning=fail_on_warning, docs_base_url=docs_base_url)


def escape_data(text: str) -> str:
    """A workflow command's message: ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as :func:`escape_data`, plus ``:`` → ``%3A`` and ``,`` → ``%2C``."""
    return escape_data(clean_text(text)).replace(":", "%3A").replace(",", "%2C")


def _message(result: CheckResult, finding: Finding) -> str:
    """``message (cause: …) — fix: …`` and the docs on a line of their own."""
    text = finding.message.strip()
    if finding.cause:
        text += f" (cause: {finding.cause})"
    if finding.fix:
        fix = finding.fix.strip("\n")
        text += f" — fix:\n{fix}" if "\n" in fix else f" — fix: {fix}"
    docs = f"docs: {result.docs} (aoai-doctor explain {result.check_id})"
    if finding.cause:
        docs += f"; cause: aoai-doctor explain {finding.cause}"
    return clean_text(f"{text}\n{docs}")
