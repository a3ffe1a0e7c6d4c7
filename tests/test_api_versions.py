"""Unit tests for the api-version table."""

from __future__ import annotations

import pytest

from aoai_doctor.azure import api_versions as av
from aoai_doctor.azure.endpoints import MODELS_INFERENCE_VERSION


@pytest.mark.parametrize(
    ("value", "lifecycle"),
    [
        ("2024-10-21", av.Lifecycle.GA),
        ("2022-12-01", av.Lifecycle.GA),
        ("2025-04-01-preview", av.Lifecycle.PREVIEW),
        ("2023-03-15-preview", av.Lifecycle.RETIRED),
        ("2024-07-18", av.Lifecycle.UNKNOWN),
    ],
)
def test_classify(value: str, lifecycle: av.Lifecycle) -> None:
    info = av.classify(value)
    assert info.well_formed and info.lifecycle is lifecycle


@pytest.mark.parametrize("value", ["2024-10-21-Preview", "2024-13-01", "24-10-21", "v1", "2024-10-21 ", ""])
def test_malformed(value: str) -> None:
    assert not av.classify(value).well_formed


def test_chat_route() -> None:
    assert not av.has_chat_route("2022-12-01")
    assert av.has_chat_route("2023-05-15")


@pytest.mark.parametrize(("value", "meant"), [
    ("2024-10-21-Preview", None), ("2025-04-01-Preview", "2025-04-01-preview"), ("2024_10_21", "2024-10-21"),
    ("'2024-06-01'", "2024-06-01"), ("2025-01-01preview", "2025-01-01-preview"), ("nonsense", None)])
def test_near_miss(value: str, meant: str | None) -> None:
    assert av.near_miss(value) == meant


def test_v1_values_are_the_specs() -> None:
    # specification/ai/data-plane/OpenAI.v1: AzureAIFoundryModelsApiVersion is [v1, preview]; nothing documents latest.
    assert av.V1_VALUES == ("v1", "preview")
    assert "latest" not in av.V1_VALUES


def test_model_inference_version() -> None:
    assert av.MODELS_INFERENCE == (MODELS_INFERENCE_VERSION,) == ("2024-05-01-preview",)
    assert av.classify(MODELS_INFERENCE_VERSION).lifecycle is av.Lifecycle.PREVIEW

