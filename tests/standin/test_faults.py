"""Transport faults injected per service and path prefix, observed with real ``requests``."""

from __future__ import annotations

import json
import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import EnvironmentCredential, ManagedIdentityCredential

from aoai_doctor.standin import StandIn

from .clients import bearer, chat_with_requests


def world(fault: str, credential: str = "client-secret") -> str:
    return f"""
[[tenants]]
name = "contoso"

[[apps]]
name = "orders-api"
secret = true

[[managed_identities]]
name = "web"
kind = "system"

[resource]
name = "contoso-openai"

[[deployments]]
name = "chat"
model = "gpt-4o-mini"

[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"

[[faults]]
{fault}

[client]
credential = "{credential}"
"""


def start(standin, scenario_file, fault: str, credential: str = "client-secret") -> StandIn:
    return standin(scenario_file(world(fault, credential)))


def chat(s: StandIn, timeout: float = 5.0) -> requests.Response:
    token = s.mint_access_token(
        {
            "aud": "https://cognitiveservices.azure.com",
            "tid": s.scenario.tenant("contoso").id,
            "oid": s.directory.app_by_name("orders-api").object_id,
            "nbf": int(time.time()) - 60,
            "exp": int(time.time()) + 600,
        }
    )
    return chat_with_requests(s, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def test_hang_until_client_gives_up(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\npath = "/openai/"\nkind = "hang"')
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        chat(s, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 3
    assert s.requests_log[-1].fault == "hang"


def test_hang_is_released_on_stop(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "hang"')
    started = time.monotonic()
    import threading

    outcome: list[BaseException] = []

    def call() -> None:
        try:
            chat(s, timeout=30)
        except requests.RequestException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.3)
    s.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert outcome and time.monotonic() - started < 5


def test_slow_body(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "slow-body"\ndelay_ms = 600')
    started = time.monotonic()
    response = chat(s)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "pong"
    assert time.monotonic() - started >= 0.5


def test_connection_reset(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "reset"')
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        chat(s)
    assert "reset" in str(caught.value).lower() or "aborted" in str(caught.value).lower()


def test_truncated_json(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "truncated-json"')
    response = chat(s)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_html_error_page(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "html-error"\nstatus = 502')
    response = chat(s)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>Bad Gateway</h1>" in response.text


def test_empty_200(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "empty-200"')
    response = chat(s)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"


def test_server_error_body(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "server-error"\nstatus = 500')
    response = chat(s)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert error["message"].startswith("The server had an error while processing your request.")
    assert response.headers["apim-request-id"] in error["message"]


def test_oversized_body(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "oversized"\nsize_bytes = 3000000')
    response = chat(s)
    assert len(response.content) == 3_000_000
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_delay(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "delay"\ndelay_ms = 400')
    started = time.monotonic()
    assert chat(s).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_times_limits_the_fault(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "server-error"\nstatus = 503\ntimes = 1')
    first, second = chat(s), chat(s)
    assert (first.status_code, second.status_code) == (503, 200)
    assert "currently overloaded" in first.json()["error"]["message"]


def test_path_prefix_scopes_the_fault(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\npath = "/openai/v1/"\nkind = "empty-200"')
    assert chat(s).json()["object"] == "chat.completion"


def test_fault_on_entra_reaches_credential(standin, scenario_file) -> None:
    start(standin, scenario_file, 'service = "entra"\npath = "/"\nkind = "html-error"\nstatus = 403')
    with pytest.raises(ClientAuthenticationError) as caught:
        EnvironmentCredential(disable_instance_discovery=True).get_token(
            "https://cognitiveservices.azure.com/.default"
        )
    assert "Unable to get authority configuration" in caught.value.message


def test_fault_on_managed_identity(standin, scenario_file) -> None:
    s = start(
        standin, scenario_file, 'service = "managed-identity"\nkind = "empty-200"', "managed-identity-imds"
    )
    with pytest.raises(Exception) as caught:
        ManagedIdentityCredential(retry_total=0).get_token("https://cognitiveservices.azure.com/.default")
    assert "ManagedIdentityCredential authentication unavailable" in str(caught.value)
    assert s.requests_log[-1].fault == "empty-200"


def test_bearer_helper_unaffected_by_aoai_fault(standin, scenario_file) -> None:
    s = start(standin, scenario_file, 'service = "aoai"\nkind = "reset"')
    assert bearer(s)
