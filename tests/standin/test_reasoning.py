"""Reasoning models (the ``reasoning-model`` scenario and variants) through the real openai SDK.

``AzureOpenAI`` on the deployments route with a real ``ClientSecretCredential``: the bodies must be
the service's own (dotnet/extensions#6945, owndev/Open-WebUI-Functions#136, holoviz/lumen#1087,
lobehub/lobehub#6198), not just the status.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
import requests

from aoai_doctor.standin import StandIn
from aoai_doctor.standin.aoai import RESPONSES_TOO_OLD_MESSAGE
from aoai_doctor.standin.reasoning import BUDGET_ERROR_MESSAGE

from .clients import azure_client, error_body, secret_credential, started

PING = [{"role": "user", "content": "ping"}]


@pytest.fixture(scope="module")
def s() -> Iterator[StandIn]:
    standin = started("reasoning-model")
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def client(s: StandIn) -> openai.AzureOpenAI:
    return azure_client(s, "2024-10-21", azure_endpoint=s.aoai_endpoint)


def test_the_scenario_is_a_gpt_5_mini_reasoning_deployment(s: StandIn) -> None:
    [deployment] = s.scenario.deployments
    assert (deployment.model, deployment.model_version, deployment.reasoning) == ("gpt-5-mini", "2025-08-07", True)
    assert deployment.reasoning_tokens == 64
    assert s.client_env()["OPENAI_API_VERSION"] == "2024-10-21"


def test_max_tokens_is_refused(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="reasoning", messages=PING, max_tokens=50)
    assert error_body(caught) == {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }
    assert caught.value.code == "unsupported_parameter" and caught.value.param == "max_tokens"


def test_a_budget_below_16_is_refused(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="reasoning", messages=PING, max_completion_tokens=1)
    assert error_body(caught) == {
        "error": {
            "message": "Invalid 'max_completion_tokens': integer below minimum value. "
            "Expected a value >= 16, but got 1 instead.",
            "type": "invalid_request_error",
            "param": "max_completion_tokens",
            "code": "integer_below_min_value",
        }
    }


def test_a_budget_reasoning_uses_up_answers_length_with_empty_content(client: openai.AzureOpenAI) -> None:
    completion = client.chat.completions.create(model="reasoning", messages=PING, max_completion_tokens=16)
    choice = completion.choices[0]
    assert (choice.finish_reason, choice.message.content) == ("length", "")
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 16
    assert completion.usage.completion_tokens == 16
    assert completion.model == "gpt-5-mini-2025-08-07"


def test_a_larger_budget_answers(client: openai.AzureOpenAI) -> None:
    completion = client.chat.completions.create(model="reasoning", messages=PING, max_completion_tokens=200)
    choice = completion.choices[0]
    assert (choice.finish_reason, choice.message.content) == ("stop", "pong")
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 64
    assert completion.usage.completion_tokens == 65


def test_no_budget_at_all_answers(client: openai.AzureOpenAI) -> None:
    completion = client.chat.completions.create(model="reasoning", messages=PING)
    assert completion.choices[0].message.content == "pong"


def test_temperature_other_than_the_default_is_refused(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="reasoning", messages=PING, temperature=0.2)
    assert error_body(caught) == {
        "error": {
            "message": "Unsupported value: 'temperature' does not support 0.2 with this model. "
            "Only the default (1) value is supported.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "unsupported_value",
        }
    }
    with pytest.raises(openai.BadRequestError) as zero:
        client.chat.completions.create(model="reasoning", messages=PING, temperature=0.0)
    assert error_body(zero)["error"]["message"].startswith("Unsupported value: 'temperature' does not support 0 with")
    assert client.chat.completions.create(model="reasoning", messages=PING, temperature=1).choices[0].message.content


def test_top_p_other_than_the_default_is_refused(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="reasoning", messages=PING, top_p=0.9)
    assert error_body(caught)["error"] == {
        "message": "Unsupported parameter: 'top_p' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "top_p",
        "code": "unsupported_parameter",
    }


def test_a_streamed_answer_cut_by_reasoning_has_no_text(client: openai.AzureOpenAI) -> None:
    chunks = list(client.chat.completions.create(model="reasoning", messages=PING, max_completion_tokens=20,
                                                 stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert (text, reasons) == ("", ["length"])


def test_the_dated_responses_route_applies_the_same_rules(s: StandIn) -> None:
    client = azure_client(s, "2025-04-01-preview", azure_endpoint=s.aoai_endpoint)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="reasoning", input="ping", max_output_tokens=10)
    assert error_body(caught) == {
        "error": {
            "message": "Invalid 'max_output_tokens': integer below minimum value. "
            "Expected a value >= 16, but got 10 instead.",
            "type": "invalid_request_error",
            "param": "max_output_tokens",
            "code": "integer_below_min_value",
        }
    }
    cut = client.responses.create(model="reasoning", input="ping", max_output_tokens=32)
    assert (cut.status, cut.incomplete_details and cut.incomplete_details.reason) == ("incomplete", "max_output_tokens")
    assert cut.output_text == "" and [item.type for item in cut.output] == ["reasoning"]
    assert cut.usage is not None and cut.usage.output_tokens_details.reasoning_tokens == 32
    whole = client.responses.create(model="reasoning", input="ping", max_output_tokens=500)
    assert (whole.status, whole.output_text) == ("completed", "pong")
    assert [item.type for item in whole.output] == ["reasoning", "message"]
    assert whole.usage is not None and whole.usage.output_tokens == 65
    assert s.requests_log[-1].path == "/openai/responses"
    assert s.requests_log[-1].query["api-version"] == "2025-04-01-preview"


def test_the_dated_responses_route_needs_2025_03_01_preview(s: StandIn) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        azure_client(s, "2024-10-21", azure_endpoint=s.aoai_endpoint).responses.create(model="reasoning", input="x")
    assert error_body(caught) == {"error": {"code": "BadRequest", "message": RESPONSES_TOO_OLD_MESSAGE}}
    with pytest.raises(openai.NotFoundError) as unknown:
        azure_client(s, "2025-13-01", azure_endpoint=s.aoai_endpoint).responses.create(model="reasoning", input="x")
    assert error_body(unknown) == {"error": {"code": "404", "message": "Resource not found"}}


VARIANTS = """
[[tenants]]
name = "contoso"

[[apps]]
name = "orders-api"
secret = true

[resource]
name = "contoso-openai"

[[deployments]]
name = "o1"
model = "o1"
model_version = "2024-12-17"

[[deployments]]
name = "strict"
model = "gpt-5.6"
reasoning_tokens = 40
budget_exhausted = "error"

[[deployments]]
name = "classic"
model = "gpt-4o-mini"
model_version = "2024-07-18"

[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"

[client]
credential = "client-secret"
"""


@pytest.fixture(scope="module")
def variants() -> Iterator[StandIn]:
    standin = started(VARIANTS)
    yield standin
    standin.stop()


def test_o1_refuses_temperature_at_all(variants: StandIn) -> None:
    client = azure_client(variants, "2024-12-01-preview", azure_endpoint=variants.aoai_endpoint)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="o1", messages=PING, temperature=1)
    assert error_body(caught)["error"] == {
        "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_parameter",
    }


def test_a_deployment_may_answer_an_exhausted_budget_with_400(variants: StandIn) -> None:
    client = azure_client(variants, "2024-10-21", azure_endpoint=variants.aoai_endpoint)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="strict", messages=PING, max_completion_tokens=40)
    assert error_body(caught) == {
        "error": {"message": BUDGET_ERROR_MESSAGE, "type": "invalid_request_error", "param": None, "code": None}
    }
    assert client.chat.completions.create(model="strict", messages=PING, max_completion_tokens=41).choices[0].message


def test_non_reasoning_models_keep_todays_behaviour(variants: StandIn) -> None:
    token = secret_credential(variants).get_token("https://cognitiveservices.azure.com/.default").token
    answer = requests.post(
        f"{variants.aoai_endpoint}/openai/deployments/classic/chat/completions?api-version=2024-10-21",
        json={"messages": PING, "max_tokens": 1, "temperature": 0.2, "top_p": 0.5},
        headers={"Authorization": f"Bearer {token}"},
        verify=variants.ca_bundle,
        timeout=10,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["choices"][0]["message"]["content"] == "pong"
    assert "completion_tokens_details" not in body["usage"]
