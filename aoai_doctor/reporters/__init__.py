"""Reporters: each turns a :class:`~aoai_doctor.model.Report` into text and does no I/O; the CLI decides
where the text goes.

    text = reporters.reporter(Format.JSON)(report, Style(fail_on_warning=True))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, cast

from aoai_doctor.model import FleetReport, Report
from aoai_doctor.options import Format
from aoai_doctor.reporters.style import Style

__all__ = ["FleetReporter", "Reporter", "Style", "fleet_reporter", "reporter"]


class Reporter(Protocol):
    """Renders a report in one format."""

    def __call__(self, report: Report, style: Style, /) -> str:
        """The report as this format's text."""


def reporter(fmt: Format) -> Reporter:
    """The reporter for a format (its module is imported only when asked for)."""
    return cast(Reporter, _renderer(fmt, "render"))


class FleetReporter(Protocol):
    """Renders a run over many targets in one format."""

    def __call__(self, report: FleetReport, style: Style, /) -> str:
        """The reports as this format's text."""


def fleet_reporter(fmt: Format) -> FleetReporter:
    """The reporter of a run over many targets, for a format."""
    return cast(FleetReporter, _renderer(fmt, "render_fleet"))


def _renderer(fmt: Format, name: str) -> Callable[[Any, Style], str]:
    """``name`` of the format's module (``reporters/<format>.py``): the text reporter takes the whole style,
    the others whether a warning fails the run."""
    render = getattr(importlib.import_module(f"aoai_doctor.reporters.{fmt.value}"), name)
    if fmt is Format.TEXT:
        return render  # type: ignore[no-any-return]
    return lambda report, style: render(report, fail_on_warning=style.fail_on_warning)
