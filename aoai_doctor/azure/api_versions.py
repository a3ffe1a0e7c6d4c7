"""What is known about Azure OpenAI ``api-version`` values: GA, preview, retired; and the values the v1
API and the Model Inference route take.

Source: Azure/azure-rest-api-specs (inference and authoring spec folders) and the Azure OpenAI
API version lifecycle and deprecation pages, as collected in the project's service reference.
Table as of 2025-04 (the last dated preview, 2025-04-01-preview; later previews ship on the v1
surface). The service drifts: an unknown version is reported as unknown, never as wrong.

No dated preview after 2025-04-01-preview is added: neither the spec folders
(``specification/cognitiveservices/data-plane/AzureOpenAI/inference/preview/``) nor the lifecycle
page's changelog (MicrosoftDocs/azure-ai-docs ``articles/ai-foundry/openai/api-version-lifecycle.md``,
08/2025: "Changes between v1 preview release and 2025-04-01-preview") names one. A user who tried
``2025-04-14-preview`` got "API version not supported" (mindsdb/mindshub#11563, in the reference).
"""

from __future__ import annotations

import enum
import re

from aoai_doctor.azure.endpoints import MODELS_INFERENCE_VERSION, EndpointInfo, openai_v1_client
from aoai_doctor.model import Finding, Setting, Severity
from aoai_doctor.record import record

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
# Values the v1 surface (``/openai/v1``) accepts, besides none at all: the spec's
# ``AzureAIFoundryModelsApiVersion`` enum is ``[v1, preview]``, default ``v1`` (Azure/azure-rest-api-specs
# specification/ai/data-plane/OpenAI.v1/azure-v1-v1-generated.yaml). Nothing Microsoft publishes documents
# ``latest``: it appears only in third-party clients (BerriAI/litellm's tests route it to /openai/v1), with
# no report of the service accepting it. It is not a v1 value here.
V1_VALUES: tuple[str, ...] = ("v1", "preview")

# The Azure AI Model Inference route takes its own api-version (see endpoints.MODELS_INFERENCE_VERSION).
MODELS_INFERENCE: tuple[str, ...] = (MODELS_INFERENCE_VERSION,)


class Lifecycle(str, enum.Enum):
    """Where a version stands."""

    GA = "ga"
    PREVIEW = "preview"
    RETIRED = "retired"
    UNKNOWN = "unknown"


@record
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


# --- The v1 API and the Model Inference route ------------------------------------------------------------------------

def v1_version_findings(info: EndpointInfo, setting: Setting | None) -> tuple[Finding, ...]:
    """The api-version of a call to the v1 API (a v1 base URL or a Foundry project)."""
    surface = "Foundry project's OpenAI surface" if info.project else "v1 route"
    base = info.v1_base_url or f"{info.base_url}/openai/v1"
    if setting is None:
        return (Finding(Severity.INFO, f"{surface}: no api-version needed ({base})"),)
    value, source = setting.value, setting.source
    if value in V1_VALUES:
        return (Finding(Severity.INFO, f"{surface} with api-version={value} ({base})"),)
    drop = "drop --api-version" if source.startswith("flag ") else (
        f"unset {source[4:]}" if source.startswith("env ") else f"remove the api-version ({source})")
    if classify(value).well_formed or near_miss(value):
        return (Finding(
            Severity.WARNING,
            f"dated api-version {value} ({source}) with a v1 base URL: probably AzureOpenAI on {base}, "
            "which adds /deployments/{model} and gets 404",
            cause="api_version_invalid",
            fix=f"{openai_v1_client(base + '/', info.default_scope)}, and {drop}",
            detail="openai/openai-python#2584: the v1 API takes no api-version (api-version=preview for preview "
                   "features), and AzureOpenAI adds /deployments/{model} to a v1 base URL"),)
    return (Finding(
        Severity.WARNING, f"api-version {value!r} ({source}) is not a v1 API value; the spec's values are v1 and "
        "preview, or none", cause="api_version_invalid",
        fix=f"{drop}, or use api-version=preview for preview features",
        detail="the v1 spec's AzureAIFoundryModelsApiVersion enum is [v1, preview]; nothing Microsoft publishes "
               "documents other values such as 'latest'"),)


def models_inference_version_findings(info: EndpointInfo, setting: Setting | None) -> tuple[Finding, ...]:
    """The api-version of a call to the Model Inference route."""
    wanted = MODELS_INFERENCE_VERSION
    if setting is not None:
        value, source = setting.value, setting.source
    elif info.api_version:
        value, source = info.api_version, "the endpoint URL"
    else:
        return (Finding(Severity.INFO, f"the Model Inference route takes api-version={wanted}; none is configured, "
                        "so that one is assumed", detail="azure-ai-inference sends it by default"),)
    if value in MODELS_INFERENCE:
        return (Finding(Severity.INFO, f"api-version {value} ({source}): the Model Inference API's"),)
    return (Finding(
        Severity.WARNING, f"api-version {value} ({source}) is not the Model Inference API's ({wanted})",
        cause="api_version_invalid",
        fix=f"call {info.base_url}/models/chat/completions?api-version={wanted} (azure-ai-inference's default)",
        detail="the dated Azure OpenAI versions belong to the /openai/deployments routes"),)
