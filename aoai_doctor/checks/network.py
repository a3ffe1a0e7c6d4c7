"""AOAI4xx: the network path to the endpoint: DNS, TLS, proxies."""

from __future__ import annotations

from urllib.parse import urlsplit

from aoai_doctor.azure.endpoints import EndpointInfo
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import http, netprobe

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
    """Reads the proxy settings the SDKs will follow.

    ## What it detects
    - `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY`, and whether the endpoint goes through
      a proxy (an https URL follows `HTTPS_PROXY` or `ALL_PROXY`).
    - An `HTTP_PROXY` or `ALL_PROXY` that the managed-identity endpoint (`http://169.254.169.254`) does
      not bypass: IMDS requests then go to the proxy, which cannot reach the link-local address.

    ## Why it matters
    azure-identity, the openai SDK and requests all honour these variables. A proxy in the wrong place
    shows up as timeouts, HTML answers or "no response from the IMDS endpoint".

    ## How to fix
    `export NO_PROXY=169.254.169.254,localhost,127.0.0.1` (plus your private endpoints), and make sure
    the proxy allows `*.openai.azure.com` and `login.microsoftonline.com`.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI403"
    name = "proxy"
    summary = "proxy settings send the endpoint and the managed-identity endpoint the right way"
    uses = ("AOAI102",)

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
        # The managed-identity endpoint is plain http: only HTTP_PROXY / ALL_PROXY can capture it.
        if http.proxy_for("169.254.169.254", env, "http"):
            found.append(
                finding(
                    Severity.WARNING,
                    "NO_PROXY does not include 169.254.169.254: managed identity requests would go to the proxy",
                    cause="proxy_misconfigured",
                    fix="export NO_PROXY=169.254.169.254,localhost,127.0.0.1" + (f",{no_proxy}" if no_proxy else ""),
                )
            )
        return Outcome(tuple(found))
