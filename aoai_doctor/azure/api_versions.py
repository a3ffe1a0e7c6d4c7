"""What is known about Azure OpenAI ``api-version`` values: GA, preview, retired.

Source: Azure/azure-rest-api-specs (inference and authoring spec folders) and the Azure OpenAI
API version lifecycle and deprecation pages, as collected in the project's service reference.
Table as of 2025-04 (the last dated preview, 2025-04-01-preview; later previews ship on the v1
surface). The service drifts: an unknown version is reported as unknown, never as wrong.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

TABLE_AS_OF = "2025-04"

_FORMAT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview)?$")

GA: tuple[str, ...] = ("2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21")
LATEST_GA = GA[-1]

PREVIEW: tuple[str, ...] = (
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
LATEST_PREVIEW = PREVIEW[-1]

# Previews that stopped accepting requests (retired 2024-07-01), plus the early ones.
RETIRED: tuple[str, ...] = (
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

# The first version that has the chat completions route.
FIRST_CHAT = "2023-03-15-preview"
# Values the v1 surface (``/openai/v1``) accepts, besides none at all.
V1_VALUES: tuple[str, ...] = ("v1", "preview", "latest")


class Lifecycle(str, enum.Enum):
    """Where a version stands."""

    GA = "ga"
    PREVIEW = "preview"
    RETIRED = "retired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A parsed ``api-version`` value."""

    value: str
    well_formed: bool
    lifecycle: Lifecycle
    is_preview: bool

    @property
    def date(self) -> str:
        """The ``YYYY-MM-DD`` part (empty when malformed)."""
        return self.value[:10] if self.well_formed else ""


def classify(value: str) -> VersionInfo:
    """Parse and place an api-version value in the table."""
    match = _FORMAT.match(value)
    well_formed = bool(match) and _valid_date(value[:10])
    if not well_formed:
        return VersionInfo(value, False, Lifecycle.UNKNOWN, False)
    is_preview = value.endswith("-preview")
    if value in GA:
        lifecycle = Lifecycle.GA
    elif value in PREVIEW:
        lifecycle = Lifecycle.PREVIEW
    elif value in RETIRED:
        lifecycle = Lifecycle.RETIRED
    else:
        lifecycle = Lifecycle.UNKNOWN
    return VersionInfo(value, True, lifecycle, is_preview)


def has_chat_route(value: str) -> bool:
    """Whether the version knows ``/chat/completions`` (from 2023-03-15-preview on)."""
    return classify(value).date >= FIRST_CHAT[:10]


def near_miss(value: str) -> str | None:
    """A known version that a malformed value was probably meant to be (``2024-10-21-Preview`` …)."""
    cleaned = value.strip().strip("\"'").lower().replace("_", "-").replace("/", "-").replace(".", "-")
    cleaned = re.sub(r"\s+", "", cleaned)
    if cleaned.endswith("preview") and not cleaned.endswith("-preview"):
        cleaned = cleaned[: -len("preview")].rstrip("-") + "-preview"
    for known in (*GA, *PREVIEW, *RETIRED):
        if cleaned == known:
            return known
    return None


def _valid_date(text: str) -> bool:
    year, month, day = (int(p) for p in text.split("-"))
    return 2020 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
