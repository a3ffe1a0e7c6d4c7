"""The v1 surface: the ``v1-api`` and ``responses-api`` scenarios, through ``OpenAI(base_url=.../openai/v1/,
api_key=get_bearer_token_provider(...))`` the way the Azure docs show it, and ``AzureOpenAI`` pointed at a v1
base URL, which still appends ``/deployments/{model}`` (openai/openai-python#2584) and gets the 404."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
import requests

from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn

from .clients import azure_client, error_body, started, v1_client

PING = [{"role": "user", "content": "ping"}]
NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}


@pytest.fixture(scope="module")
def v1() -> Iterator[StandIn]:
    standin = started("v1-api")
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def resp() -> Iterator[StandIn]:
    standin = started("responses-api")
    yield standin
    standin.stop()


def test_v1_client_env_has_the_base_url_and_no_api_version(v1: StandIn) -> None:
    env = v1.client_env()
    assert env["AZURE_OPENAI_ENDPOINT"] == v1.v1_base_url == f"{v1.aoai_endpoint}/openai/v1"
    assert "OPENAI_API_VERSION" not in env
    assert env["AZURE_OPENAI_DEPLOYMENT"] == "chat"


def test_openai_client_on_the_v1_base_url(v1: StandIn) -> None:
    completion = v1_client(v1, v1.v1_base_url + "/").chat.completions.create(model="chat", messages=PING)
    assert completion.choices[0].message.content == "pong"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    last = v1.requests_log[-1]
    assert (last.path, dict(last.query), last.status) == ("/openai/v1/chat/completions", {}, 200)
    assert last.headers["authorization"] == "<redacted>"


@pytest.mark.parametrize("version", ["v1", "preview"])
def test_v1_accepts_its_own_api_versions(v1: StandIn, version: str) -> None:
    client = v1_client(v1, v1.v1_base_url + "/", default_query={"api-version": version})
    assert client.chat.completions.create(model="chat", messages=PING).choices[0].message.content == "pong"


def test_v1_refuses_a_dated_api_version(v1: StandIn) -> None:
    client = v1_client(v1, v1.v1_base_url + "/", default_query={"api-version": "2024-10-21"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="chat", messages=PING)
    assert error_body(caught) == {"error": {"code": "BadRequest", "message": "API version not supported"}}


def test_azure_openai_with_a_v1_base_url_gets_404(v1: StandIn) -> None:
    client = azure_client(v1, "2024-10-21", base_url=v1.v1_base_url + "/")
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="chat", messages=PING)
    assert error_body(caught) == NOT_FOUND
    assert v1.requests_log[-1].path == "/openai/v1/deployments/chat/chat/completions"
    endpoint = azure_client(v1, "2024-10-21", azure_endpoint=v1.v1_base_url + "/")
    with pytest.raises(openai.NotFoundError) as again:
        endpoint.chat.completions.create(model="chat", messages=PING)
    assert error_body(again) == NOT_FOUND
    assert v1.requests_log[-1].path == "/openai/v1/openai/deployments/chat/chat/completions"


def test_unknown_deployment_on_v1(v1: StandIn) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        v1_client(v1, v1.v1_base_url + "/").chat.completions.create(model="gpt-4o-mini", messages=PING)
    assert error_body(caught)["error"]["code"] == "DeploymentNotFound"


def test_responses_api_answers_a_real_response_object(resp: StandIn) -> None:
    client = v1_client(resp, resp.client_env()["AZURE_OPENAI_ENDPOINT"] + "/")
    raw = client.responses.with_raw_response.create(model="assistant", input="ping")
    body = raw.http_response.json()
    assert (body["object"], body["status"], body["output"][0]["type"]) == ("response", "completed", "message")
    response = raw.parse()
    assert response.output_text == "pong"
    assert response.model == "gpt-4.1-mini-2025-04-14"
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert raw.headers["x-ms-deployment-name"] == "assistant"
    last = resp.requests_log[-1]
    assert (last.path, dict(last.query)) == ("/openai/v1/responses", {})


def test_responses_api_streams(resp: StandIn) -> None:
    stream = v1_client(resp, resp.v1_base_url + "/").responses.create(model="assistant", input="ping", stream=True)
    events = list(stream)
    assert [e.type for e in events] == ["response.created", "response.output_text.delta", "response.completed"]
    assert events[1].delta == "pong"  # type: ignore[union-attr]


def test_responses_need_the_responses_data_action(resp: StandIn) -> None:
    """A valid token for a principal with no role: the newer PermissionDenied text names responses/write."""
    import time

    now = int(time.time())
    stranger = "0f0f0f0f-0000-4000-8000-000000000001"
    token = resp.mint_access_token({
        "aud": "https://cognitiveservices.azure.com", "tid": resp.scenario.tenant("contoso").id, "oid": stranger,
        "iat": now, "nbf": now, "exp": now + 600,
    })
    answer = requests.post(f"{resp.v1_base_url}/responses", json={"model": "assistant", "input": "ping"},
                           headers={"Authorization": f"Bearer {token}"}, verify=resp.ca_bundle, timeout=10)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {
            "code": "PermissionDenied",
            "message": f"The principal `{stranger}` lacks the required data action "
            "`Microsoft.CognitiveServices/accounts/OpenAI/responses/write` to perform `POST /openai/v1/responses` "
            "operation.",
        }
    }


def test_the_demo_environment_of_the_v1_scenarios(v1: StandIn, resp: StandIn) -> None:
    for standin, kind in ((v1, None), (resp, "responses")):
        with sandbox.client_environment(standin, {}) as env:
            endpoint, pin = sandbox.named_endpoint(standin, env["AZURE_OPENAI_ENDPOINT"])
        port = standin.aoai_endpoint.rsplit(":", 1)[1]
        assert endpoint == f"https://contoso-openai.openai.azure.com:{port}/openai/v1"
        assert pin == f"contoso-openai.openai.azure.com:{port}:127.0.0.1"
        assert "OPENAI_API_VERSION" not in env
        assert env.get("AOAI_DOCTOR_DEPLOYMENT_KIND") == kind
