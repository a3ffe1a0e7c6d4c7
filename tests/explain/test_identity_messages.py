"""Every user-facing error message of the installed azure-identity is recognised by ``explain``.

The messages are read from the package's own source with ``ast`` (``azure/identity/_credentials``,
``_internal`` and their ``aio`` twins): what is passed to ``CredentialUnavailableError``,
``ClientAuthenticationError``, ``ValueError`` and ``TypeError`` - string literals, f-strings, ``%`` and
``.format`` templates, message constants - with local variables, module and imported constants, class
attributes and the return values of ``self.<method>()`` resolved. Identical messages (the ``aio`` copies)
count once. Each message is rendered as a traceback's last line shows it, its holes filled with plausible
values, and ``explain`` must name a specific cause for it - or the message is in :data:`ALLOWED` with the reason
it cannot, or in :data:`WRAPPERS` (its own words carry no cause; the text it wraps does, and ``explain`` must
read that). A future azure-identity that adds a message no signature knows fails here.
"""

from __future__ import annotations

import ast
import itertools
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import azure.identity
import pytest

from aoai_doctor.explainer import explain

IDENTITY = Path(azure.identity.__file__).parent
SCANNED = ("_credentials/", "_internal/", "aio/_credentials/", "aio/_internal/")
ERRORS = frozenset({"CredentialUnavailableError", "ClientAuthenticationError", "ValueError", "TypeError"})
TRACEBACK_NAMES = {
    "CredentialUnavailableError": "azure.identity._exceptions.CredentialUnavailableError",
    "ClientAuthenticationError": "azure.core.exceptions.ClientAuthenticationError",
}
UNSPECIFIC = frozenset({"other", "not_an_error"})
_MAX_ALTERNATIVES = 24
_MAX_DEPTH = 8

# Real failure texts that wrapped messages carry (each from a public report or the reference notes).
ENTRA_INVALID_SECRET = (  # Power-Maverick/DataverseDevTools-VSCode#166 (in the benchmark corpus)
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
    "secret value, not the client secret ID, for a secret added to app 'b08e2b27-0b51-4da2-8c2e-decce73ce3f7'."
)
ENTRA_APP_NOT_FOUND = (  # donwa/oneindex#621 (in the benchmark corpus)
    "AADSTS700016: Application with identifier '160c5842-eeba-487b-bb30-be9fae7878d0' was not found in the "
    "directory '1cdf1d7c-ca85-45c7-b1a6-0d197aa07dc5'."
)
MI_IDENTITY_NOT_FOUND = (  # shared/reference/azure-identity-offline.md §1 (Cloud Shell / IMDS stand-in answer)
    "{'error': 'invalid_request', 'error_description': 'Identity not found'}"
)
ENTRA_ANSWER = f"{{'error': 'invalid_client', 'error_description': {ENTRA_INVALID_SECRET!r}}}"

HOLES: dict[str, str] = {
    # what a hole's expression holds when users meet the message (values from the package itself, the
    # reference notes or public reports where the message is quoted)
    "', '.join(missing_args)": "'client_id'",
    "', '.join(valid_keys)": "object_id, resource_id, client_id",
    "', '.join(valid_values)": "dev, prod, azureclicredential, azuredeveloperclicredential, "
    "azurepowershellcredential, environmentcredential, managedidentitycredential, visualstudiocodecredential, "
    "workloadidentitycredential",
    "'; '.join(errors)": "homeAccountId field is missing",
    "'\\n\\t'.join(attempts)": "EnvironmentCredential: EnvironmentCredential authentication unavailable. "
    "Environment variables are not fully configured.",
    "account.get('username')": "user@contoso.com",
    "args[0]": "/usr/bin/az",
    "authority": "http://login.microsoftonline.co",
    "authority.rstrip(' /')": "login.microsoftonline.co",
    "command_line[0]": "/bin/sh",
    "content": ENTRA_ANSWER,
    "content['error']": "invalid_client",
    "content['error_description']": ENTRA_INVALID_SECRET,
    "content['expires_on']": "11/21/2030 12:00:00 AM +00:00",
    "e": "[Errno 13] Permission denied: '/etc/aks-identity-binding/ca.crt'",
    # {"access_token":{"acrs":{"essential":true,"value":"cp1"}}}, the claims challenge of the Entra docs' example
    "encode_base64(options['claims'])": "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19"
    "fQ==",
    "error": "[Errno 13] Permission denied: '/var/opt/azcmagent/tokens/abc.key'",
    "ex": "[Errno 13] Permission denied: '/var/opt/azcmagent/tokens/abc.key'",
    "ex.message": "connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: "
    "connectex: A socket operation was attempted to an unreachable network.",
    "file_path": "/var/opt/azcmagent/tokens/abc.key",
    "flow.get('error_description') or flow.get('error')": ENTRA_APP_NOT_FOUND,
    "header.split('=')[1]": "/var/opt/azcmagent/tokens/abc.key",
    "kwargs.pop('ca_file', None)": "/etc/aks-identity-binding/ca.crt",
    "kwargs.pop('timeout', 300)": "300",
    "os.environ.get(EnvironmentVariables.AZURE_TOKEN_CREDENTIALS, '').strip().lower()": "bogus",
    "output": "ERROR: " + ENTRA_INVALID_SECRET,
    "parsed_url.scheme": "http",
    "port": "8400",
    "response.http_response.content_type": "text/html; charset=utf-8",
    "response.http_response.headers.get('WWW-Authenticate')": "None",
    "result.get('error_description') or result.get('error')": ENTRA_INVALID_SECRET,
    "self.__class__.__name__": "DefaultAzureCredential",
    "self._parsed_url.hostname": "localhost",
    "self._parsed_url.port": "8400",
    "subscription": "My Visual Studio Subscription",
    "sys.platform": "sunos5",
    "tenant_id": "3f2c5e1a-8d4b-4c6e-9a7f-1b2d3e4f5a6b",
    "url": "http://aks-token-proxy.kube-system.svc:8443/token",
    "username": "user@contoso.com",
}
"""Plausible values by the hole's expression (``ast.unparse`` of it)."""
HOLE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^re\.sub\(.*\boutput\)$"), "ERROR: " + ENTRA_INVALID_SECRET),  # sanitised CLI output
    (re.compile(r"^response\.context\b|ContentDecodePolicy"), ENTRA_ANSWER),  # the token endpoint's decoded answer
)
MESSAGE_HOLES: dict[str, dict[str, str]] = {
    # where one hole expression holds different things in different messages
    'Unexpected response "{}"': {"response.context.get(ContentDecodePolicy.CONTEXT_NAME)": MI_IDENTITY_NOT_FOUND},
    "Error accessing cached data: {}": {"ex": "[Errno 13] Permission denied: '/home/user/.IdentityService/msal.cache'"},
    "The key file path is invalid: {}": {"ex": "list index out of range"},
    "InteractiveBrowserBrokerCredential initialization failed: {}": {
        "ex": "No module named 'msal.broker'"
    },
    "Failed to load authentication record from Visual Studio Code: {}. Please ensure you have the Azure Resources "
    "extension installed and signed in.": {"ex": "Expecting value: line 1 column 1 (char 0)"},
}

WRAPPERS: dict[str, str] = {
    # message key -> the cause of the wrapped text it is rendered with (see HOLES); the wrapper's own words
    # name no cause, so explain must read through it
    "Unexpected output from Azure Developer CLI: '{}'. \nTo mitigate this issue, please refer to the "
    "troubleshooting guidelines here at https://aka.ms/azsdk/python/identity/azdevclicredential/troubleshoot.":
    "client_secret_invalid",
    "Unexpected output from Azure CLI: '{}'. \nTo mitigate this issue, please refer to the troubleshooting "
    "guidelines here at https://aka.ms/azsdk/python/identity/azclicredential/troubleshoot.": "client_secret_invalid",
    'Unexpected output from Get-AzAccessToken: "{}"': "client_secret_invalid",
    "{} failed to retrieve a token from the included credentials.\nAttempted credentials:\n\t{}\nTo mitigate this "
    "issue, please refer to the troubleshooting guidelines here at "
    "https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot.": "client_config_missing",
    "Couldn't begin authentication: {}": "app_not_found",
    "Authentication failed: {}": "client_secret_invalid",
    "Microsoft Entra ID error '({}) {}'": "client_secret_invalid",
    "Microsoft Entra ID error '{}'": "client_secret_invalid",
    "Unexpected response from Microsoft Entra ID: {}": "client_secret_invalid",
    'Unexpected response from Microsoft Entra ID: "{}"': "client_secret_invalid",
    'Unexpected response "{}"': "managed_identity_not_assigned",
}

ALLOWED: dict[str, str] = {
    # message key -> why explain gives no specific cause (one line each)
    "No authorization code, cached access token, or refresh token available.":
    "AuthorizationCodeCredential (a web app's sign-in flow) must redeem a new code; no set-up fault of the client",
    "'{}' doesn't match the expected format":
    "Azure ML endpoint's expires_on in a format azure-identity cannot parse: no cause fits, explain says other "
    "and describes it (managed-identity-expires-on-date-string)",
    "Couldn't start an HTTP server on localhost":
    "InteractiveBrowserCredential's local redirect listener: an interactive desktop sign-in, outside the causes",
    "Couldn't start an HTTP server on http://{}:{}":
    "InteractiveBrowserCredential's local redirect listener: an interactive desktop sign-in, outside the causes",
    "Couldn't start an HTTP server on http://localhost:{}":
    "InteractiveBrowserCredential's local redirect listener: an interactive desktop sign-in, outside the causes",
    "Failed to begin authentication flow":
    "MSAL could not start an interactive browser sign-in: the person at the browser sees why",
    "Failed to open a browser": "interactive browser sign-in on a machine without a browser: the person sees it",
    "Timed out after waiting {} seconds for the user to authenticate":
    "the person did not finish an interactive sign-in in time: no configuration fault",
    "Timed out waiting for user to authenticate":
    "the person did not finish a device-code sign-in in time: no configuration fault",
    "Proof of possession arguments are not supported for this credential.":
    "proof-of-possession tokens are a programming choice that Azure OpenAI clients never make",
    "Shared token cache is not supported on this platform.":
    "raised only on platforms other than Windows, macOS and Linux",
    "Failed to build AuthenticationRecord from unexpected identity token":
    "internal to interactive sign-in: Entra's id token lacked a claim MSAL expects",
    'expected "data" to be text or a dict':
    "internal assertion of azure-identity's MSAL HTTP adapter; no user input reaches it",
    "Error accessing cached data: {}":
    "the persistent token cache (keyring, file) could not be read; the wrapped OS error says why, no cause fits",
    "Transport creation failed. Ensure that the requests package is installed to enable token proxy usage in this "
    "credential.": "a missing Python package (requests) the message names; no cause of the vocabulary fits",
    "Async transport creation failed. Ensure that the aiohttp or requests package is installed to enable token "
    "proxy usage in this credential.": "a missing Python package (aiohttp) the message names; no cause fits",
    "Cannot set tuple connection_timeout and read_timeout together":
    "internal argument check of the AKS token-proxy transport; no user setting reaches it",
}


# ---------------------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class Hole:
    """A part of a message only known at run time: the source of its expression."""

    expr: str


Part = str | Hole
Template = tuple[Part, ...]


def _concat(*templates: Template) -> Template:
    out: list[Part] = []
    for template in templates:
        for part in template:
            if isinstance(part, str) and out and isinstance(out[-1], str):
                out[-1] += part
            elif part != "":
                out.append(part)
    return tuple(out)


class _Module:
    """One parsed module: its constants, imports, classes and functions."""

    def __init__(self, name: str, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.constants: dict[str, ast.expr] = {}
        self.imports: dict[str, tuple[str, str]] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.constants[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                self.constants[node.target.id] = node.value
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join(base + (node.module.split(".") if node.module else []))
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (module, alias.name)
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
            if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(parent.name, []).append(parent)

    def enclosing(self, node: ast.AST, kinds: tuple[type[ast.AST], ...]) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, kinds):
                return node
        return None


@cache
def _modules() -> dict[str, _Module]:
    modules = {}
    for path in sorted(IDENTITY.rglob("*.py")):
        parts = list(path.relative_to(IDENTITY.parent.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = _Module(".".join(parts), path)
    return modules


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _string_default(function: ast.AST, name: str) -> ast.expr | None:
    """The default of parameter ``name`` of ``function`` when it is a string literal."""
    if not isinstance(function, _FUNCTIONS):
        return None
    args = function.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
    pairs += [
        (arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True) if default is not None
    ]
    for arg, default in pairs:
        if arg.arg == name and isinstance(default, ast.Constant) and isinstance(default.value, str):
            return default
    return None


def _returns(definition: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(definition):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value


class _Resolver:
    """Turns a message expression into the templates it can produce."""

    def __init__(self, module: _Module) -> None:
        self.module = module

    def resolve(self, expr: ast.expr, scope: ast.AST | None, depth: int = 0) -> list[Template]:
        if depth > _MAX_DEPTH:
            return [(Hole(ast.unparse(expr)),)]
        return self._resolve(expr, scope, depth + 1)[:_MAX_ALTERNATIVES]

    def _resolve(self, expr: ast.expr, scope: ast.AST | None, depth: int) -> list[Template]:
        hole: list[Template] = [(Hole(ast.unparse(expr)),)]
        if isinstance(expr, ast.Constant):
            return [(expr.value,)] if isinstance(expr.value, str) else hole
        if isinstance(expr, ast.JoinedStr):
            pieces = [
                [(str(value.value),)] if isinstance(value, ast.Constant)
                else self.resolve(value.value, scope, depth) if isinstance(value, ast.FormattedValue)
                else [(Hole(ast.unparse(value)),)]
                for value in expr.values
            ]
            return [_concat(*combo) for combo in itertools.islice(itertools.product(*pieces), _MAX_ALTERNATIVES)]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            pairs = itertools.product(self.resolve(expr.left, scope, depth), self.resolve(expr.right, scope, depth))
            return [_concat(a, b) for a, b in itertools.islice(pairs, _MAX_ALTERNATIVES)]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
            operands = expr.right.elts if isinstance(expr.right, ast.Tuple) else [expr.right]
            values = [self.resolve(operand, scope, depth)[0] for operand in operands]
            return [_percent(template, values) for template in self.resolve(expr.left, scope, depth)]
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "format":
            args = [self.resolve(arg, scope, depth)[0] for arg in expr.args]
            kwargs = {k.arg: self.resolve(k.value, scope, depth)[0] for k in expr.keywords if k.arg}
            return [_format(template, args, kwargs) for template in self.resolve(expr.func.value, scope, depth)]
        if isinstance(expr, ast.IfExp):
            return self.resolve(expr.body, scope, depth) + self.resolve(expr.orelse, scope, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, depth) or hole
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, scope, depth) or hole
        if isinstance(expr, ast.Call):
            return self._call(expr, depth) or hole
        return hole

    def _name(self, name: str, scope: ast.AST | None, depth: int) -> list[Template]:
        function = scope
        while function is not None:
            default = _string_default(function, name)
            if default is not None:
                return self.resolve(default, None, depth)
            values = [
                node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            ]
            if values:
                return [template for value in values for template in self.resolve(value, function, depth)]
            function = self.module.enclosing(function, _FUNCTIONS)
        if name in self.module.constants:
            return self.resolve(self.module.constants[name], None, depth)
        other = self._imported(name)
        return _Resolver(other[0])._name(other[1], None, depth) if other else []

    def _imported(self, name: str) -> tuple[_Module, str] | None:
        if name not in self.module.imports:
            return None
        module_name, attr = self.module.imports[name]
        other = _modules().get(module_name)
        return (other, attr) if other is not None else None

    def _class(self, name: str) -> tuple[_Module, ast.ClassDef] | None:
        if name in self.module.classes:
            return self.module, self.module.classes[name]
        other = self._imported(name)
        return _Resolver(other[0])._class(other[1]) if other else None

    def _attribute(self, expr: ast.Attribute, scope: ast.AST | None, depth: int) -> list[Template]:
        owner = expr.value
        if isinstance(owner, ast.Name) and owner.id == "self" and scope is not None:
            cls = self.module.enclosing(scope, (ast.ClassDef,))
            assignments = [
                node
                for node in (ast.walk(cls) if cls is not None else ())
                if isinstance(node, ast.Assign)
                and any(
                    isinstance(t, ast.Attribute) and t.attr == expr.attr and isinstance(t.value, ast.Name)
                    and t.value.id == "self"
                    for t in node.targets
                )
            ]
            return [
                template
                for node in assignments
                for template in self.resolve(node.value, self.module.enclosing(node, _FUNCTIONS), depth)
            ]
        found = self._class(owner.id) if isinstance(owner, ast.Name) else None
        if found:
            module, cls = found
            for node in cls.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == expr.attr for t in targets):
                    return _Resolver(module).resolve(cast(ast.Assign, node).value, None, depth)
        return []

    def _call(self, expr: ast.Call, depth: int) -> list[Template]:
        func = expr.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            # a method of the class family: every definition of that name in the package
            return [
                template
                for module in _modules().values()
                for definition in module.functions.get(func.attr, [])
                for value in _returns(definition)
                for template in _Resolver(module).resolve(value, definition, depth)
            ]
        if not isinstance(func, ast.Name) or func.id in ("str", "repr"):
            return []
        module, definitions = self.module, self.module.functions.get(func.id, [])
        other = self._imported(func.id)
        if not definitions and other:
            module, definitions = other[0], other[0].functions.get(other[1], [])
        return [
            template
            for definition in definitions
            for value in _returns(definition)
            for template in _Resolver(module).resolve(value, definition, depth)
        ]


_PERCENT = re.compile(r"%[sdr]")


def _percent(template: Template, values: list[Template]) -> Template:
    queue = list(values)
    out: list[Template] = []
    for part in template:
        if isinstance(part, Hole):
            out.append((part,))
            continue
        last = 0
        for match in _PERCENT.finditer(part):
            out += [(part[last : match.start()],), queue.pop(0) if queue else (Hole("?"),)]
            last = match.end()
        out.append((part[last:],))
    return _concat(*out)


def _format(template: Template, args: list[Template], kwargs: Mapping[str, Template]) -> Template:
    out: list[Template] = []
    position = 0
    for part in template:
        if isinstance(part, Hole):
            out.append((part,))
            continue
        for literal, field, _spec, _conversion in string.Formatter().parse(part):
            out.append((literal,))
            if field is None:
                continue
            if field == "":
                out.append(args[position] if position < len(args) else (Hole("?"),))
                position += 1
            elif field.isdigit():
                out.append(args[int(field)] if int(field) < len(args) else (Hole("?"),))
            else:
                out.append(kwargs.get(field, (Hole(field),)))
    return _concat(*out)


@dataclass(frozen=True)
class Message:
    """One message azure-identity can raise."""

    where: str
    """``module path:line`` of the first place that raises it."""
    error: str
    template: Template

    @property
    def key(self) -> str:
        """The message with its holes as ``{}``: how ALLOWED and WRAPPERS name it."""
        return "".join(part if isinstance(part, str) else "{}" for part in self.template)

    @property
    def holes(self) -> list[str]:
        return [part.expr for part in self.template if isinstance(part, Hole)]


def _message_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[0] if call.args else None


def _error_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


@cache
def messages() -> tuple[Message, ...]:
    """Every message of the scanned modules, once each (first place that raises it)."""
    found: dict[str, Message] = {}
    for module in _modules().values():
        where = module.path.relative_to(IDENTITY).as_posix()
        if not where.startswith(SCANNED):
            continue
        resolver = _Resolver(module)
        calls = [n for n in ast.walk(module.tree) if isinstance(n, ast.Call) and _error_name(n) in ERRORS]
        for call in sorted(calls, key=lambda n: n.lineno):
            argument = _message_argument(call)
            if argument is None:
                continue
            for template in resolver.resolve(argument, module.enclosing(call, _FUNCTIONS)):
                literal = "".join(part for part in template if isinstance(part, str))
                if len(re.findall(r"[A-Za-z]{2,}", literal)) < 2:
                    continue  # the whole text comes from elsewhere (a service answer, another exception)
                message = Message(f"{where}:{call.lineno}", _error_name(call), template)
                found.setdefault(message.key, message)
    return tuple(found.values())


def plausible(hole: str, key: str = "") -> str:
    """A value the hole holds when users meet the message ``key``."""
    if hole in MESSAGE_HOLES.get(key, {}):
        return MESSAGE_HOLES[key][hole]
    if hole in HOLES:
        return HOLES[hole]
    for pattern, value in HOLE_PATTERNS:
        if pattern.search(hole):
            return value
    raise LookupError(f"no plausible value for the hole {hole!r}: add one to HOLES")


def render(message: Message) -> str:
    """The message as a traceback's last line shows it, holes filled in."""
    text = "".join(part if isinstance(part, str) else plausible(part.expr, message.key) for part in message.template)
    return f"{TRACEBACK_NAMES.get(message.error, message.error)}: {text}"


MESSAGES = messages()
PLAIN = [m for m in MESSAGES if m.key not in ALLOWED and m.key not in WRAPPERS]


# ------------------------------------------------------------------------------------------------ tests


def test_the_installed_package_is_read() -> None:
    keys = {m.key for m in MESSAGES}
    assert len(MESSAGES) >= 100
    assert {"Azure CLI not found on path", "PowerShell is not installed"} <= keys
    assert any(key.startswith("This credential doesn't support claims challenges.") for key in keys)
    assert any(m.where.startswith("aio/") for m in MESSAGES)  # the aio copies are read (and their own texts kept)


def test_every_hole_has_a_plausible_value() -> None:
    missing = set()
    for message in MESSAGES:
        for hole in message.holes:
            try:
                plausible(hole, message.key)
            except LookupError:
                missing.add(hole)
    assert sorted(missing) == [], "add a plausible value to HOLES"
    used = {hole for message in MESSAGES for hole in message.holes}
    assert sorted(set(HOLES) - used) == [], "azure-identity no longer has these holes: remove them from HOLES"
    holes_of = {message.key: set(message.holes) for message in MESSAGES}
    stale = [
        (key, hole) for key, values in MESSAGE_HOLES.items() for hole in values if hole not in holes_of.get(key, ())
    ]
    assert stale == [], "MESSAGE_HOLES names a message or hole azure-identity no longer has"


@pytest.mark.parametrize("message", PLAIN, ids=lambda m: m.where)
def test_message_names_a_specific_cause(message: Message) -> None:
    text = render(message)
    explanation = explain(text)
    assert explanation.cause not in UNSPECIFIC, f"{text!r} -> {explanation.cause}; add a signature or an ALLOWED entry"


@pytest.mark.parametrize("key", sorted(WRAPPERS))
def test_wrapper_is_read_through(key: str) -> None:
    message = next((m for m in MESSAGES if m.key == key), None)
    assert message is not None, "azure-identity no longer raises this message: remove it from WRAPPERS"
    assert message.holes, "not a wrapper: it has no hole"
    assert explain(render(message)).cause == WRAPPERS[key]


def test_allow_list_is_current_and_explained() -> None:
    keys = {m.key for m in MESSAGES}
    assert sorted(set(ALLOWED) - keys) == [], "azure-identity no longer raises these: remove them from ALLOWED"
    assert all(reason.strip() and "\n" not in reason for reason in ALLOWED.values())
    assert not set(ALLOWED) & set(WRAPPERS)


def test_allowed_messages_are_not_secretly_recognised() -> None:
    """An allow-listed message that explain has learned should leave the list (so it is tested)."""
    recognised = [
        m.key for m in MESSAGES if m.key in ALLOWED and explain(render(m)).cause not in UNSPECIFIC
    ]
    assert recognised == []
