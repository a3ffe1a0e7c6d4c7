"""What the stand-in's data plane accepts as ``api-version``: the product's own table
(:mod:`aoai_doctor.azure.api_versions`), so the doctor and the service it is tested against agree."""

from __future__ import annotations

from aoai_doctor.azure import api_versions as av


def serves(version: str, operation: str) -> bool:
    """Whether a ``/openai/deployments/...`` route for ``operation`` exists under ``version``."""
    if av.classify(version).lifecycle not in (av.Lifecycle.GA, av.Lifecycle.PREVIEW):
        return False
    return not (operation == "chat/completions" and not av.has_chat_route(version))


def serves_v1(version: str | None) -> bool:
    """Whether the ``/openai/v1/`` surface accepts this ``api-version`` (none, ``v1`` or ``preview``)."""
    return version in (None, "", "v1", "preview")


#: The first api-version of the dated ``/openai/responses`` route (Azure OpenAI API version lifecycle).
FIRST_RESPONSES = "2025-03-01-preview"


def serves_responses(version: str) -> bool | None:
    """Whether ``/openai/responses?api-version=version`` answers: ``True``; ``False`` for a known version
    older than 2025-03-01-preview (a 400 naming the minimum); ``None`` for a version the service does not
    serve at all (the 404 of any unknown route)."""
    info = av.classify(version)
    if info.lifecycle not in (av.Lifecycle.GA, av.Lifecycle.PREVIEW):
        return None
    return info.date >= FIRST_RESPONSES[:10]
