"""One wording per fix: the knowledge base's, with the ``<placeholders>`` a run knows filled in.

``explain`` shows a fix as the knowledge base words it (``az login --tenant <tenant-id>``); a check that
knows the tenant shows the same text with the value in place. Both read it from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aoai_doctor.explainer.kb import Signature

_PLACEHOLDER = r"<([a-z][a-z0-9-]*)>"


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with each ``<name>`` whose value is known replaced by it; unknown ones stay as they are."""

    def value(match: re.Match[str]) -> str:
        known = values.get(match.group(1))
        return known if known else match.group(0)

    return re.sub(_PLACEHOLDER, value, text)


@cache
def _signatures() -> dict[str, Signature]:
    from aoai_doctor.explainer.kb import load_knowledge_base  # read on the first fix asked for

    return {s.id: s for s in load_knowledge_base().signatures}


def signature(signature_id: str) -> Signature:
    """A knowledge-base signature by id; ``KeyError`` for an unknown one."""
    return _signatures()[signature_id]


def fix_for(signature_id: str, values: Mapping[str, str | None] = {}) -> tuple[str, str]:
    """The cause and the filled-in fix of a knowledge-base signature (its own fix, else its cause's)."""
    sig = signature(signature_id)
    return sig.cause, fill(sig.fix, values)


def cause_fix(cause: str, values: Mapping[str, str | None] = {}) -> str:
    """The filled-in fix of a cause."""
    from aoai_doctor.explainer.kb import load_knowledge_base

    return fill(load_knowledge_base().cause_info(cause).fix, values)
