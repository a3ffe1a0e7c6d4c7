"""The scenario parser: strict_toml's errors become ScenarioErrors, with hints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aoai_doctor.standin import ScenarioError, load_scenario, parse_scenario

MINIMAL = '[[tenants]]\nname = "contoso"\n\n[resource]\nname = "contoso-openai"\n\n[client]\ncredential = "api-key"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + 'deploymnet = "chat"\n', "client.deploymnet: unknown key (did you mean 'deployment'?)"),
        (MINIMAL.replace('"api-key"', '"api-keys"'),
         "client.credential: unknown value 'api-keys' (did you mean 'api-key'?)"),
        (MINIMAL + 'federated_token = "expird"\n',
         "client.federated_token: unknown value 'expird' (did you mean 'expired'?)"),
        (MINIMAL.replace('name = "contoso-openai"', 'name = "r"\ntenant = "contosso"'),
         "resource.tenant: unknown tenant 'contosso' (did you mean 'contoso'?)"),
        (MINIMAL.replace('name = "contoso-openai"', 'name = "r"\nallowed_ips = ["10.0.0.0/8", 1]'),
         "resource.allowed_ips[1]: expected a string, got an integer"),
    ],
)
def test_errors_carry_hints(scenario_file: Callable[..., Path], text: str, expected: str) -> None:
    path = scenario_file(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"scenario {path}: {expected}")


def test_parse_scenario_reports_a_decoded_document_by_its_source() -> None:
    document = {"tenants": [{"name": "t"}], "client": {"credential": "api-key"}}
    with pytest.raises(ScenarioError, match=r"^scenario inline\.toml: resource: is required$"):
        parse_scenario(document, name="x", source="inline.toml")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'[[tenants]]\nname = "\xff"\n')
    with pytest.raises(ScenarioError, match=r"^scenario .*bad\.toml: invalid TOML: not UTF-8"):
        load_scenario(path)
