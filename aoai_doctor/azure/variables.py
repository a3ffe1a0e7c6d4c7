"""The variables apps keep their Azure OpenAI settings under, beyond the openai SDK's own names, and
how a name that is nearly one of them is recognised. Knowledge only, no I/O.

Checked against public sources:

- openai 1.x: AzureOpenAI() reads AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN and
  OPENAI_API_VERSION; OpenAI() reads OPENAI_BASE_URL and OPENAI_API_KEY, which Microsoft's v1 examples
  point at https://NAME.openai.azure.com/openai/v1/ (read here only when the URL is an Azure one).
- openai 0.x (openai/__init__.py up to 0.28): OPENAI_API_TYPE ("azure"; "azure_ad" when OPENAI_API_KEY
  holds an Entra ID token), OPENAI_API_BASE, OPENAI_API_KEY, OPENAI_API_VERSION.
- azd templates: Azure-Samples/azure-search-openai-demo app/backend/app.py reads AZURE_OPENAI_SERVICE
  (the resource name: the endpoint is https://{AZURE_OPENAI_SERVICE}.openai.azure.com),
  AZURE_OPENAI_CHATGPT_DEPLOYMENT and AZURE_OPENAI_EMB_DEPLOYMENT (so does
  Azure-Samples/openai-chat-app-quickstart src/quartapp/chat.py); Azure-Samples' chat and agent demos
  read AZURE_OPENAI_CHAT_DEPLOYMENT and AZURE_OPENAI_EMBEDDING_DEPLOYMENT.
- Semantic Kernel: microsoft/semantic-kernel python/semantic_kernel/connectors/ai/open_ai/settings/
  azure_open_ai_settings.py, prefix AZURE_OPENAI_: CHAT_DEPLOYMENT_NAME, EMBEDDING_DEPLOYMENT_NAME,
  API_VERSION (and ENDPOINT, API_KEY).
- LangChain: langchain-openai's AzureChatOpenAI (libs/partners/openai/langchain_openai/chat_models/
  azure.py) reads AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN
  but no deployment variable; the code around it commonly passes AZURE_OPENAI_DEPLOYMENT_NAME.
- Microsoft Foundry: Azure/azure-sdk-for-python sdk/ai/azure-ai-projects README: FOUNDRY_PROJECT_ENDPOINT
  and FOUNDRY_MODEL_NAME (a deployment, called with responses.create); earlier samples named the
  project endpoint AZURE_AI_PROJECT_ENDPOINT.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from aoai_doctor.azure import endpoints as ep
from aoai_doctor.model import Setting

ENV_ENDPOINT = ("AZURE_OPENAI_ENDPOINT",)
ENV_SERVICE = ("AZURE_OPENAI_SERVICE",)
"""The resource name alone; the endpoint is ``https://NAME.openai.azure.com``."""
ENV_BASE_URL = ("OPENAI_BASE_URL",)
"""The v1 pattern's base URL; read only when it names an Azure (or loopback) host."""
ENV_LEGACY_BASE = ("OPENAI_API_BASE",)
"""openai 0.x; read only with ``OPENAI_API_TYPE`` azure or azure_ad."""
ENV_LEGACY_TYPE = ("OPENAI_API_TYPE",)
ENV_PROJECT = ("FOUNDRY_PROJECT_ENDPOINT", "AZURE_AI_PROJECT_ENDPOINT")
"""A Foundry project; the target when no Azure OpenAI endpoint is named."""
ENV_DEPLOYMENTS: tuple[tuple[str, str | None], ...] = (
    ("AZURE_OPENAI_DEPLOYMENT", None),
    ("AZURE_OPENAI_DEPLOYMENT_NAME", None),
    ("AZURE_OPENAI_CHATGPT_DEPLOYMENT", "chat"),
    ("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat"),
    ("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME", "chat"),
    ("AZURE_OPENAI_EMB_DEPLOYMENT", "embedding"),
    ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "embedding"),
    ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME", "embedding"),
    ("FOUNDRY_MODEL_NAME", "responses"),
)
"""Every deployment variable and the kind of model its name implies (None: unknown, so
``--deployment-kind`` or ``AOAI_DOCTOR_DEPLOYMENT_KIND`` decides, else chat). Each distinct
deployment named is checked, on its kind's route."""
ENV_OPENAI_KEY = ("OPENAI_API_KEY",)
"""The key with the v1 pattern's Azure base URL, or with openai 0.x's ``OPENAI_API_TYPE=azure``."""
ENV_NAMES: tuple[str, ...] = tuple(dict.fromkeys((
    *ENV_ENDPOINT, *ENV_SERVICE, *ENV_BASE_URL, *ENV_LEGACY_BASE, *ENV_LEGACY_TYPE, *ENV_PROJECT,
    *(name for name, _ in ENV_DEPLOYMENTS), "OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_API_KEY",
    *ENV_OPENAI_KEY, "AZURE_OPENAI_AD_TOKEN", "AZURE_OPENAI_SCOPE", "AOAI_DOCTOR_AUTH", "AOAI_DOCTOR_DEPLOYMENT_KIND",
    "AOAI_DOCTOR_GATEWAY_KEY", "AOAI_DOCTOR_GATEWAY_KEY_HEADER", "AOAI_DOCTOR_ARM_ENDPOINT",
)))
"""Every variable the doctor reads for the target (the openai SDK's, these, and the doctor's own): a
name close to one of these is a likely typo."""

_LOOKALIKES = {"AZURE_OPENAI_KEY": "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_VERSION": "AZURE_OPENAI_API_VERSION",
               "AZURE_OPENAI_BASE": "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_BASE": "AZURE_OPENAI_ENDPOINT",
               "AZURE_OPENAI_URL": "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_AD_TOKEN_PROVIDER": "AZURE_OPENAI_AD_TOKEN"}
"""Names apps often write for one the SDKs read (beyond typos)."""


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@functools.lru_cache(maxsize=1024)  # a fleet asks again for every target, of the same environment
def close_name(name: str, known: tuple[str, ...]) -> str | None:
    """The variable the doctor reads that ``name`` most likely meant: the same but for case, a typo
    (at most two edits), or a well-known near miss; None when ``name`` is known or not close."""
    if name in known or not any(part in name.upper() for part in ("OPENAI", "FOUNDRY", "AI_PROJECT", "AOAI")):
        return None
    upper = name.upper()
    if upper in known:
        return upper
    if upper in _LOOKALIKES:
        return _LOOKALIKES[upper]
    best = min(known, key=lambda k: _edits(upper, k, 2))
    if _edits(upper, best, 2) <= 2 and best not in upper:  # AZURE_OPENAI_API_KEY_2 is another key, not a typo
        return best
    return None


def env_endpoints(environ: Mapping[str, str], legacy_type: str, label: Callable[[str], str], notices: list[Setting],
                  flag_given: bool = False) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The endpoints the environment names, by variable, in precedence order: an Azure OpenAI endpoint
    (``AZURE_OPENAI_ENDPOINT``, azd's ``AZURE_OPENAI_SERVICE``, an Azure ``OPENAI_BASE_URL``, openai 0.x's
    ``OPENAI_API_BASE``), and apart, Foundry project endpoints. A variable set but not read is a notice."""
    named = [(n, environ[n]) for n in ENV_ENDPOINT if environ.get(n, "").strip()]
    for name in ENV_SERVICE:
        value = environ.get(name, "").strip()
        if value:
            if not ep.valid_subdomain(value):
                notices.append(Setting(f"{name} should be the resource name alone: azd templates build "
                                       f"https://{{{name}}}.openai.azure.com from it", label(name)))
            named.append((name, f"https://{value}.openai.azure.com"))
    for name in ENV_BASE_URL:
        value = environ.get(name, "").strip()
        if value:
            host = family(value)
            if host is not None and host not in (ep.HostFamily.OPENAI_PLATFORM, ep.HostFamily.OTHER):
                named.append((name, value))
            else:
                notices.append(Setting(f"{name} is not read: it does not name an Azure OpenAI endpoint, so the "
                                       "openai SDK's OpenAI() calls that host, not Azure", label(name)))
    for name in ENV_LEGACY_BASE:
        value = environ.get(name, "").strip()
        if value:
            if legacy_type in ("azure", "azure_ad", "azuread"):
                named.append((name, value))
            else:
                notices.append(Setting(f"{name} is not read: OPENAI_API_TYPE is {legacy_type or 'not set'}, not "
                                       "azure (openai 0.x then calls OpenAI's own API)", label(name)))
    projects = [(n, environ[n]) for n in ENV_PROJECT if environ.get(n, "").strip()]
    if named and projects and not flag_given:
        notices.append(Setting(f"{projects[0][0]} is set too; this run checks {named[0][0]} (run with --endpoint "
                               "set to the project endpoint to check the project)", label(projects[0][0])))
    return named, projects


def openai_key_meaning(legacy_type: str, named: list[tuple[str, str]]) -> str | None:
    """What ``OPENAI_API_KEY`` holds for Azure: ``key`` with the v1 pattern's Azure base URL or openai
    0.x's api_type azure; ``token`` with api_type azure_ad (openai 0.x sent it as a bearer token)."""
    if legacy_type in ("azure_ad", "azuread"):
        return "token"
    return "key" if legacy_type == "azure" or any(n in ENV_BASE_URL for n, _ in named) else None


def env_deployments(environ: Mapping[str, str], kind: str | None) -> list[tuple[str, str, str | None]]:
    """``(variable, deployment, kind)`` for each distinct deployment the environment names; ``kind``
    (``--deployment-kind``) applies where the variable's name implies none."""
    found: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for name, implied in ENV_DEPLOYMENTS:
        value = environ.get(name, "").strip()
        if value:
            dep_kind = implied or kind
            found.setdefault((value, dep_kind or "chat"), (name, value, dep_kind))
    return list(found.values())


def name_notices(environ: Mapping[str, str], origins: Mapping[str, str]) -> list[Setting]:
    """A notice for each variable whose name is close to one the doctor reads (at most ten)."""
    notices = []
    for name in sorted(environ):
        meant = close_name(name, ENV_NAMES)
        if meant is not None and not environ.get(meant):
            notices.append(Setting(f"{name} is not a variable the doctor reads (did you mean {meant}?)",
                                   origins.get(name, "environment")))
    return notices[:10]


def family(url: str) -> ep.HostFamily | None:
    try:
        return ep.parse(url).family
    except ep.EndpointParseError:
        return None
