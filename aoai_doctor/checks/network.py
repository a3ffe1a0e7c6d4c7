"""AOAI4xx: the network path to the endpoint: DNS, TLS, proxies, and the path of each credential probe."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from aoai_doctor.azure.chain import SOURCE_TABLE, SOURCES, ChainConfigError, State, chain_order
from aoai_doctor.azure.endpoints import EndpointInfo
from aoai_doctor.azure.intent import INTENT_VARS
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.facts import ProbePath, SourceProbe
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import http, netprobe
from aoai_doctor.services import probe_path as paths

# Issuers of the certificates Azure's public endpoints present.
AZURE_ISSUERS = ("Microsoft", "DigiCert")
STANDIN_ISSUER = "aoai-doctor"


def _pins(ctx: CheckContext) -> dict[tuple[str, int], str]:
    return http.parse_resolve(list(ctx.target.resolve))


class Dns(Check):
    """Resolves the endpoint's host name and reads the answer.

    ## What it detects
    - A name that does not resolve (`dns_failure`).
    - The CNAME chain: `*.privatelink.openai.azure.com` means a private endpoint exists for the
      resource.
    - Private or public addresses, and what that means with the 403 network errors: a public address
      while the resource only allows its private endpoint gives "Public access is disabled".
    - `--resolve` pins are reported as such.

    ## Why it matters
    With private endpoints, the same host name must resolve to the private IP inside the network.
    A VPN or a missing private DNS zone quietly sends the call to the public IP, which the resource
    refuses.

    ## How to fix
    Link the private DNS zone `privatelink.openai.azure.com` to the caller's VNet (or forward it from
    on-premises DNS), or test with `--resolve <host>:443:<private-ip>` before switching DNS.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI401"
    name = "dns"
    summary = "the endpoint's name resolves, and to a private or public address as intended"
    requires = ("AOAI102",)

    def run(self, ctx: CheckContext) -> Outcome:
        info = ctx.fact(EndpointInfo)
        if info is None:
            return Outcome.skip("no endpoint")
        answer = netprobe.resolve(info.host, info.port or 443, _pins(ctx))
        if answer.error:
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        f"{info.host} does not resolve: {answer.error}",
                        cause="dns_failure",
                        fix=f"check the resource name (nslookup {info.host}); on a private network, the "
                        "privatelink.openai.azure.com zone must be linked or forwarded",
                    ),
                ),
                facts=(answer,),
            )
        where = "private" if answer.private else "public"
        text = f"{info.host} → {', '.join(answer.addresses)} ({where}" + (
            ", pinned with --resolve)" if answer.pinned else ")"
        )
        chain = " → ".join(answer.aliases)
        found = [ok(text, detail=f"CNAME chain: {chain}" if chain else None)]
        if any("privatelink" in a for a in answer.aliases) and not answer.private:
            found.append(
                finding(
                    Severity.WARNING,
                    "the resource has a private endpoint, but its name resolves to a public address here",
                    cause="dns_failure",
                    fix="link the privatelink.openai.azure.com private DNS zone to this network (or "
                    "forward it); calls from here reach the public endpoint, which may refuse them",
                )
            )
        return Outcome(tuple(found), facts=(answer,))


class Tls(Check):
    """Makes a TLS handshake with the endpoint, verifying the certificate as the call will.

    ## What it detects
    - Verification failures (`CERTIFICATE_VERIFY_FAILED`, a self-signed certificate in the chain): a
      proxy or inspection device presents a certificate this machine does not trust (`tls_interception`).
    - A certificate trusted only through a custom CA bundle and issued by neither Microsoft nor
      DigiCert: TLS inspection is in place.
    - The TLS version and the certificate's issuer and expiry.

    ## Why it matters
    Python's requests (and so azure-identity and the openai SDK) trust certifi's bundle, not the
    operating system's, so a corporate root CA that browsers accept is unknown to them.

    ## How to fix
    Point requests at a bundle that holds the corporate root CA:
    `export REQUESTS_CA_BUNDLE=/path/to/corporate-ca-bundle.pem` (`SSL_CERT_FILE` for httpx, which the
    openai SDK uses). Never turn verification off.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI402"
    name = "tls"
    summary = "the endpoint's certificate verifies, and who issued it"
    requires = ("AOAI102",)

    def run(self, ctx: CheckContext) -> Outcome:
        info = ctx.fact(EndpointInfo)
        if info is None or info.scheme != "https":
            return Outcome.skip("no https endpoint")
        port = info.port or 443
        pinned = _pins(ctx).get((info.host, port))
        if http.proxy_for(info.host, ctx.environ):
            return Outcome.skip("the endpoint is reached through a proxy (see AOAI403)")
        answer = netprobe.handshake(info.host, port, pinned, ctx.environ)
        problem = _tls_problem(answer, info.host, port)
        if problem is not None:
            message, cause, fix = problem
            return Outcome((finding(Severity.ERROR, message, cause=cause, fix=fix),), facts=(answer,))
        text = f"{answer.version}, certificate issued by {answer.issuer} (valid until {answer.not_after})"
        issuer = answer.issuer or ""
        found: list[Finding] = [ok(text)]
        if issuer.startswith(STANDIN_ISSUER):
            found = [ok(text + ": the aoai-doctor stand-in")]
        elif not any(name in issuer for name in AZURE_ISSUERS):
            found.append(
                finding(
                    Severity.WARNING,
                    f"the certificate for {info.host} is issued by {issuer}, not by "
                    "Microsoft or DigiCert: TLS inspection is in place",
                    cause="tls_interception",
                    fix="fine while REQUESTS_CA_BUNDLE trusts it; every Python process that calls Azure "
                    "needs the same bundle (and SSL_CERT_FILE for httpx)",
                )
            )
        return Outcome(tuple(found), facts=(answer,))


def _without_login(proxy: str) -> str:
    """A proxy URL as it may be shown: no user name or password."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _tls_problem(answer: netprobe.TlsAnswer, host: str, port: int) -> tuple[str, str, str] | None:
    """(message, cause, fix) for a handshake that did not succeed, most specific reason first."""
    if answer.ca_error:
        return (
            answer.error or "cannot load the CA bundle",
            "config_invalid",
            "point REQUESTS_CA_BUNDLE at a readable PEM bundle (with your proxy's root CA if you have one), or "
            "unset it to use certifi's",
        )
    if answer.hostname_mismatch:
        return (
            f"the certificate {host} presents is for another name: {answer.error}",
            "endpoint_wrong",
            "call the resource's own host name (az cognitiveservices account show --query properties.endpoint); "
            "a custom domain needs its own certificate",
        )
    if answer.verify_error:
        return (
            f"TLS verification of {host} failed: {answer.error}",
            "tls_interception",
            "export REQUESTS_CA_BUNDLE=/path/to/bundle-with-your-proxy-root-ca.pem (and SSL_CERT_FILE for httpx); "
            "never disable verification",
        )
    if answer.error:
        return (
            f"TLS handshake with {host} failed: {answer.error}",
            "connection_failed",
            f"check that {host}:{port} is reachable (firewall, proxy)",
        )
    return None


class Proxy(Check):
    """Reads the proxy settings the SDKs will follow, and the path every credential probe took.

    ## What it detects
    - `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` (any case; the lower-case name wins), and
      whether the endpoint goes through a proxy (an https URL follows `HTTPS_PROXY` or `ALL_PROXY`).
    - For each credential source that calls an endpoint itself and is meant to be used here (its
      variables are set, `AZURE_TOKEN_CREDENTIALS` names it, it got beyond "unavailable", or, for
      managed identity, no other source is set up), the URL it calls and whether a proxy carries it, as
      requests reads the variables (an IPv4 `NO_PROXY` entry matches the address or a CIDR block holding
      it; a name matches the host and the names under it, with or without a leading dot; `name:port`
      only a URL that spells the port; `*` alone matches everything):
      `ManagedIdentityCredential (IMDS) -> http://169.254.169.254 via proxy http://proxy:3128 (NO_PROXY
      does not list 169.254.169.254)`. Managed identity calls `IDENTITY_ENDPOINT` (App Service, Functions,
      Azure Arc), `MSI_ENDPOINT` (Cloud Shell, Azure ML), or IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST`,
      else `http://169.254.169.254`); the service principal, workload identity and shared token cache
      sources call Microsoft Entra ID (`AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com`).
    - What actually answered a probe that went through a proxy (`proxy_misconfigured`): the proxy
      refused the tunnel (`Tunnel connection failed: 403 Forbidden`), asked for a sign-in (407 Proxy
      Authentication Required), or sent an HTML page or another body that is not the identity
      endpoint's JSON.
    - A managed identity that is meant to be used but whose requests go to a proxy, which can never
      reach the host's own identity endpoint (a warning when no answer shows it).

    ## Why it matters
    azure-identity, the openai SDK and requests all honour these variables. A proxy in the wrong place
    shows up as timeouts, HTML answers, "Expecting value: line 1 column 1 (char 0)", "ManagedIdentityCredential
    authentication unavailable." or "no response from the IMDS endpoint", none of which names the proxy.

    ## How to fix
    Take the identity endpoint out of the proxy's way, in the variable requests reads (`no_proxy` when it
    is set, else `NO_PROXY`): `export NO_PROXY=169.254.169.254,$NO_PROXY` for IMDS, or the host of
    `IDENTITY_ENDPOINT` / `MSI_ENDPOINT` (`export NO_PROXY=localhost,$NO_PROXY`). For Microsoft Entra ID,
    have the proxy allow `login.microsoftonline.com:443`; when it asks for a sign-in, put it in the proxy
    variable (`export HTTPS_PROXY=http://<user>:<password>@proxy:3128`). Make sure the proxy allows
    `*.openai.azure.com` too.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI403"
    name = "proxy"
    summary = "proxy settings send the endpoint and each credential source's probe the right way"
    uses = ("AOAI102", *(s.check_id for s in SOURCE_TABLE))

    def run(self, ctx: CheckContext) -> Outcome:
        env = ctx.environ
        proxies = http.proxy_settings(env)
        if not proxies:
            return Outcome((ok("no proxy configured"),))
        no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
        found: list[Finding] = []
        info = ctx.fact(EndpointInfo)
        if info is not None:
            via = http.proxy_for(info.host, env, "https")
            found.append(
                ok(
                    f"the endpoint {'goes through the proxy ' + _without_login(via) if via else 'is reached directly'}",
                    detail=f"proxies: {', '.join(sorted(proxies))}; NO_PROXY={no_proxy or '(unset)'}",
                )
            )
        if ctx.target.auth.value == "api-key":
            return Outcome(tuple(found))
        probes = {p.source: p for p in ctx.all_facts(SourceProbe)}
        published = {p.source: p for p in ctx.all_facts(ProbePath)}
        shown: list[dict[str, object]] = []
        for source in _meant_sources(env, probes):
            path = published.get(source) or paths.probe_path(source, env)
            if path is None:
                continue
            found.append(ok(path.describe()))
            shown.append({"source": path.source, "url": path.url, "proxy": path.proxy,
                          "bypassed_by": path.bypassed_by, "flavour": path.flavour})
            found.extend(_path_problems(path, probes.get(source)))
        return Outcome(tuple(found), data={"paths": shown} if shown else {})


def _path_problems(path: ProbePath, probe: SourceProbe | None) -> list[Finding]:
    """An error when something other than the service answered the probe through the proxy; a warning when a
    managed identity's requests go to a proxy and nothing shows they got through."""
    if path.proxy is None or (probe is not None and probe.state is State.SUCCEEDED):
        return []
    reason = paths.answered_by_proxy(path, probe.error_type, probe.message) if probe is not None else None
    if reason is not None:
        assert probe is not None
        return [finding(Severity.ERROR, f"{path.source}: {reason}", cause="proxy_misconfigured",
                        fix=paths.proxy_fix(path, probe.message),
                        detail=f"{probe.error_type}: {probe.message or ''}".strip())]
    if path.flavour in (None, "workload identity"):
        return []  # Microsoft Entra ID is usually meant to go through the proxy
    return [finding(Severity.WARNING,
                    f"{path.source}'s requests to {path.origin} go to the proxy {path.proxy}, which cannot reach "
                    "the host's own identity endpoint", cause="proxy_misconfigured", fix=paths.proxy_fix(path))]


def _meant_sources(env: Mapping[str, str], probes: Mapping[str, SourceProbe]) -> list[str]:
    """The sources that call an endpoint and are meant to be used here, in DefaultAzureCredential's order:
    the one ``AZURE_TOKEN_CREDENTIALS`` names, those whose variables are set or whose probe got beyond
    "unavailable"; managed identity (IMDS) also when no other source is meant and the chain holds it."""
    try:
        order = chain_order(env.get("AZURE_TOKEN_CREDENTIALS"))
    except ChainConfigError:
        order = SOURCES

    def meant(source: str) -> bool:
        probe = probes.get(source)
        return (order == (source,) or any(env.get(v) for v in INTENT_VARS.get(source, ()))
                or (probe is not None and probe.state is not State.UNAVAILABLE))

    chosen = [s for s in paths.HTTP_SOURCES if meant(s)]
    others = [s for s in SOURCES if s != "ManagedIdentityCredential" and meant(s)]
    if "ManagedIdentityCredential" not in chosen and not others and "ManagedIdentityCredential" in order:
        chosen.append("ManagedIdentityCredential")
    return [s for s in SOURCES if s in chosen]
