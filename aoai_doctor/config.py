"""Where the doctor learns what to diagnose: flags, environment, ``.env`` files, the seed
``config.json`` and ``checks.toml``, resolved into frozen values that each remember their source.

Precedence, highest first: command-line flags; environment variables (the names in
:data:`ENV_NAMES`, each field's names in order); ``.env`` files (``--env-file`` files, a later one over
an earlier one; without ``--env-file``, azd's ``.azure/<env>/.env`` over ``./.env``); ``config.json``
(the Azure OpenAI samples' notebook config); ``checks.toml`` ``[target]``. The files are read, never
exported: their variables join the environment the run diagnoses (:func:`load_app_environment`), below
the real environment, as the app's own ``load_dotenv()`` puts them in its process.
Everything malformed raises :class:`ConfigError` naming the file and the problem.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aoai_doctor import strict_toml
from aoai_doctor.azure import endpoints as ep
from aoai_doctor.model import Setting
from aoai_doctor.redaction import SECRET_VARS, Secret
from aoai_doctor.strict_toml import did_you_mean as did_you_mean  # re-exported: callers import it from here

AUTH_MODES = ("entra", "api-key")
DEPLOYMENT_KINDS = ("chat", "completion", "embedding", "responses")

# Environment variables read for the target, in precedence order per field: the openai SDK's own
# names first, then the names apps, templates and frameworks keep the same value under. Checked
# against public sources:
# - openai 1.x: AzureOpenAI() reads AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN and
#   OPENAI_API_VERSION; OpenAI() reads OPENAI_BASE_URL and OPENAI_API_KEY, which Microsoft's v1 examples
#   point at https://NAME.openai.azure.com/openai/v1/ (read here only when the URL is an Azure one).
# - openai 0.x (openai/__init__.py up to 0.28): OPENAI_API_TYPE ("azure"; "azure_ad" when OPENAI_API_KEY
#   holds an Entra ID token), OPENAI_API_BASE, OPENAI_API_KEY, OPENAI_API_VERSION.
# - azd templates: Azure-Samples/azure-search-openai-demo app/backend/app.py reads AZURE_OPENAI_SERVICE
#   (the resource name: the endpoint is https://{AZURE_OPENAI_SERVICE}.openai.azure.com),
#   AZURE_OPENAI_CHATGPT_DEPLOYMENT and AZURE_OPENAI_EMB_DEPLOYMENT (so does
#   Azure-Samples/openai-chat-app-quickstart src/quartapp/chat.py); Azure-Samples' chat and agent demos
#   read AZURE_OPENAI_CHAT_DEPLOYMENT and AZURE_OPENAI_EMBEDDING_DEPLOYMENT.
# - Semantic Kernel: microsoft/semantic-kernel python/semantic_kernel/connectors/ai/open_ai/settings/
#   azure_open_ai_settings.py, prefix AZURE_OPENAI_: CHAT_DEPLOYMENT_NAME, EMBEDDING_DEPLOYMENT_NAME,
#   API_VERSION (and ENDPOINT, API_KEY).
# - LangChain: langchain-openai's AzureChatOpenAI (libs/partners/openai/langchain_openai/chat_models/
#   azure.py) reads AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN
#   but no deployment variable; the code around it commonly passes AZURE_OPENAI_DEPLOYMENT_NAME.
# - Microsoft Foundry: Azure/azure-sdk-for-python sdk/ai/azure-ai-projects README: FOUNDRY_PROJECT_ENDPOINT
#   and FOUNDRY_MODEL_NAME (a deployment, called with responses.create); earlier samples named the
#   project endpoint AZURE_AI_PROJECT_ENDPOINT.
ENV_ENDPOINT = ("AZURE_OPENAI_ENDPOINT",)
ENV_SERVICE = ("AZURE_OPENAI_SERVICE",)
"""The resource name alone; the endpoint is ``https://NAME.openai.azure.com``."""
ENV_BASE_URL = ("OPENAI_BASE_URL",)
"""The v1 pattern's base URL; read only when it names an Azure (or loopback) host."""
ENV_LEGACY_BASE = ("OPENAI_API_BASE",)
"""openai 0.x; read only with ``OPENAI_API_TYPE`` azure or azure_ad."""
ENV_LEGACY_TYPE = ("OPENAI_API_TYPE",)
ENV_PROJECT = ("FOUNDRY_PROJECT_ENDPOINT", "AZURE_AI_PROJECT_ENDPOINT")
"""A Foundry project; the target when no Azure OpenAI endpoint is named."""
ENV_DEPLOYMENT = ("AZURE_OPENAI_DEPLOYMENT",)
ENV_DEPLOYMENTS: tuple[tuple[str, str | None], ...] = (
    ("AZURE_OPENAI_DEPLOYMENT", None),
    ("AZURE_OPENAI_DEPLOYMENT_NAME", None),
    ("AZURE_OPENAI_CHATGPT_DEPLOYMENT", "chat"),
    ("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat"),
    ("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME", "chat"),
    ("AZURE_OPENAI_EMB_DEPLOYMENT", "embedding"),
    ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "embedding"),
    ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME", "embedding"),
    ("FOUNDRY_MODEL_NAME", "responses"),
)
"""Every deployment variable and the kind of model its name implies (None: unknown, so
``--deployment-kind`` or ``AOAI_DOCTOR_DEPLOYMENT_KIND`` decides, else chat). Each distinct
deployment named is checked, on its kind's route."""
ENV_API_VERSION = ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION")
ENV_API_KEY = ("AZURE_OPENAI_API_KEY",)
ENV_OPENAI_KEY = ("OPENAI_API_KEY",)
"""The key with the v1 pattern's Azure base URL, or with openai 0.x's ``OPENAI_API_TYPE=azure``."""
ENV_TOKEN = ("AZURE_OPENAI_AD_TOKEN",)
ENV_SCOPE = ("AZURE_OPENAI_SCOPE",)
# The doctor's own variables (``aoai-doctor emulate`` prints them for its scenarios).
ENV_AUTH = ("AOAI_DOCTOR_AUTH",)
ENV_DEPLOYMENT_KIND = ("AOAI_DOCTOR_DEPLOYMENT_KIND",)
# An API Management gateway's subscription key, and the header it wants it in.
ENV_GATEWAY_KEY = ("AOAI_DOCTOR_GATEWAY_KEY",)
ENV_GATEWAY_KEY_HEADER = ("AOAI_DOCTOR_GATEWAY_KEY_HEADER",)
GATEWAY_KEY_HEADER = ep.APIM_KEY_HEADER
# Resource Manager, when not the cloud's default host (the stand-in serves it on a port of its own).
ENV_ARM_ENDPOINT = ("AOAI_DOCTOR_ARM_ENDPOINT",)

ENV_NAMES: tuple[str, ...] = tuple(dict.fromkeys((
    *ENV_ENDPOINT, *ENV_SERVICE, *ENV_BASE_URL, *ENV_LEGACY_BASE, *ENV_LEGACY_TYPE, *ENV_PROJECT,
    *(name for name, _ in ENV_DEPLOYMENTS), *ENV_API_VERSION, *ENV_API_KEY, *ENV_OPENAI_KEY, *ENV_TOKEN,
    "AZURE_OPENAI_SCOPE", "AOAI_DOCTOR_AUTH", "AOAI_DOCTOR_DEPLOYMENT_KIND", "AOAI_DOCTOR_GATEWAY_KEY",
    "AOAI_DOCTOR_GATEWAY_KEY_HEADER", "AOAI_DOCTOR_ARM_ENDPOINT",
)))
"""Every variable the doctor reads for the target: a name close to one of these is a likely typo."""

# The Azure OpenAI samples' config.json keys, and what each one means here.
CONFIG_JSON_KEYS: Mapping[str, str] = {
    "OPENAI_API_BASE": "endpoint",
    "OPENAI_API_VERSION": "api_version",
    "COMPLETIONS_MODEL": "deployment:completion",
    "CHAT_MODEL": "deployment:chat",
    "CHATGPT_MODEL": "deployment:chat",
    "EMBEDDING_MODEL": "deployment:embedding",
    "OPENAI_API_KEY": "api_key",
    "OPENAI_API_TYPE": "api_type",
}

TARGET_KEYS = ("endpoint", "deployment", "deployment_kind", "api_version", "auth", "scope", "expected_tenant")
COMMON_CHECK_OPTIONS: Mapping[str, object] = {"required": True, "timeout": 30.0}


_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
# Headers the call itself sets: a gateway key sent in one of them would replace it.
_RESERVED_HEADERS = frozenset({"authorization", "host", "content-length", "transfer-encoding", "connection",
                               "user-agent", "x-ms-client-request-id", "content-type", "accept"})


MAX_VALUE = 2048
"""The longest setting value accepted: endpoints, names and versions are far shorter."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


MAX_SECRET = 64 * 1024
"""The longest key or token accepted (Entra ID tokens are a few kilobytes)."""


def _check_value(source: str, value: str, longest: int = MAX_VALUE) -> None:
    """A value from a flag, a variable or a file, before anything uses it: no control characters (an
    escape sequence, a NUL, a line break that would split a header), no absurd length. Raises
    :class:`ConfigError` naming the source and the position, never quoting the value (it may be a secret)."""
    if len(value) > longest:
        raise ConfigError(source, f"is {len(value)} characters long; no setting is longer than {longest}")
    bad = _CONTROL.search(value)
    if bad:
        raise ConfigError(source, f"holds the control character U+{ord(bad.group(0)):04X} at position "
                          f"{bad.start() + 1}; remove it (a stray escape sequence or NUL in a file or variable)")


def _https_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


class ConfigError(Exception):
    """A configuration source is malformed. ``str()`` is a one-line message naming the source."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Deployment:
    """A deployment the target calls, with the model kind when the configuration says it."""

    name: str
    kind: str | None
    """``chat``, ``completion``, ``embedding`` or ``responses``; None when unknown (treated as chat)."""
    source: str


@dataclass(frozen=True, slots=True)
class Target:
    """One Azure OpenAI target: what to call and how to authenticate."""

    endpoint: Setting | None
    deployments: tuple[Deployment, ...]
    api_version: Setting | None
    auth: Setting
    scope: Setting | None
    expected_tenant: Setting | None
    api_key: Secret | None = None
    api_key_source: str | None = None
    notes: tuple[str, ...] = ()
    """Things resolution noticed, such as values recovered from a pasted request URL."""
    conflicts: tuple[str, ...] = ()
    """Sources that disagree (e.g. two api-version variables with different values)."""
    sources_read: tuple[str, ...] = ()
    """The configuration sources consulted (flags, environment, config.json, checks.toml)."""
    token: Secret | None = None
    """A token given to check (``--token-file``, standard input, or a static ``AZURE_OPENAI_AD_TOKEN``)."""
    token_source: str | None = None
    allow_hosts: frozenset[str] = frozenset()
    """Hosts besides Azure's own that may receive a token or key (``--allow-host``)."""
    resolve: tuple[str, ...] = ()
    """``HOST:PORT:ADDRESS`` pins for the doctor's own HTTP calls (``--resolve``)."""
    gateway_key: Secret | None = None
    """An API Management subscription key, sent besides the token or API key."""
    gateway_key_source: str | None = None
    gateway_key_header: str = GATEWAY_KEY_HEADER
    arm_endpoint: str | None = None
    """Resource Manager's address, when it is not the cloud's default (``AOAI_DOCTOR_ARM_ENDPOINT``)."""
    notices: tuple[Setting, ...] = ()
    """One line each for what was seen but not used, and why: a variable name close to one the doctor
    reads, a ``.env`` file present but not read. ``value`` is the line, ``source`` where it was seen."""

    def settings(self) -> dict[str, Setting]:
        """The resolved values by name, for reports. The API key shows only where it came from."""
        out: dict[str, Setting] = {}
        if self.endpoint:
            out["endpoint"] = self.endpoint
        for i, dep in enumerate(self.deployments):
            key = "deployment" if i == 0 else f"deployment[{i}]"
            label = dep.name if dep.kind is None else f"{dep.name} ({dep.kind})"
            out[key] = Setting(label, dep.source)
        for name in ("api_version", "auth", "scope", "expected_tenant"):
            setting = getattr(self, name)
            if setting:
                out[name] = setting
        if self.api_key_source:
            out["api_key"] = Setting("(set)", self.api_key_source)
        if self.token_source:
            out["token"] = Setting("(set)", self.token_source)
        if self.gateway_key_source:
            out["gateway_key"] = Setting(f"(set, header {self.gateway_key_header})", self.gateway_key_source)
        for i, notice in enumerate(self.notices):
            out["notice" if i == 0 else f"notice[{i}]"] = notice
        return out


@dataclass(frozen=True, slots=True)
class Overrides:
    """Values given on the command line."""

    endpoint: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    auth: str | None = None
    scope: str | None = None
    expected_tenant: str | None = None
    deployment_kind: str | None = None
    token: Secret | None = None
    token_source: str | None = None
    allow_hosts: tuple[str, ...] = ()
    resolve: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecksFile:
    """The parsed ``checks.toml``."""

    path: Path | None
    target: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    check_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    local_checks: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the file."""
        return self.path.name if self.path else "checks.toml"


@dataclass(frozen=True, slots=True)
class ConfigJson:
    """The parsed samples-style ``config.json``."""

    path: Path
    values: Mapping[str, str]


def _unknown_key(source: str, key: str, where: str, known: tuple[str, ...] | list[str]) -> ConfigError:
    return ConfigError(source, f"unknown key '{key}' in {where}{did_you_mean(key, known)}")


def load_checks_file(path: Path | None, explicit: bool) -> ChecksFile:
    """Read ``checks.toml``. A missing file is fine unless it was named explicitly."""
    if path is None or not path.exists():
        if explicit and path is not None:
            raise ConfigError(str(path), "file not found")
        return ChecksFile(None)
    try:
        return _checks_file(path, strict_toml.read(path, source=path.name))
    except strict_toml.TomlError as exc:
        raise ConfigError(exc.source, exc.problem) from None


def _checks_file(path: Path, data: Mapping[str, Any]) -> ChecksFile:
    """Validate decoded ``checks.toml``; raises :class:`strict_toml.TomlError`."""
    root = strict_toml.Table(data, source=path.name, style=strict_toml.Style.HEADER)
    target_table = root.table("target")
    target = {key: value for key in TARGET_KEYS if (value := target_table.text(key)) is not None}
    target_table.done()
    run = root.table("run")
    select = run.strings("select", allow_single=True)
    ignore = run.strings("ignore", allow_single=True)
    run.done()
    plugins = root.table("plugins")
    local_checks = plugins.strings("checks", allow_single=True)
    plugins.done()
    checks = root.table("checks")
    options = {check_id: checks.table(check_id).rest() for check_id in checks.unread_keys()}
    root.done()
    return ChecksFile(
        path=path,
        target=target,
        select=select,
        ignore=ignore,
        check_options=options,
        local_checks=local_checks,
    )


def load_config_json(path: Path) -> ConfigJson:
    """Read a samples-style ``config.json``; every key must be one the samples use."""
    label = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(label, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ConfigError(label, "nested too deeply to be a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(label, f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(label, f"expected a JSON object, found {type(data).__name__}")
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in CONFIG_JSON_KEYS:
            raise _unknown_key(label, key, "the object", tuple(CONFIG_JSON_KEYS))
        if not isinstance(value, str):
            raise ConfigError(label, f"{key} must be a string, not {type(value).__name__}")
        values[key] = value
    return ConfigJson(path, values)


@dataclass(frozen=True, slots=True)
class AppEnvironment:
    """The environment the app's process would see: the real environment over the ``.env`` files it
    loads (``load_dotenv()`` never overrides a variable that is already set). The run diagnoses this
    mapping, so the credential checks see an ``AZURE_CLIENT_ID`` kept in ``.env`` as the app's
    ``DefaultAzureCredential`` does."""

    environ: Mapping[str, str]
    origins: Mapping[str, str] = field(default_factory=dict)
    """For each variable that came from a file: where, as ``.env:3``."""
    files: tuple[str, ...] = ()
    """The files read, highest precedence first."""
    notices: tuple[Setting, ...] = ()
    """Files present but not read, lines python-dotenv skips; see :attr:`Target.notices`."""
    secrets: tuple[str, ...] = ()
    """Secret values from the files (keys, client secrets, passwords), for redaction."""

    def label(self, name: str) -> str:
        """Where variable ``name`` came from: ``.env:3 NAME`` or ``env NAME``."""
        origin = self.origins.get(name)
        return f"{origin} {name}" if origin else f"env {name}"


DOTENV_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.tmpl")
_SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|PASSWD|TOKEN|CONNECTION_STRING|\bSAS\b|_SAS_", re.IGNORECASE)
_NOT_SECRET_NAME = re.compile(r"(ENDPOINT|URL|URI|HOST|HEADER|FILE|PATH|NAME|VERSION|SCOPE)$", re.IGNORECASE)


def load_app_environment(env_files: tuple[Path, ...] | list[Path], read_cwd: bool, environ: Mapping[str, str],
                         cwd: Path | None = None) -> AppEnvironment:
    """Read the ``.env`` files and merge them under ``environ``. ``env_files`` (``--env-file``, a later
    file over an earlier one) replace the defaults; without them and with ``read_cwd``: azd's
    ``.azure/<env>/.env`` (the environment from ``AZURE_ENV_NAME`` or ``.azure/config.json``) over
    ``./.env``, as azd's templates load them (azure-search-openai-demo ``load_azd_env.py``). A named
    file that cannot be read raises :class:`ConfigError`; a default one becomes a notice."""
    from aoai_doctor.services import envfiles

    if not env_files and not read_cwd:
        return AppEnvironment(environ)
    folder = cwd or Path(os.getcwd())
    notices: list[Setting] = []
    read: list[envfiles.EnvFile] = []  # lowest precedence first
    merged: dict[str, str] = {}

    def load(path: Path, label: str, explicit: bool) -> None:
        try:
            found = envfiles.read(path, label, {**merged, **environ})
        except envfiles.EnvFileError as exc:
            if explicit:
                raise ConfigError(label, str(exc)) from None
            notices.append(Setting(f"found {label} but did not read it: it {exc}", label))
            return
        read.append(found)
        merged.update(found.values)

    defaults = [".env", *(f".azure/{p.parent.name}/.env" for p in sorted(folder.glob(".azure/*/.env")))]
    if env_files:
        for path in env_files:
            load(path, str(path), explicit=True)
        given = {Path(p).resolve() for p in env_files}
        unread = [d for d in defaults if (folder / d).is_file() and (folder / d).resolve() not in given]
        if unread:
            notices.append(Setting(f"found {', '.join(unread)} but did not read it: --env-file names the files "
                                   "to read (add --env-file for each one the app loads)", "--env-file"))
    elif read_cwd:
        if (folder / ".env").exists():
            load(folder / ".env", ".env", explicit=False)
        azd = envfiles.azd_environment(folder, environ)
        if azd.name is not None:
            label = f".azure/{azd.name}/.env"
            if (folder / label).exists():
                load(folder / label, label, explicit=False)
            elif (folder / ".azure").is_dir():
                notices.append(Setting(f"{azd.chosen_by} names the azd environment '{azd.name}', but {label} does "
                                       f"not exist{did_you_mean(azd.name, azd.available)}", azd.chosen_by))
        elif azd.available:
            names = ", ".join(f".azure/{n}/.env" for n in azd.available)
            notices.append(Setting(f"found {names} but did not read it: no azd environment is selected "
                                   f"({azd.chosen_by}); run azd env select {azd.available[0]}, or set "
                                   "AZURE_ENV_NAME", ".azure"))
        variants = sorted(p.name for p in folder.glob(".env.*") if p.is_file())
        if variants:
            why = ", ".join(f"{n} (a template)" if n.lower() in DOTENV_TEMPLATES else n for n in variants[:5])
            notices.append(Setting(f"found {why} but did not read it: load_dotenv() reads .env; name a file the app "
                                   "loads with --env-file", "."))
    for found in read:
        if found.skipped:
            lines = ", ".join(str(n) for n in found.skipped[:5])
            notices.append(Setting(f"{found.label} line{'s' * (len(found.skipped) > 1)} {lines}: not NAME=value, so "
                                   "python-dotenv skips it, and so does the app's load_dotenv()", found.label))
    origins: dict[str, str] = {}
    for found in read:
        for name in found.values:
            origins[name] = f"{found.label}:{found.lines[name]}"
    for name in environ:
        origins.pop(name, None)
    from aoai_doctor.services.environment import IDENTITY_VARS

    credential_vars = [n for n in IDENTITY_VARS if n in origins]
    if credential_vars:
        notices.append(Setting(f"{', '.join(credential_vars)} come from a file: the app's credential sees them only "
                               "if load_dotenv() runs before the credential is created",
                               origins[credential_vars[0]]))
    secrets = tuple(value for found in read for name, value in found.values.items()
                    if name in origins and (name in SECRET_VARS or (_SECRET_NAME.search(name)
                                                                     and not _NOT_SECRET_NAME.search(name))))
    return AppEnvironment({**merged, **environ}, origins, tuple(f.label for f in reversed(read)), tuple(notices),
                          secrets)


_LOOKALIKES = {"AZURE_OPENAI_KEY": "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_VERSION": "AZURE_OPENAI_API_VERSION",
               "AZURE_OPENAI_BASE": "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_BASE": "AZURE_OPENAI_ENDPOINT",
               "AZURE_OPENAI_URL": "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_AD_TOKEN_PROVIDER": "AZURE_OPENAI_AD_TOKEN"}
"""Names apps often write for one the SDKs read (beyond typos)."""


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def close_name(name: str, known: tuple[str, ...] = ENV_NAMES) -> str | None:
    """The variable the doctor reads that ``name`` most likely meant: the same but for case, a typo
    (at most two edits), or a well-known near miss; None when ``name`` is known or not close."""
    if name in known or not any(part in name.upper() for part in ("OPENAI", "FOUNDRY", "AI_PROJECT", "AOAI")):
        return None
    upper = name.upper()
    if upper in known:
        return upper
    if upper in _LOOKALIKES:
        return _LOOKALIKES[upper]
    best = min(known, key=lambda k: _edits(upper, k, 2))
    if _edits(upper, best, 2) <= 2 and best not in upper:  # AZURE_OPENAI_API_KEY_2 is another key, not a typo
        return best
    return None


def _name_notices(environ: Mapping[str, str], app_env: AppEnvironment) -> list[Setting]:
    notices = []
    for name in sorted(environ):
        meant = close_name(name)
        if meant is not None and not environ.get(meant):
            where = app_env.origins.get(name, "environment")
            notices.append(Setting(f"{name} is not a variable the doctor reads (did you mean {meant}?)", where))
    return notices[:10]


def resolve_target(
    overrides: Overrides,
    environ: Mapping[str, str],
    config_json: ConfigJson | None,
    checks: ChecksFile,
    app_env: AppEnvironment | None = None,
) -> Target:
    """Merge every source into one :class:`Target`, highest precedence first. ``environ`` is the
    environment the run diagnoses; ``app_env`` (from :func:`load_app_environment`) says which of its
    variables came from ``.env`` files, and what was found but not read."""
    app_env = app_env or AppEnvironment(environ)
    label = app_env.label
    json_label = config_json.path.name if config_json else ""
    json_values = dict(config_json.values) if config_json else {}
    toml = checks.target
    toml_label = checks.label
    conflicts: list[str] = []
    notices: list[Setting] = [*app_env.notices, *_name_notices(environ, app_env)]

    def pick(flag: str | None, flag_name: str, env_names: tuple[str, ...], json_key: str | None,
             toml_key: str, found: list[tuple[str, str]] | None = None) -> Setting | None:
        if flag:
            return Setting(flag, f"flag {flag_name}")
        if found is None:
            found = [(n, environ[n]) for n in env_names if environ.get(n, "").strip()]
        if len({v.strip().rstrip("/").lower() for _, v in found}) > 1:
            conflicts.append(" and ".join(f"{n}={v!r}" for n, v in found) + " disagree; "
                             f"{found[0][0]} wins")
        if found:
            return Setting(found[0][1], label(found[0][0]))
        if json_key and json_values.get(json_key, "").strip():
            return Setting(json_values[json_key], f"{json_label}:{json_key}")
        if toml.get(toml_key, "").strip():
            return Setting(toml[toml_key], f"{toml_label}:[target].{toml_key}")
        return None

    legacy_type = next((environ[n].strip().lower() for n in ENV_LEGACY_TYPE if environ.get(n, "").strip()), "")
    named, projects = _env_endpoints(environ, legacy_type, label, notices)
    if named and projects and not overrides.endpoint:
        notices.append(Setting(f"{projects[0][0]} is set too; this run checks {named[0][0]} (run with --endpoint "
                               "set to the project endpoint to check the project)", label(projects[0][0])))
    endpoint = pick(overrides.endpoint, "--endpoint", (), "OPENAI_API_BASE", "endpoint", named or projects)
    api_version = pick(overrides.api_version, "--api-version", ENV_API_VERSION, "OPENAI_API_VERSION",
                       "api_version")
    scope = pick(overrides.scope, "--scope", ENV_SCOPE, None, "scope")
    tenant = pick(overrides.expected_tenant, "--expect-tenant", (), None, "expected_tenant")
    auth = pick(overrides.auth, "--auth", ENV_AUTH, None, "auth") or Setting("entra", "default")
    if auth.value not in AUTH_MODES:
        raise ConfigError(auth.source, f"auth must be one of {', '.join(AUTH_MODES)}, not '{auth.value}'"
                          f"{did_you_mean(auth.value, AUTH_MODES)}")
    deployments = _deployments(overrides, environ, json_values, json_label, toml, toml_label, label)
    # OPENAI_API_KEY is Azure's key with the v1 pattern's Azure base URL or openai 0.x's api_type azure;
    # with api_type azure_ad, openai 0.x sent it as a bearer token.
    openai_key_meaning = ("token" if legacy_type in ("azure_ad", "azuread")
                          else "key" if legacy_type == "azure" or any(n in ENV_BASE_URL for n, _ in named) else None)

    api_key: Secret | None = None
    key_source: str | None = None
    key_names = (*ENV_API_KEY, *(ENV_OPENAI_KEY if openai_key_meaning == "key" else ()))
    for name in key_names:
        if environ.get(name):
            api_key, key_source = Secret(environ[name]), label(name)
            break
    else:
        if json_values.get("OPENAI_API_KEY"):
            api_key, key_source = Secret(json_values["OPENAI_API_KEY"]), f"{json_label}:OPENAI_API_KEY"

    token: Secret | None = None
    token_source: str | None = None
    if overrides.token and overrides.token.reveal().strip():
        token, token_source = Secret(overrides.token.reveal().strip()), overrides.token_source or "flag --token-file"
    else:
        for name in (*ENV_TOKEN, *(ENV_OPENAI_KEY if openai_key_meaning == "token" else ())):
            if environ.get(name, "").strip():
                token, token_source = Secret(environ[name].strip()), label(name)
                break

    gateway_key, gateway_source = next(((Secret(environ[n].strip()), label(n)) for n in ENV_GATEWAY_KEY
                                         if environ.get(n, "").strip()), (None, None))
    gateway_header = next((environ[n].strip() for n in ENV_GATEWAY_KEY_HEADER if environ.get(n, "").strip()),
                          GATEWAY_KEY_HEADER)
    if not _HEADER_NAME.match(gateway_header):
        raise ConfigError(ENV_GATEWAY_KEY_HEADER[0], f"'{gateway_header}' is not an HTTP header name")
    if gateway_header.lower() in _RESERVED_HEADERS or (gateway_header.lower() == "api-key" and auth.value == "api-key"):
        raise ConfigError(ENV_GATEWAY_KEY_HEADER[0], f"'{gateway_header}' carries something else in the call "
                          "(the token, the API key or the request itself); the gateway's key needs its own header")
    arm_endpoint = next((environ[n].strip() for n in ENV_ARM_ENDPOINT if environ.get(n, "").strip()), None)
    if arm_endpoint is not None and not _https_url(arm_endpoint):
        raise ConfigError(ENV_ARM_ENDPOINT[0], f"'{arm_endpoint}' is not an https:// URL")

    for setting in (endpoint, api_version, scope, tenant, auth):
        if setting is not None:
            _check_value(setting.source, setting.value)
    for dep in deployments:
        _check_value(dep.source, dep.name)
    for secret, where in ((api_key, key_source), (gateway_key, gateway_source), (token, token_source)):
        if secret is not None and where is not None:  # a header value: never a control character
            _check_value(where, secret.reveal(), longest=MAX_SECRET)

    notes: list[str] = []
    if endpoint is not None:
        try:
            info = ep.parse(endpoint.value)
        except ep.EndpointParseError:
            info = None
        if info is not None and info.shape is ep.PathShape.REQUEST_URL:
            recovered = [f"endpoint {info.base_url}"]
            if info.deployment and not deployments:
                deployments = (Deployment(info.deployment, _kind_of(info.operation),
                                          f"recovered from {endpoint.source}"),)
                recovered.append(f"deployment {info.deployment}")
            if info.api_version and api_version is None:
                api_version = Setting(info.api_version, f"recovered from {endpoint.source}")
                recovered.append(f"api-version {info.api_version}")
            notes.append("recovered " + ", ".join(recovered) + " from the request URL given as the endpoint")
        if info is not None and info.shape is ep.PathShape.V1_DEPLOYMENTS and info.deployment and not deployments:
            # AzureOpenAI given a v1 base URL: AOAI102 explains; the deployment is still the one meant.
            deployments = (Deployment(info.deployment, _kind_of(info.operation), f"recovered from {endpoint.source}"),)
        if (info is not None and info.api_version and api_version is None
                and info.shape in (ep.PathShape.V1, ep.PathShape.MODELS_INFERENCE, ep.PathShape.FOUNDRY_PROJECT)):
            api_version = Setting(info.api_version, f"recovered from {endpoint.source}")
        kind = (_kind_of(info.operation) if info is not None
                and info.shape in (ep.PathShape.V1, ep.PathShape.FOUNDRY_PROJECT) else None)
        if kind and deployments and all(d.kind is None for d in deployments):  # the route says what it is
            deployments = tuple(Deployment(d.name, kind, d.source) for d in deployments)
            notes.append(f"deployment kind {kind}, from the /openai/v1/{info.operation if info else ''} endpoint")
    return Target(
        endpoint=endpoint,
        deployments=deployments,
        api_version=api_version,
        auth=auth,
        scope=scope,
        expected_tenant=tenant,
        api_key=api_key,
        api_key_source=key_source,
        notes=tuple(notes),
        conflicts=tuple(conflicts),
        sources_read=_sources_read(overrides, environ, config_json, checks, app_env),
        token=token,
        token_source=token_source,
        allow_hosts=frozenset(h.lower() for h in overrides.allow_hosts),
        resolve=overrides.resolve,
        gateway_key=gateway_key,
        gateway_key_source=gateway_source,
        gateway_key_header=gateway_header,
        arm_endpoint=arm_endpoint,
        notices=tuple(notices),
    )


def _sources_read(overrides: Overrides, environ: Mapping[str, str], config_json: ConfigJson | None,
                  checks: ChecksFile, app_env: AppEnvironment) -> tuple[str, ...]:
    """The sources consulted, highest precedence first, each with the variables it gave."""
    sources = []
    if any(getattr(overrides, f) for f in ("endpoint", "deployment", "api_version", "auth", "scope",
                                            "expected_tenant")):
        sources.append("command-line flags")
    real = [n for n in ENV_NAMES if environ.get(n) and n not in app_env.origins]
    if real:
        sources.append("environment (" + ", ".join(real) + ")")
    for file_label in app_env.files:
        names = [n for n in ENV_NAMES if app_env.origins.get(n, "").rsplit(":", 1)[0] == file_label]
        sources.append(f"{file_label} (" + (", ".join(names) if names else "no variable the doctor reads") + ")")
    if config_json:
        sources.append(str(config_json.path))
    if checks.path:
        sources.append(str(checks.path))
    return tuple(sources)


def _env_endpoints(environ: Mapping[str, str], legacy_type: str, label: Callable[[str], str],
                   notices: list[Setting]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The endpoints the environment names, by variable, in precedence order: an Azure OpenAI endpoint
    (``AZURE_OPENAI_ENDPOINT``, azd's ``AZURE_OPENAI_SERVICE``, an Azure ``OPENAI_BASE_URL``, openai 0.x's
    ``OPENAI_API_BASE``), and apart, Foundry project endpoints. A variable set but not read is a notice."""
    named = [(n, environ[n]) for n in ENV_ENDPOINT if environ.get(n, "").strip()]
    for name in ENV_SERVICE:
        value = environ.get(name, "").strip()
        if value:
            if not ep.valid_subdomain(value):
                notices.append(Setting(f"{name} should be the resource name alone: azd templates build "
                                       f"https://{{{name}}}.openai.azure.com from it", label(name)))
            named.append((name, f"https://{value}.openai.azure.com"))
    for name in ENV_BASE_URL:
        value = environ.get(name, "").strip()
        if value:
            family = _family(value)
            if family is not None and family not in (ep.HostFamily.OPENAI_PLATFORM, ep.HostFamily.OTHER):
                named.append((name, value))
            else:
                notices.append(Setting(f"{name} is not read: it does not name an Azure OpenAI endpoint, so the "
                                       "openai SDK's OpenAI() calls that host, not Azure", label(name)))
    for name in ENV_LEGACY_BASE:
        value = environ.get(name, "").strip()
        if value:
            if legacy_type in ("azure", "azure_ad", "azuread"):
                named.append((name, value))
            else:
                notices.append(Setting(f"{name} is not read: OPENAI_API_TYPE is {legacy_type or 'not set'}, not "
                                       "azure (openai 0.x then calls OpenAI's own API)", label(name)))
    projects = [(n, environ[n]) for n in ENV_PROJECT if environ.get(n, "").strip()]
    return named, projects


def _family(url: str) -> ep.HostFamily | None:
    try:
        return ep.parse(url).family
    except ep.EndpointParseError:
        return None


def _deployments(overrides: Overrides, environ: Mapping[str, str], json_values: Mapping[str, str],
                 json_label: str, toml: Mapping[str, str], toml_label: str,
                 label: Callable[[str], str]) -> tuple[Deployment, ...]:
    """Deployments from the highest source that names any. The environment may name several (a chat
    and an embeddings deployment): each distinct one, with the kind its variable implies."""
    kind = overrides.deployment_kind or next((environ[n].strip() for n in ENV_DEPLOYMENT_KIND
                                              if environ.get(n, "").strip()), None)
    if kind is not None and kind not in DEPLOYMENT_KINDS:
        where = "--deployment-kind" if overrides.deployment_kind else "AOAI_DOCTOR_DEPLOYMENT_KIND"
        raise ConfigError(where, f"must be one of {', '.join(DEPLOYMENT_KINDS)}, not "
                          f"'{kind}'{did_you_mean(kind, DEPLOYMENT_KINDS)}")
    if overrides.deployment:
        return (Deployment(overrides.deployment, kind, "flag --deployment"),)
    from_env: dict[tuple[str, str], Deployment] = {}
    for name, implied in ENV_DEPLOYMENTS:
        value = environ.get(name, "").strip()
        if value:
            dep_kind = implied or kind
            from_env.setdefault((value, dep_kind or "chat"), Deployment(value, dep_kind, label(name)))
    if from_env:
        return tuple(from_env.values())
    from_json = tuple(
        Deployment(value, meaning.split(":", 1)[1], f"{json_label}:{key}")
        for key, meaning in CONFIG_JSON_KEYS.items()
        if meaning.startswith("deployment:") and (value := json_values.get(key, "").strip())
    )
    if from_json:
        return from_json
    if toml.get("deployment", "").strip():
        kind = toml.get("deployment_kind") or None
        if kind is not None and kind not in DEPLOYMENT_KINDS:
            raise ConfigError(toml_label, f"[target] deployment_kind must be one of "
                              f"{', '.join(DEPLOYMENT_KINDS)}, not '{kind}'{did_you_mean(kind, DEPLOYMENT_KINDS)}")
        return (Deployment(toml["deployment"], kind, f"{toml_label}:[target].deployment"),)
    return ()


def _kind_of(operation: str | None) -> str | None:
    return {"chat/completions": "chat", "completions": "completion", "embeddings": "embedding",
            "responses": "responses"}.get(
        (operation or "").lower()
    )


def find_default(name: str, cwd: Path | None = None) -> Path | None:
    """``./<name>`` when it exists."""
    candidate = (cwd or Path(os.getcwd())) / name
    return candidate if candidate.is_file() else None
