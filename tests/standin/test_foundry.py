"""Foundry projects: ``foundry-project`` and ``foundry-project-missing-role`` through ``OpenAI(base_url=<project
endpoint>/openai/v1/, api_key=get_bearer_token_provider(cred, "https://ai.azure.com/.default"))``, which is
what azure-ai-projects' ``get_openai_client()`` builds."""

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
from aoai_doctor.standin.aoai import FOUNDRY_UNAUTHORIZED_MESSAGE, PROJECT_API_VERSION_MESSAGE

from .clients import error_body, secret_credential, started, v1_client

AI_SCOPE = "https://ai.azure.com/.default"
PING = [{"role": "user", "content": "ping"}]


@pytest.fixture(scope="module")
def project() -> Iterator[StandIn]:
    standin = started("foundry-project")
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def no_role() -> Iterator[StandIn]:
    standin = started("foundry-project-missing-role")
    yield standin
    standin.stop()


def _project_client(s: StandIn, scope: str = AI_SCOPE, **kwargs: object) -> openai.OpenAI:
    return v1_client(s, s.project_endpoint() + "/openai/v1/", scope, **kwargs)


def test_client_env_names_the_project_endpoint(project: StandIn) -> None:
    env = project.client_env()
    assert env["AZURE_OPENAI_ENDPOINT"] == f"{project.aoai_endpoint}/api/projects/orders" == project.project_endpoint()
    assert env["AZURE_OPENAI_SCOPE"] == AI_SCOPE
    assert "OPENAI_API_VERSION" not in env


def test_chat_and_responses_on_the_project(project: StandIn) -> None:
    client = _project_client(project)
    assert client.chat.completions.create(model="chat", messages=PING).choices[0].message.content == "pong"
    assert client.responses.create(model="chat", input="ping").output_text == "pong"
    paths = [r.path for r in project.requests_log if r.service.value == "aoai"][-2:]
    assert paths == ["/api/projects/orders/openai/v1/chat/completions", "/api/projects/orders/openai/v1/responses"]
    token_request = next(r for r in project.requests_log if r.path.endswith("/token"))
    assert token_request.form["scope"] == AI_SCOPE


def test_a_cognitive_services_token_is_refused_by_the_project(project: StandIn) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _project_client(project, "https://cognitiveservices.azure.com/.default").chat.completions.create(
            model="chat", messages=PING
        )
    assert error_body(caught) == {"statusCode": 401, "message": FOUNDRY_UNAUTHORIZED_MESSAGE}
    assert "audience is incorrect (https://ai.azure.com)" in FOUNDRY_UNAUTHORIZED_MESSAGE


def test_the_project_path_takes_no_api_version(project: StandIn) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _project_client(project, default_query={"api-version": "preview"}).chat.completions.create(
            model="chat", messages=PING
        )
    assert error_body(caught) == {"error": {"code": "BadRequest", "message": PROJECT_API_VERSION_MESSAGE}}


def test_an_unknown_project(project: StandIn) -> None:
    client = v1_client(project, f"{project.aoai_endpoint}/api/projects/ordres/openai/v1/", AI_SCOPE)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="chat", messages=PING)
    assert error_body(caught)["error"]["message"] == "The project does not exist."


def test_the_account_is_an_ai_services_resource_on_its_real_names(project: StandIn) -> None:
    token = secret_credential(project).get_token("https://management.azure.com/.default").token
    account = requests.get(
        f"{project.management_endpoint}{project.scenario.resource.arm_id}?api-version=2025-06-01",
        headers={"Authorization": f"Bearer {token}"}, verify=project.ca_bundle, timeout=10,
    ).json()
    assert (account["kind"], account["properties"]["allowProjectManagement"]) == ("AIServices", True)
    port = urlsplit(project.aoai_endpoint).port
    context = ssl.create_default_context(cafile=project.ca_bundle)
    for name in ("contoso-foundry.services.ai.azure.com", "contoso-foundry.openai.azure.com"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.version()


def test_the_demo_environment_uses_the_services_host(project: StandIn) -> None:
    with sandbox.client_environment(project, {}) as env:
        endpoint, pin = sandbox.named_endpoint(project, env["AZURE_OPENAI_ENDPOINT"])
    port = urlsplit(project.aoai_endpoint).port
    assert endpoint == f"https://contoso-foundry.services.ai.azure.com:{port}/api/projects/orders"
    assert pin == f"contoso-foundry.services.ai.azure.com:{port}:127.0.0.1"
    assert env["AZURE_OPENAI_SCOPE"] == AI_SCOPE and "OPENAI_API_VERSION" not in env


def test_openai_user_does_not_grant_the_project_data_action(no_role: StandIn) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _project_client(no_role).chat.completions.create(model="chat", messages=PING)
    oid = no_role.directory.app_by_name("orders-api").object_id
    assert error_body(caught) == {
        "error": {
            "code": "PermissionDenied",
            "message": f"The principal `{oid}` lacks the required data action "
            "`Microsoft.CognitiveServices/accounts/AIServices/agents/write` to perform "
            "`POST /api/projects/{projectName}/openai/*` operation. For instructions on granting the necessary "
            "permissions, see https://aka.ms/FoundryPermissions.",
        }
    }
    assert caught.value.status_code == 401


def test_the_same_principal_may_call_the_account_itself(no_role: StandIn) -> None:
    """Cognitive Services OpenAI User is an account role: the account's v1 surface answers."""
    client = v1_client(no_role, f"{no_role.aoai_endpoint}/openai/v1/")
    assert client.chat.completions.create(model="chat", messages=PING).choices[0].message.content == "pong"
