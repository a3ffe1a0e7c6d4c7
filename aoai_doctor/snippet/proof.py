"""What a healthy report proves about calling its target: the calls that answered 200, the credential
that won, the scope, and where a key came from; and the credential a program builds from that."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from aoai_doctor.azure import endpoints as ep
from aoai_doctor.model import Report, Status
from aoai_doctor.record import record

PROMPT = "ping"
"""What the program asks: the test call's default prompt."""

TOKEN_CREDENTIALS_VALUES = frozenset({
    "AzureCliCredential", "AzureDeveloperCliCredential", "AzurePowerShellCredential", "EnvironmentCredential",
    "InteractiveBrowserCredential", "ManagedIdentityCredential", "VisualStudioCodeCredential",
    "WorkloadIdentityCredential",
})
"""The credential names ``AZURE_TOKEN_CREDENTIALS`` accepts besides ``dev`` and ``prod`` (azure-identity
1.27, ``process_credential_exclusions``); SharedTokenCacheCredential and the broker cannot be chosen alone."""


@record
class Call:
    """One call the run proved: a deployment answered 200 on this URL."""

    deployment: str
    kind: str
    """chat, completion, embedding or responses."""
    url: str


@record
class Proof:
    """What a program needs, as the run proved it."""

    calls: tuple[Call, ...]
    api_key: bool
    scope: str
    credential: str | None
    """The source that won the chain (None with an API key)."""
    who: str | None
    """The identity the token was for, in words (``app <id>``, a user name)."""
    key_variable: str | None
    key_source: str | None
    gateway_header: str | None
    gateway_variable: str | None
    variables: frozenset[str]
    packages: Mapping[str, str]
    tool_version: str
    env_files: tuple[str, ...] = ()
    """The ``.env`` files the run read settings from, highest precedence first: the program loads them too."""


OPERATIONS = {"chat": "chat/completions", "completion": "completions", "embedding": "embeddings",
               "responses": "responses"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_FILE_READ = re.compile(r"^(.+) \(([A-Za-z0-9_, ]+)\)$")
"""A ``sources_read`` entry of a settings file and the variables read from it (``.env (AZURE_OPENAI_ENDPOINT)``);
the process environment's own entry reads ``environment (...)``."""


# --- what the report proves ------------------------------------------------------------------------

def proof_of(report: Report) -> Proof:
    results = {r.check_id: r for r in report.results}
    diagnosis = report.diagnosis
    if not report.passed or (diagnosis is not None and diagnosis.cause):
        failed = report.failed[0] if report.failed else None
        if diagnosis is not None and diagnosis.cause:
            said = f"{diagnosis.cause}: {diagnosis.summary}"
        else:
            said = f"{failed.check_id} {failed.name} {failed.status.value}" if failed else "a check failed"
        raise ValueError(f"the target is not healthy ({said})")
    call = results.get("AOAI501")
    if call is None or call.status not in (Status.PASS, Status.WARN):
        why = call.skip_reason if call is not None and call.skip_reason else "it did not run"
        raise ValueError(f"no test call proved the target answers ({why}); run without --no-live or --select")
    proved = tuple(
        Call(str(c["deployment"]), str(c.get("route") or "chat"), str(c["url"]))
        for c in call.data.get("calls") or () if isinstance(c, dict) and c.get("status") == 200 and c.get("url")
    )
    if not proved:
        raise ValueError("the test call did not answer 200 for any deployment")
    target = report.target
    api_key = target.get("auth") is not None and target["auth"].value == "api-key"
    credential = who = None
    if not api_key:
        chain = results.get("AOAI210")
        winner = chain.data.get("winner") if chain is not None and chain.status is Status.PASS else None
        if not isinstance(winner, str) or not winner:
            raise ValueError("no credential source got a token on its own (the run used a given token, which "
                             "expires); set up a source DefaultAzureCredential finds and run again")
        credential = winner
        identity = chain.data.get("identity") if chain is not None else None
        if isinstance(identity, dict):
            who = identity.get("user") or (f"app {identity['app_id']}" if identity.get("app_id") else None)
    key = target.get("api_key")
    gateway = target.get("gateway_key")
    header = re.search(r"header ([^)\s]+)", gateway.value) if gateway is not None else None
    environment = report.environment
    packages = environment.get("packages") if isinstance(environment.get("packages"), dict) else {}
    variables = environment.get("variables_set")
    return Proof(
        calls=proved,
        api_key=api_key,
        scope=_scope(report, proved[0].url),
        credential=credential,
        who=who,
        key_variable=_variable(key.source, "AZURE_OPENAI_API_KEY") if api_key and key is not None else
        ("AZURE_OPENAI_API_KEY" if api_key else None),
        key_source=key.source if api_key and key is not None else None,
        gateway_header=(header.group(1) if header else ep.APIM_KEY_HEADER) if gateway is not None else None,
        gateway_variable=_variable(gateway.source, "AOAI_DOCTOR_GATEWAY_KEY") if gateway is not None else None,
        variables=frozenset(str(v) for v in variables) if isinstance(variables, list) else frozenset(),
        packages={str(k): str(v) for k, v in (packages or {}).items() if v},
        tool_version=report.tool_version,
        env_files=tuple(m.group(1) for entry in report.sources_read
                        if (m := _ENV_FILE_READ.match(entry)) and m.group(1) != "environment"),
    )


def _scope(report: Report, url: str) -> str:
    """The scope the run asked for: configured, else the one the endpoint's cloud (or a project) needs."""
    configured = report.target.get("scope")
    if configured is not None:
        return configured.value
    endpoint = report.target.get("endpoint")
    for value in (endpoint.value if endpoint else None, url):
        if value:
            try:
                scope = ep.parse(value).default_scope
            except ep.EndpointParseError:
                continue
            if scope:
                return scope
    return ep.SCOPES[ep.Cloud.PUBLIC]


def _variable(source: str, default: str) -> str:
    """The variable a value came from: ``env AZURE_OPENAI_API_KEY`` → ``AZURE_OPENAI_API_KEY``; a file's
    key (``config.json:OPENAI_API_KEY``, ``.env:3 NAME``) → that name; else ``default``."""
    last = re.split(r"[\s:]+", source.strip())[-1] if source.strip() else ""
    return last if _VARIABLE.fullmatch(last) and last.upper() == last else default


# --- the shapes of a call ----------------------------------------------------------------------------

@record
class Route:
    """How the openai SDK reaches a proved URL."""

    azure: bool
    """AzureOpenAI (a dated route: the deployment in the path, an api-version) or OpenAI (v1 and others)."""
    base: str
    """AzureOpenAI's azure_endpoint, or OpenAI's base_url."""
    api_version: str | None


def route_of(call: Call) -> Route:
    parts = urlsplit(call.url)
    query = parse_qs(parts.query)
    version = query.get("api-version", [None])[0]
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path
    for marker in (f"/openai/deployments/{call.deployment}/", "/openai/responses"):
        at = path.find(marker)
        if at >= 0:
            return Route(True, origin + path[:at], version)
    operation = "/" + OPERATIONS.get(call.kind, "chat/completions")
    base = path[: -len(operation)] if path.endswith(operation) else path.rsplit("/", 1)[0]
    return Route(False, origin + base + "/", version)


COMMENT_WIDTH = 79
"""Where a program's comments wrap: PEP 8's line length, so they read whole on an 80-column terminal and
in a file alike (a program may be printed to either, so the terminal is not measured)."""


def comment_lines(text: str, prefix: str = "# ") -> list[str]:
    """``text`` wrapped at :data:`COMMENT_WIDTH` as comment lines (control characters become spaces, so
    nothing from the report can end a comment)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(prefix) + len(line) + 1 + len(word) > COMMENT_WIDTH:
            out.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(prefix + line)
    return out


# --- credentials --------------------------------------------------------------------------------------

_SOURCE_WORDS = {
    "EnvironmentCredential": "the service principal in AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
    "WorkloadIdentityCredential": "the federated token in AZURE_FEDERATED_TOKEN_FILE for AZURE_CLIENT_ID in "
                                  "AZURE_TENANT_ID",
    "ManagedIdentityCredential": "this machine's managed identity",
    "SharedTokenCacheCredential": "the account in the shared token cache",
    "VisualStudioCodeCredential": "the account signed in to Visual Studio Code",
    "AzureCliCredential": "the account signed in to the Azure CLI (az login)",
    "AzurePowerShellCredential": "the account signed in to Azure PowerShell (Connect-AzAccount)",
    "AzureDeveloperCliCredential": "the account signed in to the Azure Developer CLI (azd auth login)",
    "BrokerCredential": "the account signed in to the operating system's broker (WAM)",
}


def credential_code(proof: Proof) -> tuple[str, str, list[str]]:
    """The class to import, the expression that builds it, and the comment lines above it."""
    name = proof.credential or "DefaultAzureCredential"
    source = _SOURCE_WORDS.get(name, name)
    if name == "EnvironmentCredential" and "AZURE_CLIENT_SECRET" not in proof.variables and \
            "AZURE_CLIENT_CERTIFICATE_PATH" in proof.variables:
        source = source.replace("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH")
    who = f", {proof.who}" if proof.who else ""
    if name == "ManagedIdentityCredential":
        # DefaultAzureCredential passes AZURE_CLIENT_ID on as a user-assigned identity's client id.
        args = 'client_id=os.environ.get("AZURE_CLIENT_ID")' if "AZURE_CLIENT_ID" in proof.variables else ""
        expression = f"ManagedIdentityCredential({args})"
    elif name == "SharedTokenCacheCredential":
        args = 'username=os.environ.get("AZURE_USERNAME")' if "AZURE_USERNAME" in proof.variables else ""
        expression = f"SharedTokenCacheCredential({args})"
    elif name in _SOURCE_WORDS and name != "BrokerCredential":
        expression = f"{name}()"
    else:
        text = (f"DefaultAzureCredential uses {name} here: {source}{who}; the run proved it gets a token. "
                "It cannot be chosen on its own with AZURE_TOKEN_CREDENTIALS.")
        return "DefaultAzureCredential", "DefaultAzureCredential()", comment_lines(text)
    pick = (f" With AZURE_TOKEN_CREDENTIALS={name}, DefaultAzureCredential() picks only this source."
            if name in TOKEN_CREDENTIALS_VALUES else "")
    text = (f"The source that won DefaultAzureCredential's chain in the run: {source}{who}. "
            f"DefaultAzureCredential() would pick the same one here.{pick}")
    return name, expression, comment_lines(text)

