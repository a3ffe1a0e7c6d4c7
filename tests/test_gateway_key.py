"""The test call against today's gateways and models, as demo runs it against the stand-in: an API
Management subscription key (AOAI_DOCTOR_GATEWAY_KEY) goes to the gateway with the token and to nothing
else, and a reasoning model that runs out of budget is asked once more with room."""

from __future__ import annotations

import os
from pathlib import Path

import tomllib

from aoai_doctor import app
from aoai_doctor.model import Report, Severity, Status
from aoai_doctor.options import Options
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn, load_scenario, scenario_toml
from aoai_doctor.standin.scenario import Scenario
from aoai_doctor.standin.scenario_toml import parse_scenario


def _run(scenario: str, key: str | None = None) -> tuple[Report, list[dict[str, str]]]:
    with StandIn(load_scenario(scenario)) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
        if key is not None:
            env["AOAI_DOCTOR_GATEWAY_KEY"] = standin.gateway_key if key == "valid" else key
        report = app.run_doctor(aim(Options(select=("AOAI501",))), env)
        data_plane = [dict(r.headers) for r in standin.requests_log if r.path.endswith("/chat/completions")]
    return report, data_plane


def _check(report: Report, check_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in report.results if r.check_id == check_id)


def test_the_gateways_key_passes_the_gateway() -> None:
    report, sent = _run("apim-gateway-key-missing", key="valid")
    assert _check(report, "AOAI501").status is Status.PASS, _check(report, "AOAI501")
    assert sent and all(h.get("ocp-apim-subscription-key") == "<redacted>" for h in sent)  # sent, and never logged


def test_a_gateway_key_is_never_sent_to_the_resource_itself() -> None:
    report, sent = _run("healthy", key="k" * 32)
    result = _check(report, "AOAI501")
    warning = next(f for f in result.findings if f.severity is Severity.WARNING)
    assert "not an API Management host, so it was not sent" in warning.message
    assert sent and not any("ocp-apim-subscription-key" in h for h in sent)


def _variant(name: str, replace: tuple[str, str]) -> Scenario:
    text = (Path(scenario_toml.__file__).parent / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    assert replace[0] in text
    return parse_scenario(tomllib.loads(text.replace(*replace, 1)), name=f"{name}-variant", source="variant.toml")


def test_a_key_in_a_header_the_gateway_does_not_read_names_the_other_header() -> None:
    scenario = _variant("apim-gateway-key-missing", ('path = "/openai-proxy"',
                                                     'path = "/openai-proxy"\nsubscription_key_header = "api-key"'))
    with StandIn(scenario) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
        env["AOAI_DOCTOR_GATEWAY_KEY"] = standin.gateway_key  # sent in Ocp-Apim-Subscription-Key
        report = app.run_doctor(aim(Options(select=("AOAI501",))), env)
    failure = next(f for f in _check(report, "AOAI501").findings if f.severity is Severity.ERROR)
    assert failure.cause == "gateway_key_missing"
    assert "sent in Ocp-Apim-Subscription-Key, which this gateway does not read" in failure.message
    assert "in the `api-key` header" in (failure.fix or "")
    assert 'azure_endpoint="https://contoso-apim.azure-api.net' in (failure.fix or "")


def test_a_reasoning_model_that_runs_out_of_budget_with_an_error_is_asked_once_with_room() -> None:
    # The 400 of steipete/CodexBar#2867, as the stand-in gives it with budget_exhausted = "error".
    scenario = _variant("reasoning-model", ("reasoning_tokens = 64",
                                           "reasoning_tokens = 100\nbudget_exhausted = \"error\""))
    with StandIn(scenario) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
        report = app.run_doctor(aim(Options(select=("AOAI501",))), env)
        budgets = [r.json_body.get("max_completion_tokens") for r in standin.requests_log
                   if r.path.endswith("/chat/completions") and isinstance(r.json_body, dict)]
    result = _check(report, "AOAI501")
    assert result.status is Status.PASS, result
    assert budgets == [None, 16, 256]  # max_tokens refused, 16 used up, then room to answer
    assert "asked again with 256" in result.findings[0].message
