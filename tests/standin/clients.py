"""Real clients (azure-identity, openai, requests) configured the way a scenario's ``[client]`` says."""

from __future__ import annotations

import os
import ssl
from typing import Any

import httpx2
import openai
import pytest
import requests
from azure.core.credentials import TokenCredential
from azure.identity import (
    ClientSecretCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    SharedTokenCacheCredential,
    WorkloadIdentityCredential,
    get_bearer_token_provider,
)
from openai import AzureOpenAI, OpenAI

from aoai_doctor.standin import StandIn
from aoai_doctor.standin.scenario import CredentialKind, Operation

SCOPE = "https://cognitiveservices.azure.com/.default"


def credential_for(s: StandIn) -> TokenCredential:
    """The azure-identity credential the scenario's client uses (env already applied)."""
    kind = s.scenario.client.credential
    if kind in (CredentialKind.CLIENT_SECRET, CredentialKind.CLIENT_CERTIFICATE):
        return EnvironmentCredential(disable_instance_discovery=True)
    if kind is CredentialKind.WORKLOAD_IDENTITY:
        return WorkloadIdentityCredential()
    if kind is CredentialKind.SHARED_TOKEN_CACHE:
        return SharedTokenCacheCredential()
    if kind in (
        CredentialKind.MANAGED_IDENTITY_APP_SERVICE,
        CredentialKind.MANAGED_IDENTITY_IMDS,
        CredentialKind.MANAGED_IDENTITY_CLOUD_SHELL,
    ):
        selector = s.client_identity_selector()
        if "client_id" in selector:
            return ManagedIdentityCredential(client_id=selector["client_id"], retry_total=0)
        if selector:
            return ManagedIdentityCredential(identity_config=selector, retry_total=0)
        return ManagedIdentityCredential(retry_total=0)
    raise AssertionError(f"no credential for {kind}")


def openai_client(s: StandIn, *, timeout: float = 10.0) -> AzureOpenAI:
    """``AzureOpenAI`` configured from the environment and the scenario's client settings."""
    http_client = httpx2.Client(verify=ssl.create_default_context(cafile=s.ca_bundle), timeout=timeout)
    common: dict[str, Any] = {
        "azure_endpoint": os.environ["AZURE_OPENAI_ENDPOINT"],
        "api_version": os.environ["OPENAI_API_VERSION"],
        "max_retries": 0,
        "http_client": http_client,
    }
    if s.scenario.client.credential is CredentialKind.API_KEY:
        return AzureOpenAI(api_key=os.environ["AZURE_OPENAI_API_KEY"], **common)
    provider = get_bearer_token_provider(credential_for(s), s.scenario.client.scope)
    return AzureOpenAI(azure_ad_token_provider=provider, **common)


def call_with_openai(s: StandIn, client: AzureOpenAI | None = None) -> Any:
    """Make the scenario's call (chat, completion or embedding) with the openai SDK."""
    client = client or openai_client(s)
    settings = s.scenario.client
    deployment = os.environ["AZURE_OPENAI_DEPLOYMENT"]
    if settings.operation is Operation.COMPLETION:
        return client.completions.create(model=deployment, prompt=settings.prompt, max_tokens=5)
    if settings.operation is Operation.EMBEDDING:
        return client.embeddings.create(model=deployment, input=settings.prompt)
    return client.chat.completions.create(
        model=deployment, messages=[{"role": "user", "content": settings.prompt}], max_tokens=5
    )


def bearer(s: StandIn) -> str:
    """A token from the scenario's credential."""
    return credential_for(s).get_token(s.scenario.client.scope).token


def chat_with_requests(
    s: StandIn,
    *,
    headers: dict[str, str],
    deployment: str | None = None,
    api_version: str | None = None,
    endpoint: str | None = None,
    body: dict[str, Any] | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST a chat completion with plain ``requests``."""
    deployment = deployment or s.scenario.client.deployment
    version = s.scenario.client.api_version if api_version is None else api_version
    base = endpoint or s.aoai_endpoint
    query = f"?api-version={version}" if version else ""
    return requests.post(
        f"{base}/openai/deployments/{deployment}/chat/completions{query}",
        json=body or {"messages": [{"role": "user", "content": "ping"}]},
        headers=headers,
        timeout=timeout,
        verify=s.ca_bundle,
    )


# explicit clients (no environment): for module-scoped stand-ins -------------------------------------


def secret_credential(s: StandIn, app: str = "orders-api") -> ClientSecretCredential:
    """A real ``ClientSecretCredential`` for ``app`` against the stand-in's Entra."""
    registered = s.directory.app_by_name(app)
    secret = s.directory.secret(registered)
    assert secret is not None
    return ClientSecretCredential(
        s.directory.tenant_by_name(registered.tenant).id,
        registered.client_id,
        secret,
        authority=s.authority_host,
        disable_instance_discovery=True,
        connection_verify=s.ca_bundle,
    )


def tls_client(s: StandIn, *, timeout: float = 10.0) -> httpx2.Client:
    """An HTTP client for the openai SDK that trusts the stand-in's CA."""
    return httpx2.Client(verify=ssl.create_default_context(cafile=s.ca_bundle), timeout=timeout)


def v1_client(s: StandIn, base_url: str, scope: str = SCOPE, **kwargs: Any) -> OpenAI:
    """``OpenAI(base_url=..., api_key=get_bearer_token_provider(cred, scope))``: the v1 / project way."""
    provider = get_bearer_token_provider(secret_credential(s), scope)
    return OpenAI(base_url=base_url, api_key=provider, http_client=tls_client(s), max_retries=0, **kwargs)


def azure_client(s: StandIn, api_version: str, **kwargs: Any) -> AzureOpenAI:
    """``AzureOpenAI(..., azure_ad_token_provider=...)`` with ``azure_endpoint`` or ``base_url`` in ``kwargs``."""
    provider = get_bearer_token_provider(secret_credential(s), SCOPE)
    return AzureOpenAI(
        api_version=api_version, azure_ad_token_provider=provider, http_client=tls_client(s), max_retries=0, **kwargs
    )


def error_body(caught: pytest.ExceptionInfo[openai.APIStatusError]) -> Any:
    """The JSON body of the answer an SDK error carries."""
    return caught.value.response.json()


def started(scenario: str) -> StandIn:
    """A started stand-in for a shipped scenario name or an inline TOML text (the caller stops it)."""
    from aoai_doctor import strict_toml
    from aoai_doctor.standin import load_scenario, parse_scenario

    loaded = (
        parse_scenario(strict_toml.parse(scenario, source="inline.toml"), name="inline", source="inline.toml")
        if "\n" in scenario
        else load_scenario(scenario)
    )
    return StandIn(loaded).start()
