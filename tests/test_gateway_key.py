"""An API Management subscription key (AOAI_DOCTOR_GATEWAY_KEY) goes to the gateway with the token, and to
nothing else. Real doctor runs against the stand-in's gateway and resource, as demo runs them."""

from __future__ import annotations

import os

from aoai_doctor import app
from aoai_doctor.model import Report, Severity, Status
from aoai_doctor.options import Options
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn, load_scenario


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
