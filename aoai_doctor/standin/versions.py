"""The data plane's ``api-version`` table: generally available, preview and retired versions."""

from __future__ import annotations

import enum


class VersionStatus(enum.Enum):
    """Lifecycle of an ``api-version`` value."""

    GA = "ga"
    PREVIEW = "preview"
    RETIRED = "retired"
    UNKNOWN = "unknown"


GA_VERSIONS: tuple[str, ...] = ("2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21")

PREVIEW_VERSIONS: tuple[str, ...] = (
    "2023-06-01-preview",
    "2023-10-01-preview",
    "2024-02-15-preview",
    "2024-03-01-preview",
    "2024-04-01-preview",
    "2024-05-01-preview",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
)

#: Previews that stopped accepting requests (2024-07-01 retirement and earlier).
RETIRED_VERSIONS: tuple[str, ...] = (
    "2022-03-01-preview",
    "2022-06-01-preview",
    "2023-03-15-preview",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01-preview",
    "2023-09-15-preview",
    "2023-11-01-preview",
    "2023-12-01-preview",
)

#: Versions that predate the chat completions route.
_BEFORE_CHAT = frozenset({"2022-12-01", "2022-03-01-preview", "2022-06-01-preview"})


def status(version: str) -> VersionStatus:
    """Where ``version`` stands in the lifecycle."""
    if version in GA_VERSIONS:
        return VersionStatus.GA
    if version in PREVIEW_VERSIONS:
        return VersionStatus.PREVIEW
    if version in RETIRED_VERSIONS:
        return VersionStatus.RETIRED
    return VersionStatus.UNKNOWN


def serves(version: str, operation: str) -> bool:
    """Whether a ``/openai/deployments/...`` route for ``operation`` exists under ``version``."""
    if status(version) not in (VersionStatus.GA, VersionStatus.PREVIEW):
        return False
    return not (operation == "chat/completions" and version in _BEFORE_CHAT)


def serves_v1(version: str | None) -> bool:
    """Whether the ``/openai/v1/`` surface accepts this ``api-version`` (none, ``v1`` or ``preview``)."""
    return version in (None, "", "v1", "preview")
