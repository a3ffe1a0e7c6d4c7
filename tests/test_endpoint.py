"""Unit tests for reading endpoint values."""

from __future__ import annotations

import pytest

from aoai_doctor.azure import endpoints as ep


@pytest.mark.parametrize(
    ("host", "family", "cloud", "name"),
    [
        ("myres.openai.azure.com", ep.HostFamily.OPENAI, ep.Cloud.PUBLIC, "myres"),
        ("myres.openai.azure.us", ep.HostFamily.OPENAI, ep.Cloud.US_GOV, "myres"),
        ("myres.openai.azure.cn", ep.HostFamily.OPENAI, ep.Cloud.CHINA, "myres"),
        ("ai-svc.cognitiveservices.azure.com", ep.HostFamily.COGNITIVE_SERVICES, ep.Cloud.PUBLIC, "ai-svc"),
        ("found.services.ai.azure.com", ep.HostFamily.FOUNDRY, ep.Cloud.PUBLIC, "found"),
        ("eastus.api.cognitive.microsoft.com", ep.HostFamily.REGIONAL, ep.Cloud.PUBLIC, "eastus"),
        ("virginia.api.cognitive.microsoft.us", ep.HostFamily.REGIONAL, ep.Cloud.US_GOV, "virginia"),
        ("chinaeast2.api.cognitive.azure.cn", ep.HostFamily.REGIONAL, ep.Cloud.CHINA, "chinaeast2"),
        ("contoso.azure-api.net", ep.HostFamily.APIM, ep.Cloud.UNKNOWN, "contoso"),
        ("api.openai.com", ep.HostFamily.OPENAI_PLATFORM, ep.Cloud.UNKNOWN, None),
        ("127.0.0.1", ep.HostFamily.LOOPBACK, ep.Cloud.UNKNOWN, None),
        ("localhost", ep.HostFamily.LOOPBACK, ep.Cloud.UNKNOWN, None),
        ("example.com", ep.HostFamily.OTHER, ep.Cloud.UNKNOWN, None),
        ("openai.azure.com", ep.HostFamily.OTHER, ep.Cloud.UNKNOWN, None),
    ],
)
def test_classify_host(host: str, family: ep.HostFamily, cloud: ep.Cloud, name: str | None) -> None:
    assert ep.classify_host(host) == (family, cloud, name)


def test_plain_resource_endpoint() -> None:
    info = ep.parse("https://myres.openai.azure.com")
    assert info.shape is ep.PathShape.ROOT
    assert info.base_url == "https://myres.openai.azure.com"
    assert info.default_scope == "https://cognitiveservices.azure.com/.default"
    assert not (info.trailing_slash or info.doubled_slash or info.quoted_or_padded or info.placeholder)


def test_pasted_request_url_is_taken_apart() -> None:
    info = ep.parse("https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
    assert info.shape is ep.PathShape.REQUEST_URL
    assert (info.base_url, info.deployment, info.operation, info.api_version) == (
        "https://myres.openai.azure.com", "gpt-4o", "chat/completions", "2024-10-21")


def test_v1_base_url_behind_apim_keeps_the_prefix() -> None:
    info = ep.parse("https://contoso.azure-api.net/aoai/openai/v1/")
    assert info.is_v1
    assert info.base_url == "https://contoso.azure-api.net/aoai"


@pytest.mark.parametrize(
    ("raw", "shape"),
    [
        ("https://myres.openai.azure.com/openai", ep.PathShape.OPENAI_SUFFIX),
        ("https://myres.openai.azure.com/openai/openai/", ep.PathShape.DOUBLED_OPENAI),
        ("https://myres.services.ai.azure.com/api/projects/proj1", ep.PathShape.FOUNDRY_PROJECT),
        ("https://myres.openai.azure.com/something", ep.PathShape.PREFIX),
    ],
)
def test_path_shapes(raw: str, shape: ep.PathShape) -> None:
    assert ep.parse(raw).shape is shape


def test_doubled_slash_trailing_slash_quotes_and_placeholder() -> None:
    assert ep.parse("https://myres.openai.azure.com//openai").doubled_slash
    assert ep.parse("https://myres.openai.azure.com/").trailing_slash
    quoted = ep.parse('"https://myres.openai.azure.com" ')
    assert quoted.quoted_or_padded and quoted.base_url == "https://myres.openai.azure.com"
    assert ep.parse("https://<your-resource-name>.openai.azure.com").placeholder


def test_missing_scheme_is_read_as_a_host() -> None:
    info = ep.parse("myres.openai.azure.com")
    assert info.scheme == "" and info.family is ep.HostFamily.OPENAI


def test_foundry_project_scope() -> None:
    assert ep.parse("https://x.services.ai.azure.com/api/projects/p").default_scope == "https://ai.azure.com/.default"


@pytest.mark.parametrize("raw", ["", "https://", "https://host:notaport", "/just/a/path"])
def test_not_a_url(raw: str) -> None:
    with pytest.raises(ep.EndpointParseError):
        ep.parse(raw)


@pytest.mark.parametrize(("name", "valid"), [("myres", True), ("my-res-01", True), ("-bad", False),
                                              ("bad-", False), ("a", False), ("under_score", False)])
def test_valid_subdomain(name: str, valid: bool) -> None:
    assert ep.valid_subdomain(name) is valid


@pytest.mark.parametrize(
    ("raw", "project", "operation"),
    [
        ("https://NAME.services.ai.azure.com/api/projects/P", "P", None),
        ("https://name.services.ai.azure.com/api/projects/_project/", "_project", None),
        ("https://name.services.ai.azure.com/api/projects/P/openai/v1", "P", None),
        ("https://name.services.ai.azure.com/api/projects/P/openai/v1/", "P", None),
        ("https://name.services.ai.azure.com/api/projects/P/openai/v1/chat/completions", "P", "chat/completions"),
    ],
)
def test_foundry_project_endpoint_and_its_openai_surface(raw: str, project: str, operation: str | None) -> None:
    info = ep.parse(raw)
    assert (info.shape, info.project, info.operation) == (ep.PathShape.FOUNDRY_PROJECT, project, operation)
    assert info.base_url == f"https://name.services.ai.azure.com/api/projects/{project}"
    assert info.v1_base_url == f"https://name.services.ai.azure.com/api/projects/{project}/openai/v1"
    assert info.is_v1 and not info.models_inference
    assert info.default_scope == "https://ai.azure.com/.default"


def test_project_path_is_read_only_on_hosts_that_serve_projects() -> None:
    on_resource = ep.parse("https://myres.openai.azure.com/api/projects/p")
    assert on_resource.shape is ep.PathShape.PREFIX and on_resource.project is None
    assert ep.looks_like_project_path(on_resource.path)
    assert ep.parse("http://127.0.0.1:8443/api/projects/p").shape is ep.PathShape.FOUNDRY_PROJECT
    assert not ep.looks_like_project_path("/api/projects")


def test_v1_base_url_only_for_the_v1_shapes() -> None:
    assert ep.parse("https://myres.openai.azure.com/openai/v1/").v1_base_url == "https://myres.openai.azure.com/openai/v1"
    assert ep.parse("https://contoso.azure-api.net/aoai/openai/v1").v1_base_url == (
        "https://contoso.azure-api.net/aoai/openai/v1")
    for raw in ("https://myres.openai.azure.com", "https://myres.openai.azure.com/openai/deployments/d/chat/completions",
                "https://myres.services.ai.azure.com/models"):
        assert ep.parse(raw).v1_base_url is None and not ep.parse(raw).is_v1


@pytest.mark.parametrize(
    ("raw", "operation", "version"),
    [
        ("https://myres.services.ai.azure.com/models", None, None),
        ("https://myres.services.ai.azure.com/models/", None, None),
        ("https://myres.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview",
         "chat/completions", "2024-05-01-preview"),
        ("https://myres.services.ai.azure.com/models/embeddings", "embeddings", None),
    ],
)
def test_model_inference_route(raw: str, operation: str | None, version: str | None) -> None:
    info = ep.parse(raw)
    assert info.shape is ep.PathShape.MODELS_INFERENCE and info.models_inference
    assert info.base_url == "https://myres.services.ai.azure.com"
    assert (info.operation, info.api_version) == (operation, version)
    assert info.default_scope == "https://cognitiveservices.azure.com/.default"
    assert not info.is_v1


def test_models_path_elsewhere_is_just_a_path() -> None:
    assert ep.parse("https://myres.openai.azure.com/models").shape is ep.PathShape.PREFIX
    assert ep.known_models_operation("chat/completions") and ep.known_models_operation("info")
    assert not ep.known_models_operation("responses")


def test_azure_openai_client_on_a_v1_base_url() -> None:
    info = ep.parse("https://myres.openai.azure.com/openai/v1/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
    assert info.shape is ep.PathShape.V1_DEPLOYMENTS
    assert (info.base_url, info.deployment, info.operation, info.api_version) == (
        "https://myres.openai.azure.com", "gpt-4o", "chat/completions", "2024-10-21")
    assert not info.is_v1 and info.v1_base_url is None
    behind_project = ep.parse("https://n.services.ai.azure.com/api/projects/p/openai/v1/deployments/d/chat/completions")
    assert behind_project.shape is ep.PathShape.V1_DEPLOYMENTS
    assert behind_project.base_url == "https://n.services.ai.azure.com/api/projects/p"
