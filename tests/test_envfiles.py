"""Settings where apps keep them: ``.env``, azd's ``.azure/<env>/.env``, ``--env-file``, and the variable
names of azd templates, Semantic Kernel, LangChain, openai 0.x, the v1 pattern and Foundry; each value
with its provenance, below the real environment. Config-level tests in a temporary folder, then a few
real CLI runs (one against the stand-in)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aoai_doctor import config
from aoai_doctor.cli import main
from aoai_doctor.services.sandbox import doctor_env
from tests.conftest import StartStandIn


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _resolve(folder: Path, environ: dict[str, str] | None = None,
             env_files: tuple[Path, ...] = (), flags: config.Overrides | None = None,
             ) -> tuple[config.Target, config.AppEnvironment]:
    app_env = config.load_app_environment(env_files, True, environ or {}, cwd=folder)
    target = config.resolve_target(flags or config.Overrides(), app_env.environ, None, config.ChecksFile(None), app_env)
    return target, app_env


def _settings(target: config.Target) -> dict[str, tuple[str, str]]:
    return {name: (s.value, s.source) for name, s in target.settings().items()}


@pytest.mark.parametrize(
    ("line", "field", "value", "source"),
    [
        ("AZURE_OPENAI_ENDPOINT=https://r.openai.azure.com", "endpoint", "https://r.openai.azure.com",
         "AZURE_OPENAI_ENDPOINT"),
        ("AZURE_OPENAI_SERVICE=myres", "endpoint", "https://myres.openai.azure.com", "AZURE_OPENAI_SERVICE"),
        ("OPENAI_BASE_URL=https://r.openai.azure.com/openai/v1/", "endpoint", "https://r.openai.azure.com/openai/v1/",
         "OPENAI_BASE_URL"),
        ("FOUNDRY_PROJECT_ENDPOINT=https://r.services.ai.azure.com/api/projects/p", "endpoint",
         "https://r.services.ai.azure.com/api/projects/p", "FOUNDRY_PROJECT_ENDPOINT"),
        ("AZURE_AI_PROJECT_ENDPOINT=https://r.services.ai.azure.com/api/projects/p", "endpoint",
         "https://r.services.ai.azure.com/api/projects/p", "AZURE_AI_PROJECT_ENDPOINT"),
        ("AZURE_OPENAI_DEPLOYMENT=d", "deployment", "d", "AZURE_OPENAI_DEPLOYMENT"),
        ("AZURE_OPENAI_DEPLOYMENT_NAME=d", "deployment", "d", "AZURE_OPENAI_DEPLOYMENT_NAME"),
        ("AZURE_OPENAI_CHATGPT_DEPLOYMENT=chat", "deployment", "chat (chat)", "AZURE_OPENAI_CHATGPT_DEPLOYMENT"),
        ("AZURE_OPENAI_CHAT_DEPLOYMENT=chat", "deployment", "chat (chat)", "AZURE_OPENAI_CHAT_DEPLOYMENT"),
        ("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME=chat", "deployment", "chat (chat)", "AZURE_OPENAI_CHAT_DEPLOYMENT_NAME"),
        ("AZURE_OPENAI_EMB_DEPLOYMENT=emb", "deployment", "emb (embedding)", "AZURE_OPENAI_EMB_DEPLOYMENT"),
        ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT=emb", "deployment", "emb (embedding)", "AZURE_OPENAI_EMBEDDING_DEPLOYMENT"),
        ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME=emb", "deployment", "emb (embedding)",
         "AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME"),
        ("FOUNDRY_MODEL_NAME=m", "deployment", "m (responses)", "FOUNDRY_MODEL_NAME"),
        ("AZURE_OPENAI_API_VERSION=2024-10-21", "api_version", "2024-10-21", "AZURE_OPENAI_API_VERSION"),
        ("OPENAI_API_VERSION=2024-10-21", "api_version", "2024-10-21", "OPENAI_API_VERSION"),
    ],
)
def test_each_variable_name_in_dotenv_resolves_with_its_line(
        tmp_path: Path, line: str, field: str, value: str, source: str) -> None:
    _write(tmp_path / ".env", f"# settings\n{line}\n")
    target, _ = _resolve(tmp_path)
    assert _settings(target)[field] == (value, f".env:2 {source}")
    assert target.sources_read == (f".env ({source})",)


def test_legacy_openai_0x_azure_settings_give_endpoint_and_key(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "OPENAI_API_TYPE=azure\nOPENAI_API_BASE=https://old.openai.azure.com/\n"
                              "OPENAI_API_KEY=legacy-key-0123456789\nOPENAI_API_VERSION=2023-05-15\n")
    target, app_env = _resolve(tmp_path)
    assert _settings(target)["endpoint"] == ("https://old.openai.azure.com/", ".env:2 OPENAI_API_BASE")
    assert target.api_key is not None and target.api_key.reveal() == "legacy-key-0123456789"
    assert target.api_key_source == ".env:3 OPENAI_API_KEY"
    assert "legacy-key-0123456789" in app_env.secrets


def test_legacy_azure_ad_type_makes_the_key_a_token(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "OPENAI_API_TYPE=azure_ad\nOPENAI_API_BASE=https://old.openai.azure.com\n"
                              "OPENAI_API_KEY=eyJhbGciOiJub25lIn0.e30.\n")
    target, _ = _resolve(tmp_path)
    assert target.api_key is None and target.token_source == ".env:3 OPENAI_API_KEY"


def test_v1_key_is_read_with_an_azure_base_url_only(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "OPENAI_BASE_URL=https://api.openai.com/v1\nOPENAI_API_KEY=sk-not-azure-0123456789\n"
                              "OPENAI_API_BASE=https://r.openai.azure.com\n")
    target, _ = _resolve(tmp_path)
    assert target.endpoint is None and target.api_key is None
    said = [n.value for n in target.notices]
    assert any(s.startswith("OPENAI_BASE_URL is not read: it does not name an Azure OpenAI endpoint") for s in said)
    assert any(s.startswith("OPENAI_API_BASE is not read: OPENAI_API_TYPE is not set") for s in said)
    _write(tmp_path / ".env", "OPENAI_BASE_URL=https://r.openai.azure.com/openai/v1/\nOPENAI_API_KEY=azure-key-0123456789\n")
    target, _ = _resolve(tmp_path)
    assert target.api_key_source == ".env:2 OPENAI_API_KEY"


def test_chat_and_embedding_deployments_are_each_kept_with_their_kind(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "AZURE_OPENAI_SERVICE=r\nAZURE_OPENAI_CHATGPT_DEPLOYMENT=chat\n"
                              "AZURE_OPENAI_CHAT_DEPLOYMENT_NAME=chat\nAZURE_OPENAI_EMB_DEPLOYMENT=emb\n")
    target, _ = _resolve(tmp_path)
    assert [(d.name, d.kind, d.source) for d in target.deployments] == [
        ("chat", "chat", ".env:2 AZURE_OPENAI_CHATGPT_DEPLOYMENT"),
        ("emb", "embedding", ".env:4 AZURE_OPENAI_EMB_DEPLOYMENT"),
    ]


def test_azd_environment_file_over_dotenv_and_real_environment_over_both(tmp_path: Path) -> None:
    _write(tmp_path / ".azure" / "config.json", json.dumps({"version": 1, "defaultEnvironment": "dev"}))
    _write(tmp_path / ".azure" / "dev" / ".env",
           'AZURE_OPENAI_SERVICE="dev-res"\nAZURE_OPENAI_CHATGPT_DEPLOYMENT="chat"\n')
    _write(tmp_path / ".azure" / "prod" / ".env", 'AZURE_OPENAI_SERVICE="prod-res"\n')
    _write(tmp_path / ".env", "AZURE_OPENAI_CHATGPT_DEPLOYMENT=local\nOPENAI_API_VERSION=2024-10-21\n")
    target, app_env = _resolve(tmp_path)
    assert _settings(target)["endpoint"] == ("https://dev-res.openai.azure.com",
                                             ".azure/dev/.env:1 AZURE_OPENAI_SERVICE")
    assert _settings(target)["deployment"] == ("chat (chat)", ".azure/dev/.env:2 AZURE_OPENAI_CHATGPT_DEPLOYMENT")
    assert _settings(target)["api_version"] == ("2024-10-21", ".env:2 OPENAI_API_VERSION")
    assert app_env.files == (".azure/dev/.env", ".env")
    target, _ = _resolve(tmp_path, {"AZURE_ENV_NAME": "prod", "AZURE_OPENAI_CHATGPT_DEPLOYMENT": "real"})
    assert _settings(target)["endpoint"] == ("https://prod-res.openai.azure.com",
                                             ".azure/prod/.env:1 AZURE_OPENAI_SERVICE")
    assert _settings(target)["deployment"] == ("real (chat)", "env AZURE_OPENAI_CHATGPT_DEPLOYMENT")


def test_env_files_given_replace_the_defaults_and_the_later_one_wins(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "AZURE_OPENAI_DEPLOYMENT=from-dotenv\n")
    first = _write(tmp_path / "a.env", "AZURE_OPENAI_DEPLOYMENT=a\nAZURE_OPENAI_ENDPOINT=https://a.openai.azure.com\n")
    second = _write(tmp_path / "b.env", "\nAZURE_OPENAI_DEPLOYMENT=b\n")
    target, app_env = _resolve(tmp_path, env_files=(first, second))
    assert _settings(target)["deployment"] == ("b", f"{second}:2 AZURE_OPENAI_DEPLOYMENT")
    assert _settings(target)["endpoint"] == ("https://a.openai.azure.com", f"{first}:2 AZURE_OPENAI_ENDPOINT")
    assert app_env.files == (str(second), str(first))
    assert [n.value for n in target.notices] == [
        "found .env but did not read it: --env-file names the files to read "
        "(add --env-file for each one the app loads)"]
    with pytest.raises(config.ConfigError, match=r"missing\.env: file not found"):
        _resolve(tmp_path, env_files=(tmp_path / "missing.env",))


def test_close_names_and_ignored_files_are_each_one_notice(tmp_path: Path) -> None:
    _write(tmp_path / ".azure" / "staging" / ".env", "AZURE_OPENAI_SERVICE=s\n")
    _write(tmp_path / ".env.example", "AZURE_OPENAI_ENDPOINT=\n")
    _write(tmp_path / ".env", "AZURE_OPENAI_ENDPIONT=https://r.openai.azure.com\nnot a setting line\n"
                              "azure_openai_deployment=d\nAZURE_OPENAI_API_KEY_2=not-a-typo\n")
    target, _ = _resolve(tmp_path, {"AZURE_OPENAI_KEY": "k"})
    notices = {(n.value, n.source) for n in target.notices}
    assert notices == {
        ("found .azure/staging/.env but did not read it: no azd environment is selected (no AZURE_ENV_NAME and "
         "no .azure/config.json); run azd env select staging, or set AZURE_ENV_NAME", ".azure"),
        ("found .env.example (a template) but did not read it: load_dotenv() reads .env; name a file the app "
         "loads with --env-file", "."),
        (".env line 2: not NAME=value, so python-dotenv skips it, and so does the app's load_dotenv()", ".env"),
        ("AZURE_OPENAI_ENDPIONT is not a variable the doctor reads (did you mean AZURE_OPENAI_ENDPOINT?)", ".env:1"),
        ("azure_openai_deployment is not a variable the doctor reads (did you mean AZURE_OPENAI_DEPLOYMENT?)",
         ".env:3"),
        ("AZURE_OPENAI_KEY is not a variable the doctor reads (did you mean AZURE_OPENAI_API_KEY?)", "environment"),
    }
    assert target.endpoint is None and not target.deployments
    assert _settings(target)["notice"][0] in {n for n, _ in notices}


def test_credential_variables_from_a_file_reach_the_run_and_are_secret(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111\n"
                              "AZURE_CLIENT_SECRET=client-secret-canary-987\nSEARCH_ADMIN_KEY=search-key-canary-654\n"
                              "SERVICE_ENDPOINT=https://x.example\n")
    target, app_env = _resolve(tmp_path, {"AZURE_TENANT_ID": "t"})
    assert app_env.environ["AZURE_CLIENT_SECRET"] == "client-secret-canary-987"
    assert app_env.environ["AZURE_TENANT_ID"] == "t" and "AZURE_TENANT_ID" not in app_env.origins
    assert set(app_env.secrets) == {"client-secret-canary-987", "search-key-canary-654"}
    assert ("AZURE_CLIENT_ID, AZURE_CLIENT_SECRET come from a file: the app's credential sees them only if "
            "load_dotenv() runs before the credential is created", ".env:1") in {(n.value, n.source)
                                                                                  for n in target.notices}


def test_values_from_files_are_validated_like_the_environment(tmp_path: Path) -> None:
    _write(tmp_path / ".env", 'AZURE_OPENAI_ENDPOINT="https://r.openai.azure.com\\x1b[2J"\n'
                              'AZURE_OPENAI_DEPLOYMENT="a\\nb"\n')
    with pytest.raises(config.ConfigError, match=r"^\.env:2 AZURE_OPENAI_DEPLOYMENT: holds the control character "
                                                 r"U\+000A at position 2"):
        _resolve(tmp_path)


def test_expansion_uses_the_given_environment_and_earlier_lines(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "NAME=expanded\nAZURE_OPENAI_ENDPOINT=https://${NAME}.openai.azure.com\n"
                              "AZURE_OPENAI_DEPLOYMENT=${DEP:-fallback}\n")
    target, _ = _resolve(tmp_path, {"NAME": "real"})
    assert _settings(target)["endpoint"][0] == "https://real.openai.azure.com"
    assert _settings(target)["deployment"][0] == "fallback"


@pytest.mark.parametrize(("content", "problem"), [
    (b"\xff\xfeA\x00=\x00", "is not UTF-8 text"),
    (b"A=" + b"x" * (1024 * 1024), "bytes; a settings file is far smaller"),
])
def test_an_unreadable_default_file_is_a_notice_and_a_named_one_an_error(
        tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / ".env").write_bytes(content)
    target, _ = _resolve(tmp_path)
    assert target.notices[0].value.startswith("found .env but did not read it: it ")
    assert problem in target.notices[0].value
    with pytest.raises(config.ConfigError, match=problem):
        _resolve(tmp_path, env_files=(tmp_path / ".env",))


def test_no_file_is_read_unless_asked(tmp_path: Path) -> None:
    _write(tmp_path / ".env", "AZURE_OPENAI_DEPLOYMENT=d\n")
    app_env = config.load_app_environment((), False, {"X": "1"}, cwd=tmp_path)
    assert dict(app_env.environ) == {"X": "1"} and not app_env.files and not app_env.notices


# --- the CLI, in the test's own folder (the current directory) ---------------------------------------------


def _run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_run_verbose_and_json_show_each_value_with_its_file_line(clean_env: Path) -> None:
    _write(clean_env / ".azure" / "config.json", json.dumps({"defaultEnvironment": "dev"}))
    _write(clean_env / ".azure" / "dev" / ".env",
           'AZURE_OPENAI_SERVICE="myres"\nAZURE_OPENAI_CHATGPT_DEPLOYMENT="chat"\n')
    _write(clean_env / ".env", "AZURE_OPENAI_API_VERSION=2024-10-21\nAZURE_OPENAI_API_KEY=dotenv-key-canary-31337\n"
                               "AZURE_OPENAI_DEPLOYMNET=typo\n")
    code, text = _run("--select", "AOAI1", "-v")
    assert code == 0, text
    text = " ".join(text.split())  # the report wraps at the terminal's width
    assert "(.azure/dev/.env:2 AZURE_OPENAI_CHATGPT_DEPLOYMENT)" in text
    assert "notice AZURE_OPENAI_DEPLOYMNET is not a variable the doctor reads" in text
    assert "an API key is stored in a file (.env:2 AZURE_OPENAI_API_KEY)" in text
    code, out = _run("--select", "AOAI1", "--format", "json", "--auth", "api-key")
    assert "dotenv-key-canary-31337" not in out + text
    assert json.loads(out)["sources_read"] == [
        "command-line flags",
        ".azure/dev/.env (AZURE_OPENAI_SERVICE, AZURE_OPENAI_CHATGPT_DEPLOYMENT)",
        ".env (AZURE_OPENAI_API_VERSION, AZURE_OPENAI_API_KEY)"]
    target: dict[str, Any] = json.loads(out)["target"]
    assert target["endpoint"] == {"value": "https://myres.openai.azure.com",
                                  "source": ".azure/dev/.env:1 AZURE_OPENAI_SERVICE"}
    assert target["api_version"]["source"] == ".env:1 AZURE_OPENAI_API_VERSION"
    assert target["api_key"] == {"value": "(set)", "source": ".env:2 AZURE_OPENAI_API_KEY"}
    assert target["notice"] == {"value": "AZURE_OPENAI_DEPLOYMNET is not a variable the doctor reads "
                                         "(did you mean AZURE_OPENAI_DEPLOYMENT?)", "source": ".env:3"}


def test_env_file_flag_is_a_usage_error_when_missing(clean_env: Path) -> None:
    code, out = _run("--env-file", "nope.env")
    assert code == 2 and "nope.env: file not found" in out and "Traceback" not in out


TWO_DEPLOYMENTS = """
[[tenants]]
name = "contoso"
[[apps]]
name = "orders-api"
secret = true
[resource]
name = "contoso-openai"
region = "eastus"
[[deployments]]
name = "chat"
model = "gpt-4o-mini"
model_version = "2024-07-18"
[[deployments]]
name = "emb"
model = "text-embedding-3-small"
model_version = "1"
[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"
[client]
credential = "client-secret"
app = "orders-api"
deployment = "chat"
api_version = "2024-10-21"
scope = "https://cognitiveservices.azure.com/.default"
"""


def test_chat_and_embedding_deployments_from_dotenv_are_each_called_on_their_route(
        clean_env: Path, standin: StartStandIn) -> None:
    s = standin(TWO_DEPLOYMENTS)
    _write(clean_env / ".env", "AZURE_OPENAI_CHAT_DEPLOYMENT=chat\nAZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME=emb\n")
    code, out = _run("--select", "AOAI501", "--format", "json",
                     env={**doctor_env(s), "AZURE_OPENAI_DEPLOYMENT": None})
    report = json.loads(out)
    assert code == 0, out
    call = next(c for c in report["checks"] if c["id"] == "AOAI501")
    routes = sorted((c["deployment"], c["url"].rsplit("/", 1)[-1].split("?")[0]) for c in call["data"]["calls"])
    assert routes == [("chat", "completions"), ("emb", "embeddings")]
    assert report["target"]["deployment[1]"]["source"] == ".env:2 AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME"


def test_a_service_principal_kept_in_dotenv_is_the_one_the_chain_uses(clean_env: Path,
                                                                        standin: StartStandIn) -> None:
    """The app's load_dotenv() puts .env's variables in its process environment, where EnvironmentCredential
    reads them: the run sees them there too (for its duration only), and the secret is never printed."""
    import os

    s = standin("healthy", env=False)
    client = s.client_env()
    kept = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST")
    _write(clean_env / ".env", "".join(f"{name}={client[name]}\n" for name in kept))
    others = {k: v for k, v in client.items() if k not in kept}
    code, out = _run("--select", "AOAI210", "--format", "json", env={**others, **doctor_env(s)})
    report = json.loads(out)
    assert code == 0, out
    verdict = next(c for c in report["checks"] if c["id"] == "AOAI210")
    assert verdict["data"]["winner"] == "EnvironmentCredential"
    assert client["AZURE_CLIENT_SECRET"] not in out
    assert not any(name in os.environ for name in kept)  # put back as it was


def test_the_library_reads_the_env_files_it_is_given(tmp_path: Path) -> None:
    import aoai_doctor

    settings = tmp_path / "app.env"
    _write(settings, "AZURE_OPENAI_ENDPOINT=https://east.openai.azure.com\nAZURE_OPENAI_CHATGPT_DEPLOYMENT=chat\n"
                     "OPENAI_API_VERSION=2024-10-21\n")
    report = aoai_doctor.diagnose(env_files=[settings], select=["AOAI1"], live=False, environ={})
    assert report.passed
    assert report.target["deployment"].source == f"{settings}:2 AZURE_OPENAI_CHATGPT_DEPLOYMENT"


def test_a_dotenv_line_no_process_can_hold_is_left_out_of_the_environment(clean_env: Path) -> None:
    """A value with a NUL byte, or a name the environment cannot have, never reaches os.environ (which would
    raise): the run goes on."""
    (clean_env / ".env").write_bytes(b"AZURE_OPENAI_ENDPOINT=https://east.openai.azure.com\nAZURE_OPENAI_DEPLOYMENT=chat\n"
                                     b"OPENAI_API_VERSION=2024-10-21\nBAR=\"x\x00y\"\n'A=B'=1\n")
    code, out = _run("--select", "AOAI1", "--no-live")
    assert code == 0, out
    assert "Traceback" not in out
