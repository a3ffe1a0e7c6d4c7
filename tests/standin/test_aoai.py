"""The data-plane stand-in through plain ``requests`` and the openai SDK.

Each error body must reach both clients unchanged; tokens come from the real EnvironmentCredential.
"""

from __future__ import annotations

import base64
import struct
import time

import openai
import pytest
import requests

from aoai_doctor.standin import StandIn
from aoai_doctor.standin.aoai import UNAUTHORIZED_MESSAGE

from .clients import bearer, chat_with_requests, openai_client

AUD = "https://cognitiveservices.azure.com"


def world(resource: str = "", deployments: str = "", client: str = "") -> str:
    return f"""
[[tenants]]
name = "contoso"

[[tenants]]
name = "fabrikam"

[[apps]]
name = "orders-api"
secret = true

[[apps]]
name = "reader-app"
secret = true

[resource]
name = "contoso-openai"
{resource}

[[deployments]]
name = "chat"
model = "gpt-4o-mini"
model_version = "2024-07-18"

[[deployments]]
name = "embed"
model = "text-embedding-3-small"
model_version = "1"

[[deployments]]
name = "instruct"
model = "gpt-35-turbo-instruct"
model_version = "0914"

{deployments}

[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"

[[role_assignments]]
principal = "reader-app"
role = "Reader"

[client]
credential = "client-secret"
app = "orders-api"
{client}
"""


@pytest.fixture
def aoai(standin, scenario_file) -> StandIn:
    return standin(scenario_file(world()))


def auth(s: StandIn) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer(s)}"}


def minted(s: StandIn, **overrides: object) -> str:
    now = int(time.time())
    app = s.directory.app_by_name("orders-api")
    claims: dict[str, object] = {
        "aud": AUD,
        "iss": f"https://sts.windows.net/{s.scenario.tenant('contoso').id}/",
        "tid": s.scenario.tenant("contoso").id,
        "oid": app.object_id,
        "appid": app.client_id,
        "idtyp": "app",
        "iat": now - 300,
        "nbf": now - 300,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return s.mint_access_token(claims)


# success ---------------------------------------------------------------------------------------


def test_chat_with_requests_and_headers(aoai: StandIn) -> None:
    response = chat_with_requests(aoai, headers={**auth(aoai), "x-ms-client-request-id": "abc-123"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"content": "pong", "refusal": None, "role": "assistant"}
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    headers = response.headers
    assert headers["apim-request-id"] == headers["x-request-id"]
    assert headers["x-ms-region"] == "East US"
    assert headers["x-ms-client-request-id"] == "abc-123"
    assert headers["x-ms-deployment-name"] == "chat"
    assert float(headers["openai-processing-ms"]) > 0
    assert int(headers["x-ratelimit-remaining-requests"]) == int(headers["x-ratelimit-limit-requests"]) - 1
    assert int(headers["x-ratelimit-remaining-tokens"]) < int(headers["x-ratelimit-limit-tokens"])
    assert headers["Content-Length"] == str(len(response.content))


def test_chat_stream_with_openai(aoai: StandIn) -> None:
    client = openai_client(aoai)
    stream = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "ping"}], stream=True
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "pong"


def test_chat_stream_ends_with_done(aoai: StandIn) -> None:
    response = chat_with_requests(
        aoai, headers=auth(aoai), body={"messages": [{"role": "user", "content": "ping"}], "stream": True}
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events)


def test_embeddings_with_openai_base64(aoai: StandIn) -> None:
    result = openai_client(aoai).embeddings.create(model="embed", input=["hello", "world"])
    assert [d.index for d in result.data] == [0, 1]
    assert len(result.data[0].embedding) == 1536
    assert result.data[0].embedding != result.data[1].embedding


def test_embeddings_float_with_requests(aoai: StandIn) -> None:
    response = requests.post(
        f"{aoai.aoai_endpoint}/openai/deployments/embed/embeddings?api-version=2024-10-21",
        json={"input": "hello", "dimensions": 8, "encoding_format": "base64"},
        headers=auth(aoai),
        verify=aoai.ca_bundle,
        timeout=5,
    )
    vector = struct.unpack("<8f", base64.b64decode(response.json()["data"][0]["embedding"]))
    assert abs(sum(v * v for v in vector) - 1) < 1e-3


def test_completions_on_instruct_model(aoai: StandIn) -> None:
    result = openai_client(aoai).completions.create(model="instruct", prompt="ping", max_tokens=3)
    assert result.choices[0].text == "pong"
    assert result.model == "gpt-35-turbo-instruct-0914"


def test_v1_routes(aoai: StandIn) -> None:
    headers = auth(aoai)
    chat = requests.post(
        f"{aoai.aoai_endpoint}/openai/v1/chat/completions",
        json={"model": "chat", "messages": [{"role": "user", "content": "ping"}]},
        headers=headers,
        verify=aoai.ca_bundle,
        timeout=5,
    )
    assert chat.status_code == 200
    assert chat.json()["choices"][0]["message"]["content"] == "pong"
    models = requests.get(
        f"{aoai.aoai_endpoint}/openai/v1/models", headers=headers, verify=aoai.ca_bundle, timeout=5
    )
    assert {m["id"] for m in models.json()["data"]} == {
        "gpt-4o-mini",
        "text-embedding-3-small",
        "gpt-35-turbo-instruct",
    }
    dated = requests.get(
        f"{aoai.aoai_endpoint}/openai/v1/models?api-version=2024-10-21",
        headers=headers,
        verify=aoai.ca_bundle,
        timeout=5,
    )
    assert dated.status_code == 400
    assert dated.json() == {"error": {"code": "BadRequest", "message": "API version not supported"}}


def test_v1_with_openai_sdk(aoai: StandIn) -> None:
    import ssl

    import httpx2

    client = openai.OpenAI(
        base_url=f"{aoai.aoai_endpoint}/openai/v1/",
        api_key=bearer(aoai),
        max_retries=0,
        http_client=httpx2.Client(verify=ssl.create_default_context(cafile=aoai.ca_bundle)),
    )
    # The OpenAI client sends "Authorization: Bearer <api_key>": here the key is an Entra token.
    result = client.embeddings.create(model="embed", input="hello")
    assert len(result.data[0].embedding) == 1536


def test_api_key_auth(standin, scenario_file) -> None:
    s = standin(scenario_file(world(client="")), env=False)
    response = chat_with_requests(s, headers={"api-key": s.directory.api_keys[1]})
    assert response.status_code == 200


def test_processing_delay(standin, scenario_file) -> None:
    s = standin(scenario_file(world(resource="delay_ms = 300")))
    started = time.monotonic()
    response = chat_with_requests(s, headers=auth(s))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.3
    assert float(response.headers["openai-processing-ms"]) >= 300


# api-version and routes ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["", "2023-03-15-preview", "2024-07-18", "2022-12-01"])
def test_bad_api_version_is_resource_not_found(aoai: StandIn, version: str) -> None:
    response = chat_with_requests(aoai, headers=auth(aoai), api_version=version)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert "apim-request-id" in response.headers


def test_completions_still_served_on_2022_12_01(aoai: StandIn) -> None:
    response = requests.post(
        f"{aoai.aoai_endpoint}/openai/deployments/instruct/completions?api-version=2022-12-01",
        json={"prompt": "ping"},
        headers=auth(aoai),
        verify=aoai.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 200


def test_unknown_path(aoai: StandIn) -> None:
    response = requests.get(
        f"{aoai.aoai_endpoint}//openai/deployments/chat/chat/completions?api-version=2024-10-21",
        headers=auth(aoai),
        verify=aoai.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Resource not found"


# Bearer validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://management.azure.com"},
        {"exp": int(time.time()) - 60},
        {"nbf": int(time.time()) + 600},
    ],
    ids=["wrong-audience", "expired", "not-yet-valid"],
)
def test_invalid_bearer_gateway_body(aoai: StandIn, overrides: dict[str, object]) -> None:
    token = minted(aoai, **overrides)
    response = chat_with_requests(aoai, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE}
    with pytest.raises(openai.AuthenticationError) as caught:
        client = openai.AzureOpenAI(
            azure_endpoint=aoai.aoai_endpoint,
            api_version="2024-10-21",
            azure_ad_token=token,
            max_retries=0,
            http_client=openai_client(aoai)._client,
        )
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "ping"}])
    assert "Unauthorized. Access token is missing, invalid, audience is incorrect" in str(caught.value)


def test_audience_with_trailing_slash_is_accepted(aoai: StandIn) -> None:
    token = minted(aoai, aud=AUD + "/")
    assert chat_with_requests(aoai, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_foreign_signature_is_rejected(aoai: StandIn) -> None:
    import jwt

    from aoai_doctor.standin.certs import new_rsa_key

    forged = jwt.encode({"aud": AUD, "exp": int(time.time()) + 60, "nbf": 0}, new_rsa_key(), "RS256")
    response = chat_with_requests(aoai, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_missing_authorization(aoai: StandIn) -> None:
    response = chat_with_requests(aoai, headers={})
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE}


def test_tenant_mismatch(aoai: StandIn) -> None:
    fabrikam = aoai.scenario.tenant("fabrikam").id
    response = chat_with_requests(aoai, headers={"Authorization": f"Bearer {minted(aoai, tid=fabrikam)}"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == f"Token tenant {fabrikam} does not match resource tenant."


def test_permission_denied_for_reader(standin, scenario_file) -> None:
    s = standin(scenario_file(world(client="")))
    reader = s.directory.app_by_name("reader-app")
    token = minted(s, oid=reader.object_id, appid=reader.client_id)
    response = requests.post(
        f"{s.aoai_endpoint}/openai/deployments/embed/embeddings?api-version=2024-10-21",
        json={"input": "x"},
        headers={"Authorization": f"Bearer {token}"},
        verify=s.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "PermissionDenied"
    assert error["message"] == "Principal does not have access to API/Operation."
    assert error["innererror"]["dataAction"] == (
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action"
    )


# keys ------------------------------------------------------------------------------------------


def test_invalid_api_key(aoai: StandIn) -> None:
    response = chat_with_requests(aoai, headers={"api-key": "0" * 32})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "401",
        "message": (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
            "valid key for an active subscription and use a correct regional API endpoint for your resource."
        ),
    }
    with pytest.raises(openai.AuthenticationError) as caught:
        openai.AzureOpenAI(
            azure_endpoint=aoai.aoai_endpoint,
            api_version="2024-10-21",
            api_key="0" * 32,
            max_retries=0,
            http_client=openai_client(aoai)._client,
        ).chat.completions.create(model="chat", messages=[{"role": "user", "content": "ping"}])
    assert caught.value.response.json()["error"]["code"] == "401"


def test_regional_endpoint_accepts_keys(aoai: StandIn) -> None:
    response = chat_with_requests(
        aoai, headers={"api-key": aoai.directory.api_keys[0]}, endpoint=aoai.regional_endpoint
    )
    assert response.status_code == 200


# deployments and operations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "path", "word", "model"),
    [
        ("embed", "chat/completions", "chatCompletion", "text-embedding-3-small"),
        ("chat", "embeddings", "embeddings", "gpt-4o-mini"),
        ("chat", "completions", "completion", "gpt-4o-mini"),
    ],
)
def test_operation_not_supported(aoai: StandIn, deployment: str, path: str, word: str, model: str) -> None:
    response = requests.post(
        f"{aoai.aoai_endpoint}/openai/deployments/{deployment}/{path}?api-version=2024-10-21",
        json={"messages": [{"role": "user", "content": "x"}], "input": "x", "prompt": "x"},
        headers=auth(aoai),
        verify=aoai.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith(
        f"The {word} operation does not work with the specified model, {model}."
    )


def test_deployment_not_found_with_both_clients(aoai: StandIn) -> None:
    response = chat_with_requests(aoai, headers=auth(aoai), deployment="gpt-4o")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(aoai).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
    assert "The API deployment for this resource does not exist." in str(caught.value)


def test_content_filter_reaches_both_clients(standin, scenario_file) -> None:
    s = standin(scenario_file(world(resource='content_filter_triggers = ["forbidden fruit"]')))
    body = {"messages": [{"role": "user", "content": "Tell me about the Forbidden Fruit"}]}
    response = chat_with_requests(s, headers=auth(s), body=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "content_filter"
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(s).chat.completions.create(model="chat", **body)
    assert caught.value.code == "content_filter"


# network rules ---------------------------------------------------------------------------------


def test_public_access_disabled(standin, scenario_file) -> None:
    s = standin(scenario_file(world(resource="public_network_access = false")))
    response = chat_with_requests(s, headers=auth(s))
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "403", "message": "Public access is disabled. Please configure private endpoint."}
    }
    with pytest.raises(openai.PermissionDeniedError):
        openai_client(s).chat.completions.create(model="chat", messages=[{"role": "user", "content": "x"}])


def test_firewall_allows_listed_address(standin, scenario_file) -> None:
    s = standin(scenario_file(world(resource='allowed_ips = ["127.0.0.0/8"]')))
    assert chat_with_requests(s, headers=auth(s)).status_code == 200


# rate limits -----------------------------------------------------------------------------------


def test_requests_per_minute(standin, scenario_file) -> None:
    rpm = """
[[deployments]]
name = "small"
model = "gpt-4o-mini"
rpm = 2
"""
    s = standin(scenario_file(world(deployments=rpm)))
    headers = auth(s)
    statuses = [chat_with_requests(s, headers=headers, deployment="small").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(s).chat.completions.create(model="small", messages=[{"role": "user", "content": "x"}])
    assert "have exceeded call rate limit of your current OpenAI S0 pricing tier" in str(caught.value)
    assert caught.value.response.headers["x-ratelimit-remaining-requests"] == "0"
