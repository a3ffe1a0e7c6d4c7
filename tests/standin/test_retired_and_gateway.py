"""A retired model version (``retired-model``) and API Management in front of the resource
(``apim-gateway-key-missing`` and variants), through the real openai SDK, requests and ARM."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import openai
import pytest
import requests

from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn
from aoai_doctor.standin.gateway import INVALID_KEY_MESSAGE, JWT_MESSAGE, MISSING_KEY_MESSAGE
from aoai_doctor.standin.sealed import hosts_file_text

from .clients import azure_client, error_body, secret_credential, started

PING = [{"role": "user", "content": "ping"}]
NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}


@pytest.fixture(scope="module")
def retired() -> Iterator[StandIn]:
    standin = started("retired-model")
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def apim() -> Iterator[StandIn]:
    standin = started("apim-gateway-key-missing")
    yield standin
    standin.stop()


def _arm(s: StandIn, suffix: str) -> requests.Response:
    token = secret_credential(s).get_token("https://management.azure.com/.default").token
    return requests.get(f"{s.management_endpoint}{s.scenario.resource.arm_id}{suffix}?api-version=2025-06-01",
                        headers={"Authorization": f"Bearer {token}"}, verify=s.ca_bundle, timeout=10)


def test_a_retired_model_answers_like_a_wrong_api_version(retired: StandIn) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        azure_client(retired, "2024-10-21", azure_endpoint=retired.aoai_endpoint).chat.completions.create(
            model="gpt4", messages=PING
        )
    with pytest.raises(openai.NotFoundError) as wrong_version:
        azure_client(retired, "2023-03-15-preview", azure_endpoint=retired.aoai_endpoint).chat.completions.create(
            model="gpt4", messages=PING
        )
    assert error_body(caught) == error_body(wrong_version) == NOT_FOUND
    assert caught.value.response.headers["x-ms-deployment-name"] == "gpt4"


def test_arm_shows_the_retired_model(retired: StandIn) -> None:
    [listed] = _arm(retired, "/deployments").json()["value"]
    assert listed["properties"]["model"] == {"format": "OpenAI", "name": "gpt-4", "version": "0613"}
    assert _arm(retired, "/deployments/gpt4").json() == listed
    assert _arm(retired, "/deployments/nope").status_code == 404
    [model] = _arm(retired, "/models").json()["value"]
    assert (model["name"], model["version"]) == ("gpt-4", "0613")
    assert model["deprecation"]["inference"] == "2025-06-06T00:00:00Z"


def test_the_gateway_refuses_a_call_without_its_subscription_key(apim: StandIn) -> None:
    client = azure_client(apim, "2024-10-21", azure_endpoint=apim.client_env()["AZURE_OPENAI_ENDPOINT"])
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="chat", messages=PING)
    assert error_body(caught) == {"statusCode": 401, "message": MISSING_KEY_MESSAGE}
    assert apim.requests_log[-1].service.value == "gateway"
    assert apim.requests_log[-1].path == "/openai-proxy/openai/deployments/chat/chat/completions"


def test_with_the_key_the_gateway_passes_the_call_through(apim: StandIn) -> None:
    client = azure_client(apim, "2024-10-21", azure_endpoint=apim.gateway_endpoint,
                          default_headers={"Ocp-Apim-Subscription-Key": apim.gateway_key})
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=PING)
    assert raw.parse().choices[0].message.content == "pong"
    assert raw.headers["x-ms-deployment-name"] == "chat"  # the backend's own answer, unchanged
    assert apim.requests_log[-1].headers["ocp-apim-subscription-key"] == "<redacted>"


def test_the_gateway_names_a_wrong_key_and_reads_the_query_parameter(apim: StandIn) -> None:
    client = azure_client(apim, "2024-10-21", azure_endpoint=apim.gateway_endpoint,
                          default_headers={"Ocp-Apim-Subscription-Key": "0" * 32})
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="chat", messages=PING)
    assert error_body(caught) == {"statusCode": 401, "message": INVALID_KEY_MESSAGE}
    by_query = azure_client(apim, "2024-10-21", azure_endpoint=apim.gateway_endpoint,
                            default_query={"subscription-key": apim.gateway_key})
    assert by_query.chat.completions.create(model="chat", messages=PING).choices[0].message.content == "pong"
    assert apim.requests_log[-1].query["subscription-key"] == "<redacted>"


def test_backend_errors_come_through_the_gateway(apim: StandIn) -> None:
    client = azure_client(apim, "2024-10-21", azure_endpoint=apim.gateway_endpoint,
                          default_headers={"Ocp-Apim-Subscription-Key": apim.gateway_key})
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=PING)
    assert error_body(caught)["error"]["code"] == "DeploymentNotFound"


def test_a_path_outside_the_api_is_no_api(apim: StandIn) -> None:
    base = apim.gateway_endpoint.removesuffix("/openai-proxy")
    answer = requests.post(f"{base}/openai/deployments/chat/chat/completions?api-version=2024-10-21", json={},
                           headers={"Ocp-Apim-Subscription-Key": apim.gateway_key}, verify=apim.ca_bundle, timeout=10)
    assert (answer.status_code, answer.json()) == (404, {"statusCode": 404, "message": "Resource not found"})


def test_the_demo_environment_aims_at_the_gateway_host(apim: StandIn) -> None:
    with sandbox.client_environment(apim, {}) as env:
        endpoint, pin = sandbox.named_endpoint(apim, env["AZURE_OPENAI_ENDPOINT"])
    port = urlsplit(apim.gateway_endpoint).port
    assert endpoint == f"https://contoso-apim.azure-api.net:{port}/openai-proxy"
    assert pin == f"contoso-apim.azure-api.net:{port}:127.0.0.1"
    assert "AOAI_DOCTOR_GATEWAY_KEY" not in env  # the client has no key
    context = ssl.create_default_context(cafile=apim.ca_bundle)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="contoso-apim.azure-api.net") as tls:
        assert tls.version()
    assert "127.0.0.1 contoso-apim.azure-api.net\n" in hosts_file_text(apim.scenario)


GATEWAY_WITH_JWT = """
[[tenants]]
name = "contoso"

[[apps]]
name = "orders-api"
secret = true

[resource]
name = "contoso-openai"

[[deployments]]
name = "chat"
model = "gpt-4o-mini"

[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"

[gateway]
name = "contoso-apim"
subscription_key_header = "api-key"
subscription_keys = ["gateway-key-0123456789abcdef"]
validate_jwt = true

[client]
credential = "client-secret"
endpoint = "gateway"
"""


@pytest.fixture(scope="module")
def jwt_gateway() -> Iterator[StandIn]:
    standin = started(GATEWAY_WITH_JWT)
    yield standin
    standin.stop()


def test_validate_jwt_and_a_renamed_key_header(jwt_gateway: StandIn) -> None:
    s = jwt_gateway
    url = f"{s.gateway_endpoint}/openai/deployments/chat/chat/completions?api-version=2024-10-21"
    key = {"api-key": "gateway-key-0123456789abcdef"}
    no_token = requests.post(url, json={"messages": PING}, headers=key, verify=s.ca_bundle, timeout=10)
    assert (no_token.status_code, no_token.json()) == (401, {"statusCode": 401, "message": JWT_MESSAGE})
    token = secret_credential(s).get_token("https://cognitiveservices.azure.com/.default").token
    passed = requests.post(url, json={"messages": PING}, headers={**key, "Authorization": f"Bearer {token}"},
                           verify=s.ca_bundle, timeout=10)
    assert passed.status_code == 200 and passed.json()["choices"][0]["message"]["content"] == "pong"
    assert s.requests_log[-1].headers["api-key"] == "<redacted>"
    assert sandbox.doctor_env(s)["AOAI_DOCTOR_GATEWAY_KEY_HEADER"] == "api-key"
    assert sandbox.doctor_env(s)["AOAI_DOCTOR_GATEWAY_KEY"] == "gateway-key-0123456789abcdef"
    assert s.gateway_endpoint == f"https://127.0.0.1:{urlsplit(s.gateway_endpoint).port}"  # no API path
