"""Scenario files: strict parsing, defaults and the shipped library."""

from __future__ import annotations

import pytest

from aoai_doctor.standin import ScenarioError, load_scenario, scenario_names
from aoai_doctor.standin.scenario import CredentialKind, DeploymentKind, EndpointChoice, IdentityKind

MINIMAL = """
[[tenants]]
name = "contoso"

[resource]
name = "contoso-openai"

[client]
credential = "api-key"
"""


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert scenario.client.deployment
    versionless = scenario.client.endpoint in (EndpointChoice.V1, EndpointChoice.PROJECT)
    assert (scenario.client.api_version is None) is versionless


def test_minimal_defaults(scenario_file) -> None:
    scenario = load_scenario(scenario_file(MINIMAL))
    assert scenario.client.credential is CredentialKind.API_KEY
    assert scenario.client.endpoint is EndpointChoice.CUSTOM
    assert scenario.client.scope == "https://cognitiveservices.azure.com/.default"
    assert scenario.resource.region == "eastus"
    assert scenario.resource.custom_host == "contoso-openai.openai.azure.com"
    assert scenario.resource.regional_host == "eastus.api.cognitive.microsoft.com"
    assert scenario.tenants[0].domain == "contoso.onmicrosoft.com"


def test_ids_are_stable(scenario_file) -> None:
    first = load_scenario(scenario_file(MINIMAL, "a.toml"))
    second = load_scenario(scenario_file(MINIMAL, "b.toml"))
    assert first.tenants[0].id == second.tenants[0].id


def test_kind_is_inferred_from_model(scenario_file) -> None:
    text = MINIMAL + '\n[[deployments]]\nname = "e"\nmodel = "text-embedding-3-large"\n'
    text += '\n[[deployments]]\nname = "i"\nmodel = "gpt-35-turbo-instruct"\n'
    text += '\n[[deployments]]\nname = "c"\nmodel = "gpt-4o"\n'
    kinds = [d.kind for d in load_scenario(scenario_file(text)).deployments]
    assert kinds == [DeploymentKind.EMBEDDING, DeploymentKind.COMPLETION, DeploymentKind.CHAT]


def test_identity_kind(scenario_file) -> None:
    text = MINIMAL + '\n[[managed_identities]]\nname = "web"\nkind = "system"\n'
    assert load_scenario(scenario_file(text)).managed_identities[0].kind is IdentityKind.SYSTEM


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('\n[[apps]]\nname = "x"\nsecrett = true\n', "apps[0].secrett: unknown key"),
        ("\n[bogus]\n", "bogus: unknown key"),
        ('\n[[role_assignments]]\nprincipal = "nobody"\nrole = "Owner"\n', "role_assignments[0].principal"),
        (
            '\n[[apps]]\nname = "x"\n[[role_assignments]]\nprincipal = "x"\nrole = "Super User"\n',
            "unknown built-in role 'Super User'",
        ),
        (
            '\n[[deployments]]\nname = "d"\nmodel = "m"\nkind = "vision"\n',
            "deployments[0].kind: unknown value",
        ),
        (
            '\n[[deployments]]\nname = "d"\nmodel = "m"\nrpm = "10"\n',
            "deployments[0].rpm: expected an integer",
        ),
        ('\n[[faults]]\nkind = "explode"\n', "faults[0].kind: unknown value 'explode'"),
        ('\n[[apps]]\nname = "x"\ntenant = "nowhere"\n', "apps[0].tenant: unknown tenant 'nowhere'"),
        (
            '\n[[apps]]\nname = "x"\nclient_id = "not-a-guid"\n',
            "apps[0].client_id: 'not-a-guid' is not a GUID",
        ),
        ('\n[[apps]]\nname = "x"\ncertificate = "yes"\n', "apps[0].certificate: expected a boolean"),
    ],
)
def test_strict_errors_name_file_and_key(scenario_file, extra: str, message: str) -> None:
    head, client = MINIMAL.split("[client]")
    path = scenario_file(head + extra.replace("[client]", "") + "\n[client]" + client, "broken.toml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unknown_client_key(scenario_file) -> None:
    path = scenario_file(MINIMAL + 'deploymnet = "chat"\n')
    with pytest.raises(ScenarioError, match=r"client\.deploymnet: unknown key"):
        load_scenario(path)


def test_missing_sections(scenario_file) -> None:
    with pytest.raises(ScenarioError, match="resource: is required"):
        load_scenario(scenario_file('[[tenants]]\nname = "t"\n[client]\ncredential = "api-key"\n'))
    with pytest.raises(ScenarioError, match="at least one"):
        load_scenario(scenario_file('[resource]\nname = "r"\n[client]\ncredential = "api-key"\n'))


def test_client_secret_credential_needs_an_app(scenario_file) -> None:
    path = scenario_file(MINIMAL.replace('"api-key"', '"client-secret"'))
    with pytest.raises(ScenarioError, match="needs an app"):
        load_scenario(path)


def test_bad_toml(scenario_file) -> None:
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(scenario_file("[[tenants]\n"))


def test_unknown_name() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'; built-in scenarios: "):
        load_scenario("nope")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")


# today's Azure: reasoning models, retirements, projects, gateways -----------------------------------

TODAY = MINIMAL.replace('[client]\ncredential = "api-key"\n', "")


def _load(scenario_file, text: str):  # type: ignore[no-untyped-def]
    return load_scenario(scenario_file(text))


def test_reasoning_defaults_come_from_the_model_name(scenario_file) -> None:
    text = TODAY
    for name, model in (("a", "gpt-5-mini"), ("b", "o1"), ("c", "o4-mini"), ("d", "gpt-4o"), ("e", "gpt-5.2-chat")):
        text += f'\n[[deployments]]\nname = "{name}"\nmodel = "{model}"\n'
    text += '\n[client]\ncredential = "api-key"\n'
    found = {d.name: (d.reasoning, d.sampling.value) for d in _load(scenario_file, text).deployments}
    assert found == {
        "a": (True, "default-only"),
        "b": (True, "unsupported"),
        "c": (True, "default-only"),
        "d": (False, "any"),
        "e": (True, "default-only"),
    }


def test_reasoning_keys_and_their_overrides(scenario_file) -> None:
    text = TODAY + """
[[deployments]]
name = "r"
model = "my-fine-tune"
reasoning = true
reasoning_tokens = 128
min_output_tokens = 1
sampling = "any"
budget_exhausted = "error"
retired = 2025-06-06

[client]
credential = "api-key"
"""
    [d] = _load(scenario_file, text).deployments
    assert (d.reasoning, d.reasoning_tokens, d.min_output_tokens, d.sampling.value, d.budget_exhausted.value) == (
        True, 128, 1, "any", "error"
    )
    assert d.retired is not None and d.retired.isoformat() == "2025-06-06"


def test_projects_make_an_ai_services_account(scenario_file) -> None:
    text = TODAY + '\n[[projects]]\nname = "p1"\n\n[[projects]]\nname = "p2"\n'
    text += '\n[client]\ncredential = "api-key"\nendpoint = "project"\n'
    scenario = _load(scenario_file, text)
    assert scenario.resource.kind == "AIServices"
    assert scenario.resource.services_host == "contoso-openai.services.ai.azure.com"
    assert (scenario.client.project, scenario.client.api_version) == ("p1", None)
    assert scenario.client.scope == "https://ai.azure.com/.default"


def test_gateway_defaults(scenario_file) -> None:
    text = TODAY + '\n[gateway]\nname = "gw"\n\n[client]\ncredential = "api-key"\nendpoint = "gateway"\n'
    scenario = _load(scenario_file, text)
    gateway = scenario.gateway
    assert gateway is not None
    assert (gateway.host, gateway.path, gateway.subscription_key_header) == (
        "gw.azure-api.net", "", "Ocp-Apim-Subscription-Key"
    )
    assert (gateway.subscription_required, gateway.validate_jwt) == (True, False)
    assert scenario.client.gateway_key.value == "valid"
    assert scenario.client.api_version == "2024-10-21"


@pytest.mark.parametrize("role", ["Azure AI User", "Foundry User", "53ca6127-db72-4b80-b1b0-d745d6d5456d"])
def test_the_foundry_role_by_any_of_its_names(scenario_file, role: str) -> None:
    text = TODAY + f'\n[[apps]]\nname = "x"\n\n[[role_assignments]]\nprincipal = "x"\nrole = "{role}"\n'
    assert _load(scenario_file, text + '\n[client]\ncredential = "api-key"\n').role_assignments[0].role == role


@pytest.mark.parametrize(
    ("extra", "client", "message"),
    [
        ('\n[[deployments]]\nname = "d"\nmodel = "gpt-4o"\nreasoning_tokens = 5\n', "",
         "deployments[0].reasoning_tokens: only a reasoning deployment"),
        ('\n[[deployments]]\nname = "d"\nmodel = "o3"\nsampling = "sometimes"\n', "",
         "deployments[0].sampling: unknown value 'sometimes'"),
        ('\n[[deployments]]\nname = "d"\nmodel = "o3"\nmin_output_tokens = 0\n', "",
         "deployments[0].min_output_tokens: must be at least 1"),
        ('\n[[deployments]]\nname = "d"\nmodel = "gpt-4"\nretired = "2025-06-06"\n', "",
         "deployments[0].retired: expected a TOML date"),
        ('\n[[projects]]\nname = "p"\n\n[[projects]]\nname = "p"\n', "", "duplicate project name 'p'"),
        ("", 'endpoint = "project"\n', "client.endpoint: endpoint 'project' needs a [[projects]] table"),
        ('\n[[projects]]\nname = "orders"\n', 'endpoint = "project"\nproject = "ordres"\n',
         "client.project: unknown project 'ordres' (did you mean 'orders'?)"),
        ('\n[[projects]]\nname = "orders"\n', 'project = "orders"\n', "client.project: only endpoint = 'project'"),
        ("", 'endpoint = "gateway"\n', "client.endpoint: endpoint 'gateway' needs a [gateway] table"),
        ("", 'gateway_key = "none"\n', "client.gateway_key: the scenario has no [gateway]"),
        ('\n[gateway]\nname = "gw"\npath = "openai-proxy/"\n', "", "gateway.path: 'openai-proxy/'"),
        ('\n[gateway]\nname = "gw"\nsubscription_key_header = "my key"\n', "",
         "gateway.subscription_key_header: 'my key' is not an HTTP header name"),
        ('\n[gateway]\nname = "gw"\nvalidate_jwt = "yes"\n', "", "gateway.validate_jwt: expected a boolean"),
        ('\n[gateway]\nname = "gw"\nkeys = []\n', "", "gateway.keys: unknown key"),
        ("", 'operation = "response"\n', "client.operation: unknown value 'response' (did you mean 'responses'?)"),
    ],
)
def test_new_keys_are_strict(scenario_file, extra: str, client: str, message: str) -> None:
    path = scenario_file(TODAY + extra + '\n[client]\ncredential = "api-key"\n' + client, "today.toml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
