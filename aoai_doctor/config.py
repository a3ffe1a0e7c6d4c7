"""Where the doctor learns what to diagnose: flags, environment, ``.env`` files, the seed
``config.json`` and ``checks.toml``, resolved into frozen values that each remember their source.

Precedence, highest first: command-line flags; environment variables (:mod:`aoai_doctor.azure.variables`);
``.env`` files (``--env-file`` files, a later one first; else azd's ``.azure/<env>/.env``, then ``./.env``),
read and merged below the real environment as ``load_dotenv()`` does (``run`` alone also sets them in
its own process environment for the run, where azure-identity's credentials read)
(:func:`load_app_environment`); ``config.json`` (the Azure OpenAI samples' notebook config);
``checks.toml`` ``[target]``. Everything malformed raises :class:`ConfigError` naming the source. The files
themselves (``checks.toml``, a targets file, ``config.json``) are read by :mod:`aoai_doctor.config_files`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from aoai_doctor import config_files as files
from aoai_doctor.azure import endpoints as ep
from aoai_doctor.azure import variables as av
from aoai_doctor.model import Setting
from aoai_doctor.record import record
from aoai_doctor.redaction import Secret
from aoai_doctor.services.envfiles import AppEnvironment as AppEnvironment  # re-exported
from aoai_doctor.strict_toml import did_you_mean as did_you_mean  # re-exported: callers import it from here

# The files' names, which the rest of the doctor reaches through this module.
AUTH_MODES = files.AUTH_MODES
CONFIG_JSON_KEYS = files.CONFIG_JSON_KEYS
DEPLOYMENT_KINDS = files.DEPLOYMENT_KINDS
FLEET_KEYS = files.FLEET_KEYS
TARGET_KEYS = files.TARGET_KEYS
ChecksFile = files.ChecksFile
ConfigError = files.ConfigError
ConfigJson = files.ConfigJson
FleetEntry = files.FleetEntry
find_default = files.find_default
fleet_entries = files.fleet_entries
load_checks_file = files.load_checks_file
load_config_json = files.load_config_json
load_targets_file = files.load_targets_file


# Environment variables read for the target, in precedence order per field: the openai SDK's own
# names here, the names apps, templates and frameworks keep the same values under in azure/variables.py.
ENV_ENDPOINT = av.ENV_ENDPOINT
ENV_DEPLOYMENT = ("AZURE_OPENAI_DEPLOYMENT",)
ENV_API_VERSION = ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION")
ENV_API_KEY = ("AZURE_OPENAI_API_KEY",)
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


@record
class Deployment:
    """A deployment the target calls, with the model kind when the configuration says it."""

    name: str
    kind: str | None
    """``chat``, ``completion``, ``embedding`` or ``responses``; None when unknown (treated as chat)."""
    source: str


@record
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
    """Seen but not used, one line each: a name close to a known one, a file not read (value: the line)."""

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


@record
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


def load_app_environment(env_files: tuple[Path, ...] | list[Path], read_cwd: bool, environ: Mapping[str, str],
                         cwd: Path | None = None) -> AppEnvironment:
    """:func:`aoai_doctor.services.envfiles.load_app_environment`, raising :class:`ConfigError`."""
    from aoai_doctor.services import envfiles

    try:
        return envfiles.load_app_environment(env_files, read_cwd, environ, cwd)
    except envfiles.EnvFileError as exc:
        raise ConfigError(exc.label, str(exc)) from None


def resolve_target(
    overrides: Overrides,
    environ: Mapping[str, str],
    config_json: ConfigJson | None,
    checks: ChecksFile,
    app_env: AppEnvironment | None = None,
) -> Target:
    """Merge every source into one :class:`Target`, highest precedence first. ``app_env`` says which
    variables of ``environ`` came from ``.env`` files, and what was found but not read."""
    app_env = app_env or AppEnvironment(environ)
    label = app_env.label
    json_label = config_json.path.name if config_json else ""
    json_values = dict(config_json.values) if config_json else {}
    toml = checks.target
    toml_label = checks.label
    conflicts: list[str] = []
    notices: list[Setting] = [*app_env.notices, *av.name_notices(environ, app_env.origins)]

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

    legacy_type = next((environ[n].strip().lower() for n in av.ENV_LEGACY_TYPE if environ.get(n, "").strip()), "")
    named, projects = av.env_endpoints(environ, legacy_type, label, notices, bool(overrides.endpoint))
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
    openai_key_meaning = av.openai_key_meaning(legacy_type, named)

    api_key: Secret | None = None
    key_source: str | None = None
    key_names = (*ENV_API_KEY, *(av.ENV_OPENAI_KEY if openai_key_meaning == "key" else ()))
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
        for name in (*ENV_TOKEN, *(av.ENV_OPENAI_KEY if openai_key_meaning == "token" else ())):
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
    if real := [n for n in av.ENV_NAMES if environ.get(n) and n not in app_env.origins]:
        sources.append("environment (" + ", ".join(real) + ")")
    for file_label in app_env.files:
        names = [n for n in av.ENV_NAMES if app_env.origins.get(n, "").rsplit(":", 1)[0] == file_label]
        sources.append(f"{file_label} (" + (", ".join(names) if names else "no variable the doctor reads") + ")")
    return tuple([*sources, *(str(p) for p in (config_json.path if config_json else None, checks.path) if p)])


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
    if found := av.env_deployments(environ, kind):
        return tuple(Deployment(value, dep_kind, label(name)) for name, value, dep_kind in found)
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
