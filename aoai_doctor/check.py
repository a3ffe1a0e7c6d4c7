"""What a check is: a class with a stable id, a name, what it requires, and a pure ``run``.

A check's docstring is its documentation page, with fixed headings (see ``DOC_HEADINGS``);
``docs/checks/<ID>.md`` is generated from it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aoai_doctor.model import Finding, Severity
from aoai_doctor.record import record

if TYPE_CHECKING:
    from aoai_doctor.config import Target


COMMON_CHECK_OPTIONS: Mapping[str, object] = {"required": True, "timeout": 30.0}
"""The options every check accepts, and their defaults (a check's class attributes override them)."""

DOC_HEADINGS = ("What it detects", "Why it matters", "How to fix", "Options")
ID_PATTERN = re.compile(r"^[A-Z]{2,8}\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

F = TypeVar("F")


@record
class Outcome:
    """What a check returns: its findings, typed facts for the checks that require it, or a skip."""

    findings: tuple[Finding, ...] = ()
    facts: tuple[object, ...] = ()
    skip_reason: str | None = None
    """Set when the check found nothing to look at (e.g. no endpoint configured)."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Structured facts for the JSON report. Never a secret."""

    @classmethod
    def skip(cls, reason: str, facts: tuple[object, ...] = (), data: Mapping[str, Any] | None = None) -> Outcome:
        """The check does not apply here (its facts still reach the checks that use it)."""
        return cls(skip_reason=reason, facts=facts, data=data or {})


@record
class CheckContext:
    """Everything a check may read. Checks never read the process environment or files directly."""

    target: Target
    environ: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)
    """This check's options: its declared defaults overlaid with ``[checks.<ID>]``."""
    facts: tuple[object, ...] = ()
    """Facts published by the checks this one requires or uses (transitively)."""
    deadline: float | None = None
    """When this check must be done (``time.monotonic``): its own timeout, or the run's deadline if sooner.
    Checks pass what is left down to the services they call (:meth:`seconds_left`)."""

    def seconds_left(self, at_most: float) -> float:
        """``at_most`` seconds, or fewer when the check's deadline is nearer (never below 0.5 s)."""
        if self.deadline is None:
            return at_most
        return max(0.5, min(at_most, self.deadline - time.monotonic()))

    def all_facts(self, kind: type[F]) -> tuple[F, ...]:
        """Every published fact of this type."""
        return tuple(item for item in self.facts if isinstance(item, kind))

    def fact(self, kind: type[F]) -> F | None:
        """The first published fact of this type, if any."""
        for item in self.facts:
            if isinstance(item, kind):
                return item
        return None


class Check:
    """Base class for checks. Subclasses set the class attributes and implement :meth:`run`."""

    id: ClassVar[str]
    """Stable id: a prefix and three digits (``AOAI102``; plugins use their own prefix)."""
    name: ClassVar[str]
    """Kebab-case name of what it looks at."""
    summary: ClassVar[str]
    """One line for ``aoai-doctor checks``."""
    requires: ClassVar[tuple[str, ...]] = ()
    """Ids of checks whose facts this one needs; it is skipped when one of them fails."""
    uses: ClassVar[tuple[str, ...]] = ()
    """Ids of checks whose results this one reads whatever their status: it runs after them and sees
    their facts, but is not skipped when they fail (a chain verdict reads failed sources)."""
    required: ClassVar[bool] = True
    """Whether a failure fails the run (checks.toml ``required = false`` overrides)."""
    timeout: ClassVar[float] = 30.0
    """Seconds before the runner gives up on it."""
    options: ClassVar[Mapping[str, object]] = {}
    """Options accepted under ``[checks.<ID>]``, with their defaults (the default's type is enforced)."""
    binds: ClassVar[Mapping[str, str]] = {}
    """Options of this check that a run option sets: ``{option: field of aoai_doctor.options.Options}``
    (``--no-live`` sets AOAI501's ``live``). A field left ``None`` leaves the option to checks.toml."""

    @classmethod
    def settle_options(cls, options: dict[str, object]) -> None:
        """Normalise or validate this check's merged options (run options over checks.toml over the
        defaults), in place; raise :class:`~aoai_doctor.config.ConfigError` for a value it cannot use."""

    def run(self, ctx: CheckContext) -> Outcome:  # pragma: no cover - abstract
        """Look, and say what was found. Must not print, exit or touch the process environment."""
        raise NotImplementedError


def finding(severity: Severity, message: str, *, cause: str | None = None, fix: str | None = None,
            detail: str | None = None) -> Finding:
    """Shorthand for building a :class:`Finding`."""
    return Finding(severity=severity, message=message, cause=cause, fix=fix, detail=detail)


def ok(message: str, detail: str | None = None) -> Finding:
    """A passing note."""
    return Finding(Severity.INFO, message, detail=detail)


def doc_sections(check: type[Check]) -> dict[str, str]:
    """The docstring of a check split at its ``## Heading`` lines."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in _dedent(check.__doc__ or "").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return {heading: body.strip() for heading, body in sections.items()}


def doc_page(check: type[Check]) -> str:
    """The Markdown page for a check, generated from its docstring."""
    sections = doc_sections(check)
    out = [f"# {check.id} {check.name}", "", check.summary, ""]
    for heading in DOC_HEADINGS:
        out += [f"## {heading}", "", sections.get(heading, "").strip() or "(none)", ""]
    return "\n".join(out).rstrip() + "\n"


def _dedent(text: str) -> str:
    lines = text.expandtabs().splitlines()
    if not lines:
        return ""
    rest = [ln for ln in lines[1:] if ln.strip()]
    indent = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
    return "\n".join([lines[0].strip(), *(ln[indent:] for ln in lines[1:])])
