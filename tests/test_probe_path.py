"""The path of every probe: which URL each credential source calls and whether a proxy carries it, read
as requests reads the variables; what actually answered a probe that went through a proxy; and AOAI403
naming a proxy that answered in the identity endpoint's place, with the setting that fixes it.

The proxy decisions are compared with requests' own (``Session.merge_environment_settings`` and
``select_proxy``); the URLs with what real azure-identity credentials send to a loopback proxy; the
answers with what they raise when that proxy answers every request itself (tests/hostile_proxy.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from requests.utils import select_proxy

from aoai_doctor import app
from aoai_doctor.azure.chain import State
from aoai_doctor.model import Finding, Report, Severity, Status
from aoai_doctor.options import Options
from aoai_doctor.services import identity as creds
from aoai_doctor.services.probe_path import answered_by_proxy, probe_path, proxy_fix, route
from tests.hostile_proxy import HostileProxy, app_service_without_identity

SCOPE = "https://cognitiveservices.azure.com/.default"
IMDS = "http://169.254.169.254/metadata/identity/oauth2/token"
ENTRA = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token"
P = "http://proxy.example:3128"


def no_arc_agent() -> bool:
    return False


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy setting of the machine's own reaches these tests."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)


def _set(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


# --- NO_PROXY and *_PROXY, as requests reads them ---------------------------------------------------------

CASES = [
    # (url, variables, the NO_PROXY entry that bypasses the proxy, the proxy variable used)
    (IMDS, {"HTTP_PROXY": P}, None, "HTTP_PROXY"),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": "localhost,169.254.169.254"}, "169.254.169.254", None),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": " 169.254.169.254 , localhost"}, "169.254.169.254", None),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": "169.254.0.0/16"}, "169.254.0.0/16", None),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, None, "HTTP_PROXY"),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": ".169.254"}, ".169.254", None),  # urllib's suffix match, on an address
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": "*"}, "*", None),
    (IMDS, {"HTTP_PROXY": P, "NO_PROXY": "localhost,*"}, None, "HTTP_PROXY"),  # "*" counts only alone
    (IMDS, {"HTTP_PROXY": P, "no_proxy": "localhost", "NO_PROXY": "169.254.169.254"}, None, "HTTP_PROXY"),
    (IMDS, {"HTTPS_PROXY": P}, None, None),  # plain http follows HTTP_PROXY or ALL_PROXY only
    (IMDS, {"ALL_PROXY": P}, None, "ALL_PROXY"),
    (IMDS, {"http_proxy": "", "HTTP_PROXY": P}, None, None),  # an empty lower-case name removes it
    (IMDS, {"HTTP_PROXY": P, "REQUEST_METHOD": "GET"}, None, None),  # under CGI, HTTP_PROXY is not read
    ("http://127.0.0.1:41234/msi/token", {"HTTP_PROXY": P, "NO_PROXY": "127.0.0.0/8"}, "127.0.0.0/8", None),
    ("http://localhost:8081/msi/token", {"HTTP_PROXY": P, "NO_PROXY": "localhost:8081"}, "localhost:8081", None),
    ("http://localhost:8081/msi/token", {"HTTP_PROXY": P, "NO_PROXY": "LOCALHOST"}, "LOCALHOST", None),
    (ENTRA, {"HTTPS_PROXY": P, "NO_PROXY": ".microsoftonline.com"}, ".microsoftonline.com", None),
    (ENTRA, {"HTTPS_PROXY": P, "NO_PROXY": "microsoftonline.com"}, "microsoftonline.com", None),
    (ENTRA, {"HTTPS_PROXY": P, "NO_PROXY": "login.microsoftonline.com:443"}, None, "HTTPS_PROXY"),  # no port in URL
    (ENTRA, {"https_proxy": P, "HTTPS_PROXY": "http://other:8080"}, None, "https_proxy"),
]


@pytest.mark.parametrize(("url", "env", "entry", "var"), CASES)
def test_the_proxy_is_the_one_requests_picks(monkeypatch: pytest.MonkeyPatch, url: str, env: dict[str, str],
                                             entry: str | None, var: str | None) -> None:
    environ = _set(monkeypatch, env)
    settings = requests.Session().merge_environment_settings(url, {}, None, None, None)
    theirs = select_proxy(url, settings["proxies"])
    proxy, proxy_var, bypassed = route(url, environ)
    assert proxy == theirs
    assert (bypassed, proxy_var) == (entry, var)
    assert requests.utils.should_bypass_proxies(url, None) is (entry is not None)


def test_the_path_line_names_the_source_the_endpoint_and_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    via = probe_path("ManagedIdentityCredential", {"HTTP_PROXY": "http://me:s3cret@proxy.example:3128"}, no_arc_agent)
    assert via is not None
    assert via.describe() == ("ManagedIdentityCredential (IMDS) -> http://169.254.169.254 via proxy "
                              "http://proxy.example:3128 (NO_PROXY does not list 169.254.169.254)")
    assert via.proxy_login and "s3cret" not in repr(via) and "me@" not in repr(via)
    direct = probe_path("ManagedIdentityCredential", {"HTTP_PROXY": P, "no_proxy": "169.254.169.254"}, no_arc_agent)
    assert direct is not None and direct.proxy is None
    assert direct.describe().endswith("-> http://169.254.169.254 directly (no_proxy lists 169.254.169.254)")
    app_service = probe_path("ManagedIdentityCredential", {"IDENTITY_ENDPOINT": "http://localhost:8081/msi/token?code=x",
                                                           "IDENTITY_HEADER": "h", "HTTPS_PROXY": P}, no_arc_agent)
    assert app_service is not None and app_service.url == "http://localhost:8081/msi/token"
    assert app_service.describe() == ("ManagedIdentityCredential (App Service) -> http://localhost:8081 directly "
                                      "(no proxy is set for http URLs)")


def test_sources_that_send_no_request_have_no_path() -> None:
    for source in ("AzureCliCredential", "AzurePowerShellCredential", "AzureDeveloperCliCredential",
                   "VisualStudioCodeCredential", "BrokerCredential"):
        assert probe_path(source, {"HTTPS_PROXY": P}) is None
    assert probe_path("EnvironmentCredential", {"AZURE_CLIENT_ID": "c"}) is None  # not configured
    assert probe_path("WorkloadIdentityCredential", {"AZURE_FEDERATED_TOKEN_FILE": "/t"}) is None  # no tenant
    assert probe_path("ManagedIdentityCredential", {"IDENTITY_ENDPOINT": "http://localhost:1"}) is None  # no header
    assert probe_path("EnvironmentCredential", {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t",
                                                "AZURE_CLIENT_SECRET": "s", "AZURE_AUTHORITY_HOST": "http://x"}) is None
    cache = probe_path("SharedTokenCacheCredential", {"AZURE_AUTHORITY_HOST": "login.microsoftonline.us"})
    assert cache is not None and cache.url == "https://login.microsoftonline.us/organizations/oauth2/v2.0/token"


# --- what real azure-identity sends, and what it says when the proxy answers ------------------------------

FLAVOURS: dict[str, tuple[str, str, dict[str, str]]] = {
    # name: (source, proxy variable, variables; "{closed}" is a loopback URL nothing listens on)
    "App Service": ("ManagedIdentityCredential", "HTTP_PROXY",
                    {"IDENTITY_ENDPOINT": "{closed}/msi/token", "IDENTITY_HEADER": "test-header"}),
    "IMDS": ("ManagedIdentityCredential", "HTTP_PROXY", {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "{closed}"}),
    "Cloud Shell": ("ManagedIdentityCredential", "HTTP_PROXY", {"MSI_ENDPOINT": "{closed}/oauth2/token"}),
    "Azure ML": ("ManagedIdentityCredential", "ALL_PROXY", {"MSI_ENDPOINT": "{closed}/msi", "MSI_SECRET": "s"}),
    "Azure Arc": ("ManagedIdentityCredential", "HTTP_PROXY",
                  {"IDENTITY_ENDPOINT": "{closed}/metadata/identity/oauth2/token", "IMDS_ENDPOINT": "{closed}"}),
    "workload identity": ("ManagedIdentityCredential", "HTTPS_PROXY",
                          {"AZURE_AUTHORITY_HOST": "{tls}", "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "c1",
                           "AZURE_FEDERATED_TOKEN_FILE": "{token}"}),
    "service principal": ("EnvironmentCredential", "HTTPS_PROXY",
                          {"AZURE_AUTHORITY_HOST": "{tls}", "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "c1",
                           "AZURE_CLIENT_SECRET": "not-a-real-secret"}),
    "federated token": ("WorkloadIdentityCredential", "https_proxy",
                        {"AZURE_AUTHORITY_HOST": "{tls}", "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "c1",
                         "AZURE_FEDERATED_TOKEN_FILE": "{token}"}),
}


def _flavour_env(name: str, tmp_path: Path) -> tuple[str, str, dict[str, str]]:
    source, proxy_var, template = FLAVOURS[name]
    token = tmp_path / "federated-token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln", encoding="utf-8")
    values = {"closed": "http://127.0.0.1:9", "tls": "https://127.0.0.1:9", "token": str(token)}
    return source, proxy_var, {k: v.format(**values) for k, v in template.items()}


def _requested(asked_target: str, method: str) -> str:
    """The URL a proxy was asked for: an absolute URL (plain http) or a tunnel's host:port (CONNECT)."""
    return f"https://{asked_target}" if method == "CONNECT" else asked_target.split("?", 1)[0]


@pytest.mark.parametrize("status", [403, 407, 502])
@pytest.mark.parametrize("name", sorted(FLAVOURS))
def test_a_proxy_answering_in_the_services_place_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          name: str, status: int) -> None:
    source, proxy_var, env = _flavour_env(name, tmp_path)
    with HostileProxy(status) as proxy:
        environ = _set(monkeypatch, {**env, proxy_var: proxy.url})
        path = probe_path(source, environ, no_arc_agent)
        probe = creds.probe(source, SCOPE, creds.Bounds(3.0), environ)
    assert path is not None and path.flavour == (None if source != "ManagedIdentityCredential" else name)
    assert path.proxy == proxy.url and path.proxy_var == proxy_var
    # The URL worked out is the one azure-identity sent (a tunnel shows its host and port only).
    assert proxy.asked, "the probe never reached the proxy"
    asked = _requested(proxy.asked[0].target, proxy.asked[0].method)
    expected = path.origin if proxy.asked[0].method == "CONNECT" else path.url
    assert asked == expected
    # What answered: the proxy, read from the error the real credential raised.
    assert probe.state is not State.SUCCEEDED
    reason = answered_by_proxy(path, probe.error_type, probe.message)
    assert reason is not None, (probe.error_type, probe.message)
    assert proxy.url in reason
    # The same error on a direct path is not the proxy's doing.
    direct = probe_path(source, {**environ, "NO_PROXY": path.host}, no_arc_agent)
    assert direct is not None and direct.proxy is None and direct.bypassed_by == path.host
    assert answered_by_proxy(direct, probe.error_type, probe.message) is None


def test_a_proxy_that_cannot_be_reached_answered_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source, _, env = _flavour_env("App Service", tmp_path)
    environ = _set(monkeypatch, {**env, "HTTP_PROXY": "http://127.0.0.1:9"})
    path = probe_path(source, environ, no_arc_agent)
    probe = creds.probe(source, SCOPE, creds.Bounds(2.0), environ)
    assert path is not None and path.proxy == "http://127.0.0.1:9"
    assert probe.state is State.FAILED and "proxy" in (probe.message or "").lower()
    assert answered_by_proxy(path, probe.error_type, probe.message) is None


def _export(fix: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment after running the fix's ``export VAR=VALUE`` in a shell."""
    match = re.search(r"export (\w+)=(\S+)", fix)
    assert match, fix
    name, value = match.groups()
    return {**environ, name: re.sub(r"\$(\w+)", lambda m: environ.get(m.group(1), ""), value)}


@pytest.mark.parametrize("no_proxy", [None, ("NO_PROXY", "localhost"), ("no_proxy", "10.0.0.0/8")])
def test_the_identity_endpoint_fix_takes_the_proxy_out_of_its_way(no_proxy: tuple[str, str] | None) -> None:
    env = {"HTTP_PROXY": P, **({no_proxy[0]: no_proxy[1]} if no_proxy else {})}
    path = probe_path("ManagedIdentityCredential", env, no_arc_agent)
    assert path is not None and path.proxy is not None
    fix = proxy_fix(path)
    var = no_proxy[0] if no_proxy else "NO_PROXY"
    assert fix == f"export {var}=169.254.169.254,${var}"
    fixed = probe_path("ManagedIdentityCredential", _export(fix, env), no_arc_agent)
    assert fixed is not None and fixed.proxy is None and fixed.bypassed_by == "169.254.169.254"


def test_entra_behind_a_proxy_wants_the_proxy_fixed_not_bypassed(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    source, _, env = _flavour_env("service principal", tmp_path)
    with HostileProxy(407) as proxy:
        environ = _set(monkeypatch, {**env, "HTTPS_PROXY": proxy.url})
        path = probe_path(source, environ)
        probe = creds.probe(source, SCOPE, creds.Bounds(3.0), environ)
    assert path is not None and probe.message is not None
    port = urlsplit(proxy.url).port
    assert proxy_fix(path, probe.message).startswith(f"export HTTPS_PROXY=http://<user>:<password>@127.0.0.1:{port} ")
    with HostileProxy(403) as proxy:
        environ = _set(monkeypatch, {"HTTPS_PROXY": proxy.url})
        path = probe_path(source, environ)
        probe = creds.probe(source, SCOPE, creds.Bounds(3.0), environ)
    assert path is not None
    fix = proxy_fix(path, probe.message)
    assert fix.startswith("have the proxy allow 127.0.0.1:9, or where this machine reaches it directly: ")
    fixed = probe_path(source, _export(fix, environ))
    assert fixed is not None and fixed.proxy is None


# --- AOAI403 end to end: the doctor, real azure-identity, a proxy that answers everything itself ---------


Doctor = Callable[..., Report]


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch) -> Doctor:
    """Run the credential checks and AOAI403 with extra variables, as ``aoai-doctor run --select AOAI2
    --select AOAI403`` would on this machine."""

    def run(**env: str) -> Report:
        return app.run_doctor(Options(select=("AOAI2", "AOAI403")), _set(monkeypatch, env))

    return run


def _aoai403(report: Report) -> tuple[Status, list[Finding]]:
    result = next(r for r in report.results if r.check_id == "AOAI403")
    return result.status, list(result.findings)


def _proxy_errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.cause == "proxy_misconfigured" and f.severity is Severity.ERROR]


def test_aoai403_names_a_proxy_answering_for_the_app_service_endpoint(doctor: Doctor) -> None:
    with HostileProxy(403) as proxy, app_service_without_identity() as endpoint:
        report = doctor(HTTP_PROXY=proxy.url, IDENTITY_ENDPOINT=f"{endpoint.url}/msi/token",
                        IDENTITY_HEADER="test-header")
    assert [a.method for a in proxy.asked] == ["GET"] and endpoint.asked == []
    status, findings = _aoai403(report)
    assert status is Status.FAIL
    line = (f"ManagedIdentityCredential (App Service) -> {endpoint.url} via proxy {proxy.url} "
            "(NO_PROXY does not list 127.0.0.1)")
    assert line in [f.message for f in findings if f.severity is Severity.INFO]
    [error] = _proxy_errors(findings)
    assert error.message.startswith("ManagedIdentityCredential: an answer that is not JSON came back through "
                                    f"the proxy {proxy.url}")
    assert error.fix == "export NO_PROXY=127.0.0.1,$NO_PROXY"
    assert "JSONDecodeError" in (error.detail or "")
    data = next(r for r in report.results if r.check_id == "AOAI403").data
    assert data["paths"] == [{"source": "ManagedIdentityCredential", "url": f"{endpoint.url}/msi/token",
                              "proxy": proxy.url, "bypassed_by": None, "flavour": "App Service"}]


def test_aoai403_names_a_proxy_that_wants_a_sign_in_for_imds(doctor: Doctor) -> None:
    # AZURE_POD_IDENTITY_AUTHORITY_HOST is the closed loopback port conftest sets: IMDS, meant since nothing
    # else is set up.
    with HostileProxy(407) as proxy:
        report = doctor(HTTP_PROXY=proxy.url)
    assert [a.target.split("?")[0] for a in proxy.asked] == ["http://127.0.0.1:9/metadata/identity/oauth2/token"]
    status, findings = _aoai403(report)
    [error] = _proxy_errors(findings)
    assert status is Status.FAIL
    assert "not the JSON of the IMDS identity endpoint" in error.message
    assert error.fix == "export NO_PROXY=127.0.0.1,$NO_PROXY"


def test_aoai403_is_content_when_no_proxy_lists_the_endpoint(doctor: Doctor) -> None:
    with HostileProxy(403) as proxy, app_service_without_identity() as endpoint:
        report = doctor(HTTP_PROXY=proxy.url, NO_PROXY="localhost,127.0.0.0/8",
                        IDENTITY_ENDPOINT=f"{endpoint.url}/msi/token", IDENTITY_HEADER="test-header")
    assert proxy.asked == [] and [a.method for a in endpoint.asked] == ["GET"]
    status, findings = _aoai403(report)
    assert status is Status.PASS
    assert not [f for f in findings if f.cause == "proxy_misconfigured"]
    assert (f"ManagedIdentityCredential (App Service) -> {endpoint.url} directly (NO_PROXY lists 127.0.0.0/8)"
            in [f.message for f in findings])
    mi = next(r for r in report.results if r.check_id == "AOAI203")
    assert mi.findings and mi.findings[0].cause == "managed_identity_not_assigned"  # the endpoint's own answer


def test_aoai403_warns_when_nothing_shows_what_the_proxy_did(doctor: Doctor) -> None:
    # A proxy nothing listens on: the IMDS probe got no answer at all, so nothing answered in its place,
    # but its requests still go where they can never reach the identity endpoint.
    report = doctor(HTTP_PROXY="http://127.0.0.1:9")
    status, findings = _aoai403(report)
    assert status is Status.WARN and not _proxy_errors(findings)
    [warning] = [f for f in findings if f.severity is Severity.WARNING]
    assert warning.cause == "proxy_misconfigured" and warning.fix == "export NO_PROXY=127.0.0.1,$NO_PROXY"


def test_the_proxy_is_the_root_cause_the_first_failing_check_carries(doctor: Doctor) -> None:
    """The cross-check rule (crosscheck.py, proxy-answered): the managed identity's own check saw only an odd
    answer; the diagnosis names the proxy, with AOAI403's exact fix, from the first failing check on."""
    from aoai_doctor.diagnosis import diagnosis_of

    with HostileProxy(403) as proxy, app_service_without_identity() as endpoint:
        report = doctor(HTTP_PROXY=proxy.url, IDENTITY_ENDPOINT=f"{endpoint.url}/msi/token",
                        IDENTITY_HEADER="test-header")
    first = next(r for r in report.results if r.status in (Status.FAIL, Status.ERROR))
    assert first.check_id.startswith("AOAI2"), first
    assert any(f.cause == "proxy_misconfigured" and "(see AOAI403)" in f.message for f in first.findings)
    diagnosis = diagnosis_of(report)
    assert diagnosis.cause == "proxy_misconfigured" and "AOAI403" in diagnosis.checks
    assert diagnosis.fix == "export NO_PROXY=127.0.0.1,$NO_PROXY"
