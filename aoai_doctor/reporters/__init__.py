"""Reporters: each turns a :class:`~aoai_doctor.model.Report` into text and does no I/O; the CLI decides
where the text goes.

    text = reporters.reporter(Format.JSON)(report, Style(fail_on_warning=True))
"""

from __future__ import annotations

import sys
from typing import Protocol

from aoai_doctor.model import FleetReport, Report
from aoai_doctor.options import Format
from aoai_doctor.reporters.style import Style

__all__ = ["FleetReporter", "Reporter", "Style", "fleet_reporter", "reporter"]

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never


class Reporter(Protocol):
    """Renders a report in one format."""

    def __call__(self, report: Report, style: Style, /) -> str:
        """The report as this format's text."""


def reporter(fmt: Format) -> Reporter:
    """The reporter for a format (its module is imported only when asked for)."""
    if fmt is Format.TEXT:
        from aoai_doctor.reporters import text

        return text.render
    if fmt is Format.JSON:
        from aoai_doctor.reporters import json

        return lambda report, style: json.render(report, fail_on_warning=style.fail_on_warning)
    if fmt is Format.JUNIT:
        from aoai_doctor.reporters import junit

        return lambda report, style: junit.render(report, fail_on_warning=style.fail_on_warning)
    if fmt is Format.MARKDOWN:
        from aoai_doctor.reporters import markdown

        return lambda report, style: markdown.render(report, fail_on_warning=style.fail_on_warning)
    assert_never(fmt)


class FleetReporter(Protocol):
    """Renders a run over many targets in one format."""

    def __call__(self, report: FleetReport, style: Style, /) -> str:
        """The reports as this format's text."""


def fleet_reporter(fmt: Format) -> FleetReporter:
    """The reporter of a run over many targets, for a format."""
    if fmt is Format.TEXT:
        from aoai_doctor.reporters import text

        return text.render_fleet
    if fmt is Format.JSON:
        from aoai_doctor.reporters import json

        return lambda report, style: json.render_fleet(report, fail_on_warning=style.fail_on_warning)
    if fmt is Format.JUNIT:
        from aoai_doctor.reporters import junit

        return lambda report, style: junit.render_fleet(report, fail_on_warning=style.fail_on_warning)
    if fmt is Format.MARKDOWN:
        from aoai_doctor.reporters import markdown

        return lambda report, style: markdown.render_fleet(report, fail_on_warning=style.fail_on_warning)
    assert_never(fmt)
