"""The path of every probe: which URL a credential source calls, and whether a proxy carries it.

Worked out the way azure-identity 1.27 and azure-core's ``RequestsTransport`` do it (a ``requests``
session with ``trust_env``): the endpoint comes from the source's own variables, read as the installed
azure-identity and MSAL read them; the proxy from ``*_PROXY`` and ``NO_PROXY`` as requests 2.34 reads
them (``requests.utils.should_bypass_proxies``, ``get_environ_proxies``, ``select_proxy``), on top of
urllib's ``getproxies_environment`` and ``proxy_bypass_environment``. On macOS and Windows, requests
also follows the system's proxy settings when no variable is set; those are not read here.

Not modelled: an ``AZURE_REGIONAL_AUTHORITY_NAME`` region (MSAL then also calls
``<region>.login.microsoft.com``), MSAL's instance discovery for an authority it does not know (it asks
login.microsoftonline.com first), and WorkloadIdentityCredential's ``enable_azure_proxy`` token proxy
(the doctor never turns it on).

:func:`answered_by_proxy` reads a probe's error for an answer that came from something other than the
service (the proxy): that is ``proxy_misconfigured``, fixed by :func:`proxy_fix`.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import SplitResult, urlsplit

from aoai_doctor.facts import ProbePath

# azure-identity 1.27.0 _credentials/imds.py (IMDS_AUTHORITY, IMDS_TOKEN_PATH); msal 1.39.0
# managed_identity.py (_obtain_token_on_azure_vm) builds the same URL.
IMDS_AUTHORITY = "http://169.254.169.254"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
# msal 1.39.0 managed_identity.py (_get_arc_endpoint): the Arc agent's endpoint when it is installed.
ARC_AGENT_URL = "http://localhost:40342/metadata/identity/oauth2/token"
# azure-identity 1.27.0 _constants.py (KnownAuthorities.AZURE_PUBLIC_CLOUD).
PUBLIC_AUTHORITY = "login.microsoftonline.com"

ENTRA_SOURCES = ("EnvironmentCredential", "WorkloadIdentityCredential", "SharedTokenCacheCredential")
HTTP_SOURCES = ("EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential",
                "SharedTokenCacheCredential")
"""The DefaultAzureCredential sources that call an endpoint themselves (the rest run a tool or a broker)."""


def arc_agent_installed() -> bool:
    """Whether the Azure Connected Machine agent is installed, as msal 1.39.0 ``_get_arc_endpoint`` checks."""
    if sys.platform == "linux":
        return os.path.exists("/opt/azcmagent/bin/himds")
    if sys.platform == "win32":
        return os.path.exists(os.path.expandvars(r"${ProgramFiles}\AzureConnectedMachineAgent\himds.exe"))
    return False


def probe_path(source: str, environ: Mapping[str, str],
               arc_agent: Callable[[], bool] = arc_agent_installed) -> ProbePath | None:
    """Where ``source`` (a DefaultAzureCredential source, built as the doctor builds it) sends its token
    request here, and through which proxy. None when it sends none: a developer tool, VS Code, the broker,
    or a source that is not configured (or cannot be built) with these variables."""
    if source == "ManagedIdentityCredential":
        found = _managed_identity(environ, arc_agent)
    elif source in ENTRA_SOURCES:
        found = _entra(source, environ)
    else:
        found = None
    if found is None:
        return None
    url, flavour = found
    proxy, proxy_var, bypassed_by = route(url, environ)
    return ProbePath(
        source=source,
        url=_shown(url),
        proxy=_without_login(proxy) if proxy else None,
        bypassed_by=bypassed_by,
        flavour=flavour,
        proxy_var=proxy_var,
        no_proxy_var=no_proxy_variable(environ),
        proxy_login=bool(proxy and urlsplit(_with_scheme(proxy)).username is not None),
    )


# --- the endpoint, as azure-identity 1.27.0 and msal 1.39.0 choose it ---------------------------------------


def _managed_identity(environ: Mapping[str, str], arc_agent: Callable[[], bool]) -> tuple[str, str | None] | None:
    """azure-identity 1.27.0 _credentials/managed_identity.py ``ManagedIdentityCredential.__init__`` picks the
    flavour (variables that are set and not empty); MSAL's ``_obtain_token`` then picks the URL for the
    flavours it serves (variables that are present)."""
    def has(name: str) -> bool:
        return bool(environ.get(name))

    if has("IDENTITY_ENDPOINT"):
        if has("IDENTITY_HEADER"):
            return _msal_endpoint(environ, arc_agent)
        if has("IMDS_ENDPOINT"):
            return _msal_endpoint(environ, arc_agent)
        return None  # "No managed identity endpoint found": nothing is sent
    if has("MSI_ENDPOINT"):
        if has("MSI_SECRET"):
            return _msal_endpoint(environ, arc_agent)
        if environ.get("AZURE_CLIENT_ID"):
            return None  # _credentials/cloud_shell.py: "client_id should not be set for cloud shell managed identity."
        return environ["MSI_ENDPOINT"], "Cloud Shell"  # azure-identity's own client: POST {MSI_ENDPOINT}
    if all(has(v) for v in ("AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")):
        if not has("AZURE_CLIENT_ID"):
            return None  # "Workload identity was selected but no client ID was provided."
        url = _token_endpoint(environ, environ["AZURE_TENANT_ID"])
        return (url, "workload identity") if url else None
    return _msal_endpoint(environ, arc_agent)


def _msal_endpoint(environ: Mapping[str, str], arc_agent: Callable[[], bool]) -> tuple[str, str | None]:
    """msal 1.39.0 managed_identity.py ``_obtain_token``: the first of these whose variables are present."""
    if all(v in environ for v in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT")):
        return environ["IDENTITY_ENDPOINT"], "Service Fabric"
    if all(v in environ for v in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")):
        return environ["IDENTITY_ENDPOINT"], "App Service"
    if all(v in environ for v in ("MSI_ENDPOINT", "MSI_SECRET")):
        return environ["MSI_ENDPOINT"], "Azure ML"
    if all(v in environ for v in ("IDENTITY_ENDPOINT", "IMDS_ENDPOINT")):
        return environ["IDENTITY_ENDPOINT"], "Azure Arc"
    if arc_agent():
        return ARC_AGENT_URL, "Azure Arc"
    return environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", IMDS_AUTHORITY).strip("/") + IMDS_TOKEN_PATH, "IMDS"


def _entra(source: str, environ: Mapping[str, str]) -> tuple[str, str | None] | None:
    """The Microsoft Entra token endpoint a service principal, federated or cached source posts to."""
    if source == "EnvironmentCredential":
        # _credentials/environment.py: each set of variables counts when present (even empty).
        tenant: str | None
        if all(v in environ for v in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")) or all(
                v in environ for v in ("AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID")):
            tenant = environ["AZURE_TENANT_ID"]
        elif all(v in environ for v in ("AZURE_CLIENT_ID", "AZURE_USERNAME", "AZURE_PASSWORD")):
            tenant = environ.get("AZURE_TENANT_ID") or "organizations"
        else:
            return None
    elif source == "WorkloadIdentityCredential":
        # _credentials/workload_identity.py: tenant, client id and token file are all required.
        if not all(environ.get(v) for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")):
            return None
        tenant = environ["AZURE_TENANT_ID"]
    else:  # _internal/shared_token_cache.py: refreshes against "organizations"
        tenant = "organizations"
    url = _token_endpoint(environ, tenant)
    return (url, None) if url else None


def _token_endpoint(environ: Mapping[str, str], tenant: str) -> str | None:
    """``{authority}/{tenant}/oauth2/v2.0/token``, the authority from ``AZURE_AUTHORITY_HOST`` as
    azure-identity 1.27.0 _internal/utils.py ``normalize_authority`` reads it (None: not https, a ValueError)."""
    authority = environ.get("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY)
    scheme = urlsplit(authority).scheme
    if not scheme:
        authority = "https://" + authority.rstrip(" /")
    elif scheme != "https":
        return None
    return "/".join((authority.rstrip(" /"), tenant, "oauth2/v2.0/token"))


# --- the proxy, as requests 2.34 chooses it ---------------------------------------------------------------


def environ_proxies(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``{scheme: (proxy, variable)}`` as CPython's ``urllib.request.getproxies_environment`` reads the
    variables (what requests' ``get_environ_proxies`` returns): any ``*_proxy`` name in any case, the
    all-lower-case name winning; an empty lower-case one removes the scheme; under CGI (``REQUEST_METHOD``)
    an upper-case ``HTTP_PROXY`` is ignored. ``no`` holds ``NO_PROXY``."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        if value and name.lower()[-6:] == "_proxy":
            found[name.lower()[:-6]] = (value, name)
    if "REQUEST_METHOD" in environ:
        found.pop("http", None)
    for name, value in environ.items():
        if name[-6:] == "_proxy":
            if value:
                found[name.lower()[:-6]] = (value, name)
            else:
                found.pop(name.lower()[:-6], None)
    return found


def no_proxy_variable(environ: Mapping[str, str]) -> str:
    """The variable requests reads ``NO_PROXY`` from: ``no_proxy`` when set and not empty, else ``NO_PROXY``."""
    return "no_proxy" if environ.get("no_proxy") else "NO_PROXY"


def bypassed_by(url: str, environ: Mapping[str, str]) -> str | None:
    """The ``NO_PROXY`` entry that makes requests send ``url`` direct (``should_bypass_proxies``), or None.

    First requests' own reading of ``no_proxy``/``NO_PROXY``: for an IPv4 address, the same address or a
    CIDR block holding it; for a name, the name or a domain suffix of it (a leading dot is optional), with
    or without the port. Then urllib's ``proxy_bypass_environment`` on the host name, with the ``no``
    entry ``getproxies_environment`` found (``*`` alone bypasses everything)."""
    parts = urlsplit(url)
    hostname = parts.hostname
    if hostname is None:
        return None  # requests bypasses a URL without a host; there is nothing to name
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if no_proxy:
        # requests' own helpers, imported only here: a run with no NO_PROXY never needs requests for this
        from requests.utils import address_in_network, is_ipv4_address, is_valid_cidr

        entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
        if is_ipv4_address(hostname):
            for entry in entries:
                if (is_valid_cidr(entry) and address_in_network(hostname, entry)) or hostname == entry:
                    return entry
        else:
            with_port = f"{hostname}:{parts.port}" if parts.port else hostname
            for entry in entries:
                bare = entry.lstrip(".")
                if bare in (hostname, with_port) or hostname.endswith("." + bare) or with_port.endswith("." + bare):
                    return entry
    found = environ_proxies(environ).get("no")
    if found is None:
        return None
    value = found[0]
    if value == "*":
        return "*"
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - absent from the type stubs
    for piece in value.split(","):
        if piece != "*" and bypass(hostname, {"no": piece}):
            return piece.strip()
    return None


def route(url: str, environ: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """``(proxy, its variable, the NO_PROXY entry that bypasses one)`` for ``url``: requests'
    ``select_proxy`` over the environment's proxies (the URL's scheme, then ``all``), unless bypassed."""
    proxies = environ_proxies(environ)
    scheme = urlsplit(url).scheme
    chosen = proxies.get(scheme) or proxies.get("all")
    if chosen is None or urlsplit(url).hostname is None:
        return None, None, None
    entry = bypassed_by(url, environ)
    if entry is not None:
        return None, None, entry
    return chosen[0], chosen[1], None


def _with_scheme(proxy: str) -> str:
    """requests' ``prepend_scheme_if_needed(proxy, "http")``, for display."""
    return proxy if "://" in proxy else f"http://{proxy}"


def _origin(parts: SplitResult) -> str:
    """``scheme://host[:port]`` with no user name or password (a port that is not a number is left out)."""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _without_login(proxy: str) -> str:
    """A proxy URL as it may be shown: no user name or password, no path."""
    return _origin(urlsplit(_with_scheme(proxy)))


def _shown(url: str) -> str:
    """An endpoint as it may be shown: no user name or password, no query, no fragment."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url.split("?", 1)[0]
    return _origin(parts) + parts.path


# --- what answered -----------------------------------------------------------------------------------------

# http.client (CPython 3.11 HTTPConnection._tunnel): OSError(f"Tunnel connection failed: {code} {message}"),
# which urllib3 2.x wraps as ProxyError('Unable to connect to proxy', …) and azure-core passes on, e.g.
# "('Unable to connect to proxy', OSError('Tunnel connection failed: 403 Forbidden'))".
_TUNNEL = r"Tunnel connection failed: (\d{3})(?: ([^'\"()\\]*))?"
_PROXY_AUTH = r"(?is)\b407\b.{0,40}Proxy Authentication Required|Proxy Authentication Required.{0,40}\b407\b"
# An HTML page in the message: azure-identity's Arc and App Service errors carry the answer's body.
_HTML = r"(?i)<\s*(?:!doctype\s+html|html\b|head\b|body\b|title\b)"
# azure-identity 1.27.0 _internal/managed_identity_client.py (_process_response).
_CONTENT_TYPE = r'Unexpected content type "([^"]*)"'
# json.JSONDecodeError's text; MSAL 1.39.0 managed_identity.py lets it through for App Service and Azure ML.
_NOT_JSON = r"Expecting value: line 1 column 1 \(char 0\)"
# azure-identity 1.27.0 _credentials/imds.py: raised exactly when the IMDS answer is not JSON.
_IMDS_NOT_JSON = "ManagedIdentityCredential authentication unavailable."


def _service(path: ProbePath) -> str:
    if path.flavour is None or path.flavour == "workload identity":
        return f"Microsoft Entra ID ({path.host})"
    return f"the {path.flavour} identity endpoint"


def answered_by_proxy(path: ProbePath, error_type: str | None, message: str | None) -> str | None:
    """Why the answer to a probe that went through a proxy came from something other than the service it
    meant (a tunnel the proxy refused, a 407, an HTML page, a body that is not the identity endpoint's JSON),
    in one line; None when the probe went direct or its error shows no such answer."""
    if path.proxy is None:
        return None
    text = (message or "").strip()
    service = _service(path)
    if tunnel := re.search(_TUNNEL, text):
        status = f"{tunnel.group(1)} {(tunnel.group(2) or '').strip()}".strip()
        return f"the proxy {path.proxy} refused the tunnel to {path.host} with {status}: {service} was never reached"
    if re.search(_PROXY_AUTH, text):
        return f"the proxy {path.proxy} answered 407 Proxy Authentication Required in place of {service}"
    if re.search(_HTML, text):
        return f"an HTML page answered through the proxy {path.proxy} in place of {service}"
    if kind := re.search(_CONTENT_TYPE, text):
        return (f"an answer of type {kind.group(1) or '(none)'} came back through the proxy {path.proxy}, "
                f"not the JSON of {service}")
    is_imds_not_json = path.flavour == "IMDS" and text == _IMDS_NOT_JSON
    if error_type == "JSONDecodeError" or re.search(_NOT_JSON, text) or is_imds_not_json:
        return f"an answer that is not JSON came back through the proxy {path.proxy}, not the JSON of {service}"
    return None


def proxy_fix(path: ProbePath, message: str | None = None) -> str:
    """The exact setting that takes the proxy out of this probe's way.

    An identity endpoint (link-local, loopback or the platform's) is never reachable through a proxy, so it
    goes in ``NO_PROXY``. Microsoft Entra ID is usually meant to go through the proxy: a 407 wants the
    proxy's user name and password in the proxy variable; a refused tunnel wants the host allowed (or, where
    this machine reaches it directly, ``NO_PROXY``)."""
    var = path.no_proxy_var
    no_proxy = f"export {var}={path.host},${var}"
    if path.flavour not in (None, "workload identity"):
        return no_proxy
    text = message or ""
    tunnel = re.search(_TUNNEL, text)
    if (tunnel and tunnel.group(1) == "407") or re.search(_PROXY_AUTH, text):
        proxy_var = path.proxy_var or "HTTPS_PROXY"
        signed = f"export {proxy_var}=http://<user>:<password>@{(path.proxy or '').split('://', 1)[-1]}"
        if path.proxy_login:
            return f"the proxy refused the user name and password in {proxy_var}: correct them ({signed})"
        return f"{signed} (the proxy wants a sign-in), or have the proxy allow {path.host} without one"
    port = urlsplit(path.url).port or 443
    return f"have the proxy allow {path.host}:{port}, or where this machine reaches it directly: {no_proxy}"
