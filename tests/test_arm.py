"""Reading a deployment's model from Resource Manager: real azure-identity tokens, the stand-in's ARM."""

from __future__ import annotations

import dataclasses

import pytest
from azure.identity import ClientSecretCredential

from aoai_doctor.azure.endpoints import Cloud
from aoai_doctor.redaction import Secret
from aoai_doctor.services import arm, http
from aoai_doctor.services.sandbox import doctor_env
from aoai_doctor.standin import StandIn, load_scenario
from aoai_doctor.standin.scenario import RoleAssignment
from tests.conftest import StartStandIn


def test_only_resource_manager_hosts_or_loopback_receive_a_management_token() -> None:
    assert arm.base_url(Cloud.PUBLIC) == "https://management.azure.com"
    assert arm.base_url(Cloud.US_GOV) == "https://management.usgovcloudapi.net"
    assert arm.base_url(Cloud.PUBLIC, "https://management.azure.com:8443/") == "https://management.azure.com:8443"
    assert arm.base_url(Cloud.PUBLIC, "https://127.0.0.1:4443") == "https://127.0.0.1:4443"
    assert arm.base_url(Cloud.PUBLIC, "https://attacker.example.com") is None
    assert arm.base_url(Cloud.PUBLIC, "http://management.azure.com") is None
    assert arm.base_url(Cloud.PUBLIC, "https://management.azure.com:notaport") is None


def _management_token(s: StandIn) -> Secret:
    env = s.client_env()
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=env["AZURE_AUTHORITY_HOST"],
                                        connection_verify=env["REQUESTS_CA_BUNDLE"], disable_instance_discovery=True)
    try:
        return Secret(credential.get_token(arm.scope(Cloud.PUBLIC)).token)
    finally:
        credential.close()


def test_the_deployment_model_is_read_with_the_callers_own_token(standin: StartStandIn) -> None:
    s = standin("retired-model")
    env = {**s.client_env(), **doctor_env(s)}
    base = arm.base_url(Cloud.PUBLIC, env["AOAI_DOCTOR_ARM_ENDPOINT"])
    assert base is not None
    found = arm.deployment_model(_management_token(s), base, "contoso-openai", "gpt4", http.Policy(), env)
    assert isinstance(found, arm.DeploymentModel)
    assert (found.name, found.version) == ("gpt-4", "0613")
    missing = arm.deployment_model(_management_token(s), base, "contoso-openai", "nope", http.Policy(), env)
    assert missing == "the resource contoso-openai has no deployment nope in ARM"


def test_an_identity_that_cannot_read_the_resource_gets_a_reason_not_a_model(standin: StartStandIn) -> None:
    scenario = load_scenario("retired-model")
    s = standin(dataclasses.replace(scenario, role_assignments=tuple[RoleAssignment, ...]()))
    env = {**s.client_env(), **doctor_env(s)}
    base = arm.base_url(Cloud.PUBLIC, env["AOAI_DOCTOR_ARM_ENDPOINT"])
    assert base is not None
    found = arm.deployment_model(_management_token(s), base, "contoso-openai", "gpt4", http.Policy(), env)
    assert found == "no subscription this identity can read holds the resource contoso-openai"


@pytest.mark.parametrize("marker", [False, True])
def test_a_loopback_address_gets_no_token_unless_it_is_the_stand_in(standin: StartStandIn, marker: bool) -> None:
    s = standin("retired-model")
    env = {**s.client_env(), **doctor_env(s)}
    if not marker:
        env.pop(http.STANDIN_MARKER)
    base = arm.base_url(Cloud.PUBLIC, env["AOAI_DOCTOR_ARM_ENDPOINT"])
    assert base is not None
    found = arm.deployment_model(Secret("t" * 40), base, "contoso-openai", "gpt4", http.Policy(), env)
    assert isinstance(found, str)
    assert ("not sending a credential" in found) is not marker
