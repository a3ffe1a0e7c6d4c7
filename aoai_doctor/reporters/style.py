"""How a report is drawn, as the CLI decides it from the terminal and the flags."""

from __future__ import annotations

from aoai_doctor.record import record


@record
class Style:
    """How to draw: the CLI decides from the terminal and the flags, a reporter only follows."""

    unicode: bool = True
    color: bool = False
    verbose: bool = False
    fail_on_warning: bool = False
    """``--fail-on warning``: a required check that warns fails the run, and the summary says so."""
    width: int = 80
    """Columns to fit (the terminal's; 80 when unknown)."""
