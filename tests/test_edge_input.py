"""Input validation at the edge: every value from flags, the environment, config.json and checks.toml is
checked before use. Malformed values are a one-line usage error (exit 2) or a finding; never a traceback,
and a credential in an endpoint is never sent or printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main

BASE = ("run", "--select", "AOAI1", "--deployment", "d", "--api-version", "2024-10-21")


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(("args", "env", "says"), [
    (("--resolve", "r.openai.azure.com:99999999:10.0.0.1"), None, "is not a TCP port"),
    (("--resolve", "r.openai.azure.com:0:10.0.0.1"), None, "is not a TCP port"),
    ((), {"AZURE_OPENAI_DEPLOYMENT": "chat\x1b]0;pwned\x07"}, "control character U+001B"),
    ((), {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com\x07"}, "control character U+0007"),
    ((), {"OPENAI_API_VERSION": "2024-10-21" + "x" * 5000}, "characters long"),
])
def test_bad_values_are_a_one_line_usage_error(clean_env: Path, args: tuple[str, ...], env: dict[str, str] | None,
                                               says: str) -> None:
    result = invoke("run", "--select", "AOAI1", *args, env=env)
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["config.json", "checks.toml"])
def test_pathological_nesting_is_a_usage_error(clean_env: Path, name: str) -> None:
    path = clean_env / name
    if name == "config.json":
        path.write_text('{"OPENAI_API_BASE":' * 5000 + '""' + "}" * 5000, encoding="utf-8")
        flag = "--config"
    else:
        path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
        flag = "--checks"
    result = invoke(*BASE, flag, str(path))
    assert result.exit_code == 2 and "nested too deeply" in result.output
    assert "Traceback" not in result.output


def test_an_unparseable_endpoint_is_a_finding(clean_env: Path) -> None:
    result = invoke(*BASE, "--endpoint", "https://[::1", "--format", "json")
    report = json.loads(result.output)
    check = next(c for c in report["checks"] if c["id"] == "AOAI102")
    assert result.exit_code == 1 and check["findings"][0]["cause"] == "endpoint_wrong"
    assert "Invalid IPv6 URL" in check["findings"][0]["message"]


def test_a_credential_in_the_endpoint_is_refused_and_never_printed(clean_env: Path) -> None:
    secret = "hunter2-s3cret-value"
    result = invoke("run", "--select", "AOAI5", "--endpoint", f"https://user:{secret}@r.openai.azure.com",
                    "--deployment", "d", "--api-version", "2024-10-21", "--auth", "api-key", "-v",
                    env={"AZURE_OPENAI_API_KEY": "k" * 32})
    assert result.exit_code == 1 and secret not in result.output and "Traceback" not in result.output
    assert "carries a user name or password before the host" in result.output
    assert "AOAI501" in result.output and "requires AOAI102" in result.output  # the call was never made


def test_a_line_break_in_a_value_or_a_secret_is_a_usage_error_that_never_quotes_it(clean_env: Path) -> None:
    result = invoke("run", "--select", "AOAI1", "--deployment", "d\nX-Evil: 1")
    assert result.exit_code == 2 and "control character U+000A" in result.output
    secret = "k3y-value-0123456789\r\nX-Evil: 1"
    result = invoke("run", "--select", "AOAI1", env={"AOAI_DOCTOR_GATEWAY_KEY": secret})
    assert result.exit_code == 2 and "control character U+000D" in result.output
    assert "k3y-value" not in result.output


def test_a_token_with_an_impossible_expiry_is_unusable_not_a_crash() -> None:
    import base64
    import json as _json

    from aoai_doctor.services.identity import token_sanity

    def jwt(claims: str) -> str:
        body = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
        return f"eyJhbGciOiJub25lIn0.{body}.sig"

    assert token_sanity(jwt('{"exp": -Infinity}'), None) is None  # not a time: no crash, no verdict from it
    assert token_sanity(jwt('{"exp": true}'), None) is None
    assert token_sanity(jwt(_json.dumps({"exp": 1})), None) is not None  # 1970: expired on arrival
    assert token_sanity(jwt(_json.dumps({"exp": 4102444800})), 1.0) is not None  # what the credential said counts
