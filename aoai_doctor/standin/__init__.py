"""Loopback stand-ins for Microsoft Entra ID, managed identity, ARM and the Azure OpenAI data plane.

``StandIn(load_scenario("healthy"))`` starts HTTPS servers (a CA and leaf certificates made at
start-up) for Entra and the data plane and a plain-HTTP managed-identity endpoint, all on
``127.0.0.1``; ``client_env()`` returns the environment a client needs to talk to them. Scenarios
are TOML files (see ``docs/standin.md``); the shipped ones are listed by :func:`scenario_names`.
"""

from aoai_doctor.standin.runtime import Endpoints, StandIn, StandInError
from aoai_doctor.standin.scenario import Scenario, ScenarioError
from aoai_doctor.standin.scenario_toml import load_scenario, parse_scenario, scenario_names
from aoai_doctor.standin.wire import RecordedRequest

__all__ = [
    "Endpoints",
    "RecordedRequest",
    "Scenario",
    "ScenarioError",
    "StandIn",
    "StandInError",
    "load_scenario",
    "parse_scenario",
    "scenario_names",
]
