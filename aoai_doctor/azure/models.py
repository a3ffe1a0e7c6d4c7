"""Model names: the ones people put where a deployment name belongs, reasoning models, and retirements."""

from __future__ import annotations

import datetime as dt
import enum
import re

from aoai_doctor.record import record

# Model names people put where the deployment name belongs. Azure spells GPT-3.5 "gpt-35".
MODEL_NAMES = frozenset({
    "gpt-35-turbo", "gpt-35-turbo-16k", "gpt-35-turbo-instruct", "gpt-3.5-turbo", "gpt-3.5-turbo-16k",
    "gpt-3.5-turbo-instruct", "gpt-4", "gpt-4-32k", "gpt-4-turbo", "gpt-4-vision-preview", "gpt-4o",
    "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4.5-preview", "gpt-5", "gpt-5-mini",
    "gpt-5-nano", "gpt-5-chat", "gpt-5.1", "gpt-5.2", "o1", "o1-mini", "o1-preview", "o3", "o3-mini", "o4-mini",
    "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large", "davinci-002",
    "babbage-002", "dall-e-3", "whisper", "tts", "tts-hd",
})

# Reasoning models (o-series, gpt-5 family except the -chat variants) refuse ``max_tokens`` and
# non-default sampling parameters, and want a budget of at least 16 tokens (service reference §9.3).
# A name is only a first guess: the test call adapts to what the service's answer names.
_REASONING = re.compile(r"^(?:o[1-9](?!\d)|gpt-5(?:\.\d+)?(?![.\d])(?!-chat))", re.I)


def is_reasoning(name: str) -> bool:
    """Whether a model or deployment name looks like a reasoning model (``o3-mini``, ``gpt-5.1``)."""
    return bool(_REASONING.match(name.strip()))


def kind_of_model(name: str) -> str | None:
    """The deployment kind a model is called as (``chat``, ``completion``, ``embedding``), or None for a model
    the test call cannot exercise (images, audio)."""
    name = name.strip().lower()
    if name.startswith("text-embedding"):
        return "embedding"
    if name in ("davinci-002", "babbage-002") or name.endswith("-instruct"):
        return "completion"
    if name.startswith(("dall-e", "whisper", "tts", "sora", "gpt-image")) or "realtime" in name or "audio" in name:
        return None
    return "chat"


class Lifecycle(str, enum.Enum):
    """Where a model version stands."""

    RETIRED = "retired"
    """Deployments of it answer errors (404 Resource not found on every route)."""
    DEPRECATING = "deprecating"
    """Announced: no new deployments, retired on or after ``on``."""


LEGACY_PAGE = "learn.microsoft.com/azure/foundry/openai/concepts/legacy-models"
RETIREMENTS_PAGE = ("learn.microsoft.com/azure/foundry/openai/concepts/model-retirements "
                    "(MicrosoftDocs/azure-ai-docs fd2cd7f)")


@record
class Retirement:
    """One row of the retirement table."""

    model: str
    version: str | None
    """None: every version of the model."""
    lifecycle: Lifecycle
    on: dt.date
    """Retired on (RETIRED), or retired no earlier than (DEPRECATING)."""
    replacement: str
    """``gpt-4o (2024-11-20)``: the model the docs suggest, with its version when they name one."""
    source: str

    @property
    def replacement_model(self) -> str:
        """``gpt-4o``."""
        return model_and_version(self.replacement)[0]

    @property
    def replacement_version(self) -> str | None:
        """``2024-11-20``, when the docs name a version."""
        return model_and_version(self.replacement)[1]

    def names(self) -> tuple[str, ...]:
        """How deployments of it are commonly named (``gpt-4-0613``, ``gpt-4``)."""
        if self.version is None:
            return (self.model,)
        return (f"{self.model}-{self.version}", f"{self.model}{self.version}", f"{self.model}_{self.version}")

    def describe(self) -> str:
        """``gpt-4 0613`` or ``davinci-002``."""
        return self.model if self.version is None else f"{self.model} {self.version}"


def model_and_version(text: str) -> tuple[str, str | None]:
    """``gpt-4o (2024-11-20)`` as ``("gpt-4o", "2024-11-20")``; ``o1`` as ``("o1", None)``."""
    model, _, version = text.partition(" (")
    return model, version.rstrip(")") or None


def _row(model: str, version: str | None, lifecycle: Lifecycle, on: str, replacement: str,
         source: str) -> Retirement:
    return Retirement(model, version, lifecycle, dt.date.fromisoformat(on), replacement, source)


_R, _D = Lifecycle.RETIRED, Lifecycle.DEPRECATING
# Retired rows follow the legacy-models page; deprecating rows the model-retirements page, whose
# dates are "no earlier than". gpt-35-turbo 0125 is not listed: the legacy-models page offers it as a
# replacement, though a portal warning quoted in BerriAI/litellm#11116 calls it retired on 2025-04-30.
RETIREMENTS: tuple[Retirement, ...] = (
    _row("o1-preview", None, _R, "2025-07-28", "o1", LEGACY_PAGE),
    _row("gpt-4.5-preview", None, _R, "2025-07-14", "gpt-4.1 (2025-04-14)", LEGACY_PAGE),
    _row("gpt-4", "0314", _R, "2025-06-06", "gpt-4o (2024-11-20)", LEGACY_PAGE),
    _row("gpt-4-32k", "0314", _R, "2025-06-06", "gpt-4o (2024-11-20)", LEGACY_PAGE),
    _row("gpt-4", "0613", _R, "2025-06-06", "gpt-4o (2024-11-20)", LEGACY_PAGE),
    _row("gpt-4-32k", "0613", _R, "2025-06-06", "gpt-4o (2024-11-20)", LEGACY_PAGE),
    _row("gpt-35-turbo-16k", "0613", _R, "2025-04-30", "gpt-4.1-mini (2025-04-14)", LEGACY_PAGE),
    _row("gpt-35-turbo", "0301", _R, "2025-02-13", "gpt-4o-mini (2024-07-18)", LEGACY_PAGE),
    _row("gpt-35-turbo", "0613", _R, "2025-02-13", "gpt-4o-mini (2024-07-18)", LEGACY_PAGE),
    _row("babbage-002", None, _R, "2025-01-27", "gpt-4o-mini (2024-07-18)", LEGACY_PAGE),
    _row("davinci-002", None, _R, "2025-01-27", "gpt-4o-mini (2024-07-18)", LEGACY_PAGE),
    *(_row(name, None, _R, "2024-06-14", "gpt-35-turbo-instruct (0914)", LEGACY_PAGE) for name in (
        "text-davinci-003", "text-davinci-002", "text-davinci-001", "code-davinci-002", "code-cushman-001",
        "text-ada-001", "text-babbage-001", "text-curie-001", "ada", "babbage", "curie", "davinci")),
    _row("gpt-4o", "2024-05-13", _D, "2025-06-30", "gpt-4.1 (2025-04-14)", RETIREMENTS_PAGE),
    _row("gpt-4o", "2024-08-06", _D, "2025-08-06", "gpt-4.1 (2025-04-14)", RETIREMENTS_PAGE),
    _row("gpt-4o", "2024-11-20", _D, "2026-03-01", "gpt-4.1 (2025-04-14)", RETIREMENTS_PAGE),
    _row("gpt-4o-mini", "2024-07-18", _D, "2025-08-16", "gpt-4.1-mini (2025-04-14)", RETIREMENTS_PAGE),
    _row("gpt-35-turbo-instruct", "0914", _D, "2025-05-31", "gpt-4.1-mini (2025-04-14)", RETIREMENTS_PAGE),
    _row("o1", "2024-12-17", _D, "2025-12-17", "o3 (2025-04-16)", RETIREMENTS_PAGE),
    _row("o3-mini", "2025-01-31", _D, "2026-02-01", "o4-mini (2025-04-16)", RETIREMENTS_PAGE),
)
TABLE_AS_OF = "2026-01"

# Retired for good on 2024-06-14: the davinci family (the ids AOAI104 warns about by name).
RETIRED_MODELS = frozenset(r.model for r in RETIREMENTS if r.lifecycle is _R and r.version is None
                           and r.on.year == 2024)


def retirement(model: str, version: str | None = None) -> Retirement | None:
    """The table's row for a model and version (``gpt-4``, ``0613``), if it has one."""
    model = model.strip().lower()
    for row in RETIREMENTS:
        if row.model == model and (row.version is None or row.version == (version or "").strip().lower()):
            return row
    return None


def retirement_by_name(deployment: str) -> Retirement | None:
    """The row a deployment's own name points at (``gpt-4-0613``, ``text-davinci-003``), if one does: a
    hint only, since a deployment keeps its name when its model is upgraded. A bare model name with retired
    and live versions (``gpt-4``), or a one-word family name (``ada``, a common name for an embeddings
    deployment), points at nothing."""
    name = deployment.strip().lower()
    return next((row for row in RETIREMENTS if name in row.names() and (row.version or "-" in row.model)), None)


def current_replacement(row: Retirement, today: dt.date) -> str:
    """The replacement to deploy today: the table's suggestion, followed on while that one is itself past
    its date (gpt-35-turbo 0613 -> gpt-4o-mini 2024-07-18 -> gpt-4.1-mini 2025-04-14)."""
    seen = {row.describe()}
    while True:
        nxt = retirement(row.replacement_model, row.replacement_version)
        if nxt is None or nxt.on > today or nxt.describe() in seen:
            return row.replacement
        seen.add(nxt.describe())
        row = nxt
