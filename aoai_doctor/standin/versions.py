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
