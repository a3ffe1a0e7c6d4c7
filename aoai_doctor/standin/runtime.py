"""The :class:`StandIn`: start every stand-in service for a scenario and tell clients how to reach them."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from aoai_doctor.record import record
from aoai_doctor.standin.aoai import AoaiService, RateLimiter
from aoai_doctor.standin.arm import ArmService
from aoai_doctor.standin.certs import TlsMaterial, make_tls_material, self_signed_client_cert
from aoai_doctor.standin.directory import AZURE_CLI_CLIENT_ID, ClientCertificate, Directory
from aoai_doctor.standin.entra import EntraService
from aoai_doctor.standin.faults import FaultPlan
from aoai_doctor.standin.gateway import GatewayService
from aoai_doctor.standin.managed_identity import (
    APP_SERVICE_PATH,
    CLOUD_SHELL_PATH,
    ManagedIdentityService,
)
from aoai_doctor.standin.scenario import (
    App,
    CredentialKind,
    EndpointChoice,
    GatewayKey,
    IdentityKind,
    IdentitySelector,
    Scenario,
    User,
)
from aoai_doctor.standin.server import Listener, RequestLog
from aoai_doctor.standin.tokens import SecretLedger, TokenSigner, now
from aoai_doctor.standin.wire import RecordedRequest, Site

LOOPBACK = "127.0.0.1"
IMDS_ADDRESS = "169.254.169.254"
ENTRA_HOST = "login.microsoftonline.com"
ARM_HOST = "management.azure.com"
_ENTRA_CREDENTIALS = (
    CredentialKind.CLIENT_SECRET,
    CredentialKind.CLIENT_CERTIFICATE,
    CredentialKind.WORKLOAD_IDENTITY,
    CredentialKind.SHARED_TOKEN_CACHE,
)


class StandInError(RuntimeError):
    """The stand-in cannot start or cannot build a client environment for its scenario."""


@record
class Endpoints:
    """Base URLs of the running services."""

    authority_host: str
    aoai_endpoint: str
    regional_endpoint: str
    management_endpoint: str
    managed_identity: str
    imds: str
    gateway: str | None = None
    """The API Management gateway's base URL (with its API path), when the scenario has one."""
    services: str | None = None
    """``https://<name>.services.ai.azure.com`` (sealed) or the data plane's loopback URL, for an account
    with Foundry projects."""


class StandIn:
    """Loopback stand-ins for Entra ID, managed identity, ARM and the Azure OpenAI data plane.

    Use as a context manager::

        with StandIn(load_scenario("healthy")) as s:
            env = s.client_env()

    Every server binds ``127.0.0.1`` on an ephemeral port. With ``sealed=True`` (only inside a private
    network namespace, see :mod:`aoai_doctor.standin.sealed`) Entra, the data plane, ARM and the API
    Management gateway share ``127.0.0.1:443`` and are told apart by host name, and IMDS binds
    ``169.254.169.254:80``.
    """

    def __init__(self, scenario: Scenario, *, sealed: bool = False, base_port: int = 0) -> None:
        """``base_port`` fixes the ports (Entra, data plane, regional host, ARM, managed identity on five
        consecutive ports from it, and the gateway, when the scenario has one, on the sixth); 0 takes
        ephemeral ports."""
        self.scenario = scenario
        self.sealed = sealed
        self.base_port = base_port
        self._ledger = SecretLedger()
        self._log = RequestLog()
        self._stopping = threading.Event()
        self._listeners: list[Listener] = []
        self._workdir: Path | None = None
        self._endpoints: Endpoints | None = None
        self._tls: TlsMaterial | None = None
        self._directory: Directory | None = None
        self._signer: TokenSigner | None = None
        self._identity_header = self._ledger.add(secrets.token_hex(16))

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> StandIn:
        """Generate keys and certificates and start every listener."""
        if self._endpoints is not None:
            return self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        resource = self.scenario.resource
        gateway = self.scenario.gateway
        if gateway is not None and self.base_port and not self.sealed and self.base_port + 5 > 65535:
            raise StandInError(f"base port {self.base_port}: the gateway needs port {self.base_port + 5}")
        self._workdir = Path(tempfile.mkdtemp(prefix="aoai-doctor-standin-"))
        names = [resource.custom_host, resource.regional_host]
        if resource.projects:
            names.append(resource.services_host)
        if gateway is not None:
            names.append(gateway.host)
        self._tls = make_tls_material(self._workdir, tuple(names))
        signer = self._signer = TokenSigner(self._ledger)
        directory = self._directory = Directory(self.scenario, self._ledger)
        plan = FaultPlan(self.scenario.faults)
        limiter = RateLimiter()

        def wait(seconds: float) -> None:
            self._stopping.wait(seconds)

        entra: Site = EntraService(directory, signer)
        custom: Site = AoaiService(directory, signer, limiter, regional=False, wait=wait)
        regional: Site = AoaiService(directory, signer, limiter, regional=True, wait=wait)
        arm: Site = ArmService(directory, signer)
        cloud_shell_user = self.scenario.client.user or (
            self.scenario.users[0].name if self.scenario.users else None
        )
        mi: Site = ManagedIdentityService(directory, signer, self._identity_header, cloud_shell_user)

        gateway_site: Site | None = None
        secret_headers: frozenset[str] = frozenset()
        if gateway is not None:
            gateway_site = GatewayService(gateway, directory.gateway_keys, custom, resource.custom_host, signer)
            secret_headers = frozenset({gateway.subscription_key_header.lower()})

        def listen(host: str, port: int, sites: dict[str, Site], tls: bool) -> Listener:
            listener = Listener(
                host,
                port,
                sites,
                tls=self._tls if tls else None,
                fault_plan=plan,
                log=self._log,
                stopping=self._stopping,
                secret_headers=secret_headers,
            )
            self._listeners.append(listener)
            listener.start()
            return listener

        def port(offset: int) -> int:
            return self.base_port + offset if self.base_port else 0

        mi_listener = listen(LOOPBACK, port(4), {"*": mi}, False)
        if self.sealed:
            sites = {ENTRA_HOST: entra, resource.regional_host: regional, ARM_HOST: arm}
            if resource.custom_subdomain:
                sites[resource.custom_host] = custom
            if resource.projects:
                sites[resource.services_host] = custom
            if gateway is not None and gateway_site is not None:
                sites[gateway.host] = gateway_site
            front = listen(LOOPBACK, 443, sites, True)
            imds = listen(IMDS_ADDRESS, 80, {"*": mi}, False)
            custom_url = front.url(
                resource.custom_host if resource.custom_subdomain else resource.regional_host
            )
            self._endpoints = Endpoints(
                authority_host=front.url(ENTRA_HOST),
                aoai_endpoint=custom_url,
                regional_endpoint=front.url(resource.regional_host),
                management_endpoint=front.url(ARM_HOST),
                managed_identity=mi_listener.url(),
                imds=imds.url(),
                gateway=front.url(gateway.host) + gateway.path if gateway is not None else None,
                services=front.url(resource.services_host) if resource.projects else None,
            )
        else:
            entra_l = listen(LOOPBACK, port(0), {"*": entra}, True)
            regional_l = listen(LOOPBACK, port(2), {"*": regional}, True)
            custom_l = listen(LOOPBACK, port(1), {"*": custom}, True) if resource.custom_subdomain else regional_l
            arm_l = listen(LOOPBACK, port(3), {"*": arm}, True)
            gateway_url = None
            if gateway is not None and gateway_site is not None:
                gateway_url = listen(LOOPBACK, port(5), {"*": gateway_site}, True).url() + gateway.path
            self._endpoints = Endpoints(
                authority_host=entra_l.url(),
                aoai_endpoint=custom_l.url(),
                regional_endpoint=regional_l.url(),
                management_endpoint=arm_l.url(),
                managed_identity=mi_listener.url(),
                imds=mi_listener.url(),
                gateway=gateway_url,
                services=custom_l.url() if resource.projects else None,
            )

    def stop(self) -> None:
        """Stop every listener (releasing hung requests) and delete the temporary files."""
        self._stopping.set()
        for listener in self._listeners:
            listener.stop()
        self._listeners.clear()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._endpoints = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # where things are --------------------------------------------------------------------------

    @property
    def endpoints(self) -> Endpoints:
        """Base URLs of the running services."""
        if self._endpoints is None:
            raise StandInError("the stand-in is not running; use it as a context manager or call start()")
        return self._endpoints

    @property
    def authority_host(self) -> str:
        """Entra base URL, for ``AZURE_AUTHORITY_HOST`` (``https://127.0.0.1:PORT``)."""
        return self.endpoints.authority_host

    @property
    def aoai_endpoint(self) -> str:
        """The resource's custom-subdomain data-plane endpoint."""
        return self.endpoints.aoai_endpoint

    @property
    def v1_base_url(self) -> str:
        """The v1 base URL, ``<aoai_endpoint>/openai/v1`` (``OpenAI(base_url=...)``; no api-version)."""
        return self.endpoints.aoai_endpoint + "/openai/v1"

    def project_endpoint(self, project: str | None = None) -> str:
        """A Foundry project endpoint, ``<services host>/api/projects/<project>`` (default: the first project);
        outside sealed mode the services host is the data plane's loopback URL."""
        projects = self.scenario.resource.projects
        services = self.endpoints.services
        if not projects or services is None:
            raise StandInError(f"scenario {self.scenario.name!r} declares no [[projects]]")
        return f"{services}/api/projects/{project or projects[0].name}"

    @property
    def gateway_endpoint(self) -> str:
        """The API Management gateway's base URL including its API path (``https://127.0.0.1:PORT/openai-proxy``)."""
        if self.endpoints.gateway is None:
            raise StandInError(f"scenario {self.scenario.name!r} has no [gateway]")
        return self.endpoints.gateway

    @property
    def gateway_key(self) -> str:
        """A valid API Management subscription key (a secret)."""
        keys = self.directory.gateway_keys
        if not keys:
            raise StandInError(f"scenario {self.scenario.name!r} has no [gateway]")
        return keys[0]

    def client_gateway_key(self) -> str | None:
        """The subscription key the scenario's client sends (``[client] gateway_key``), or ``None``."""
        if self.scenario.gateway is None or self.scenario.client.gateway_key is GatewayKey.NONE:
            return None
        if self.scenario.client.gateway_key is GatewayKey.WRONG:
            return "0" * 32
        return self.gateway_key

    def client_endpoint(self) -> str:
        """The base URL the scenario's client is configured with (``[client] endpoint``)."""
        client = self.scenario.client
        choice = client.endpoint
        if choice is EndpointChoice.REGIONAL:
            return self.endpoints.regional_endpoint
        if choice is EndpointChoice.V1:
            return self.v1_base_url
        if choice is EndpointChoice.PROJECT:
            return self.project_endpoint(client.project)
        if choice is EndpointChoice.GATEWAY:
            return self.gateway_endpoint
        return self.endpoints.aoai_endpoint

    @property
    def regional_endpoint(self) -> str:
        """The resource's regional (``<region>.api.cognitive.microsoft.com``) endpoint; keys only."""
        return self.endpoints.regional_endpoint

    @property
    def management_endpoint(self) -> str:
        """ARM base URL."""
        return self.endpoints.management_endpoint

    @property
    def identity_endpoint(self) -> str:
        """App Service ``IDENTITY_ENDPOINT``."""
        return self.endpoints.managed_identity + APP_SERVICE_PATH

    @property
    def identity_header(self) -> str:
        """App Service ``IDENTITY_HEADER`` (a secret)."""
        return self._identity_header

    @property
    def imds_endpoint(self) -> str:
        """IMDS base URL for ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (``http://169.254.169.254`` if sealed)."""
        return self.endpoints.imds

    @property
    def cloud_shell_endpoint(self) -> str:
        """Cloud Shell ``MSI_ENDPOINT``."""
        return self.endpoints.managed_identity + CLOUD_SHELL_PATH

    @property
    def ca_bundle(self) -> str:
        """Path of the CA PEM clients must trust (``REQUESTS_CA_BUNDLE`` / ``connection_verify``)."""
        if self._tls is None:
            raise StandInError("the stand-in is not running")
        return str(self._tls.ca_path)

    @property
    def requests_log(self) -> tuple[RecordedRequest, ...]:
        """Every request the servers received, secrets redacted, oldest first."""
        return self._log.entries()

    @property
    def directory(self) -> Directory:
        """The live registry (ids, keys, certificates)."""
        if self._directory is None:
            raise StandInError("the stand-in is not running")
        return self._directory

    def mint_access_token(self, claims: Mapping[str, Any]) -> str:
        """Sign arbitrary ``claims`` with the stand-in's token key (to probe expiry, audience, tenant…)."""
        if self._signer is None:
            raise StandInError("the stand-in is not running")
        return self._signer.sign(claims)

    def issued_secrets(self) -> frozenset[str]:
        """Every token, secret, key, assertion and private key the stand-in issued or holds."""
        return self._ledger.snapshot()

    # client side -------------------------------------------------------------------------------

    def client_env(self) -> dict[str, str]:
        """Environment variables a client needs to reproduce the scenario against this stand-in.

        Files the credential needs (certificate PEM, federated token, MSAL token cache under a
        private ``HOME``) are written to the stand-in's temporary directory. Outside sealed mode,
        MSAL-based credentials (client secret or certificate, i.e. ``EnvironmentCredential`` and
        ``DefaultAzureCredential``) must also be built with ``disable_instance_discovery=True``:
        no environment variable turns off MSAL's instance discovery, which otherwise calls the
        real ``login.microsoftonline.com``.
        """
        client = self.scenario.client
        directory = self.directory
        endpoints = self.endpoints
        ca = self.ca_bundle
        env = {
            "REQUESTS_CA_BUNDLE": ca,
            "SSL_CERT_FILE": ca,
            "AZURE_OPENAI_ENDPOINT": self.client_endpoint(),
            "AZURE_OPENAI_DEPLOYMENT": client.deployment,
            "AZURE_OPENAI_SCOPE": client.scope,
        }
        if client.api_version is not None:
            env["OPENAI_API_VERSION"] = client.api_version
        credential = client.credential
        if credential in _ENTRA_CREDENTIALS and not self.sealed:
            env["AZURE_AUTHORITY_HOST"] = endpoints.authority_host
        if credential in (
            CredentialKind.CLIENT_SECRET,
            CredentialKind.CLIENT_CERTIFICATE,
            CredentialKind.WORKLOAD_IDENTITY,
        ):
            app = directory.app_by_name(client.app or "")
            env["AZURE_TENANT_ID"] = self._client_tenant(app.tenant)
            env["AZURE_CLIENT_ID"] = app.client_id
            if credential is CredentialKind.CLIENT_SECRET:
                secret = client.client_secret or directory.secret(app)
                if secret is None:
                    raise StandInError(
                        f"app {app.name!r} has no secret; add secret = true or [client] client_secret"
                    )
                env["AZURE_CLIENT_SECRET"] = self._ledger.add(secret)
            elif credential is CredentialKind.CLIENT_CERTIFICATE:
                env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(self._client_certificate(app))
            else:
                env["AZURE_FEDERATED_TOKEN_FILE"] = str(self._federated_token_file(app))
        elif credential is CredentialKind.SHARED_TOKEN_CACHE:
            user = directory.user(client.user or "")
            env["HOME"] = str(self.write_token_cache(self._client_dir() / "home", user))
            env["AZURE_USERNAME"] = user.upn
        elif credential is CredentialKind.MANAGED_IDENTITY_APP_SERVICE:
            env["IDENTITY_ENDPOINT"] = self.identity_endpoint
            env["IDENTITY_HEADER"] = self._identity_header
        elif credential is CredentialKind.MANAGED_IDENTITY_IMDS:
            if not self.sealed:
                env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = endpoints.imds
        elif credential is CredentialKind.MANAGED_IDENTITY_CLOUD_SHELL:
            env["MSI_ENDPOINT"] = self.cloud_shell_endpoint
        elif credential is CredentialKind.API_KEY:
            env["AZURE_OPENAI_API_KEY"] = self._ledger.add(client.api_key or directory.api_keys[0])
        managed = (CredentialKind.MANAGED_IDENTITY_APP_SERVICE, CredentialKind.MANAGED_IDENTITY_IMDS)
        if credential in managed and client.identity is not None:
            identity = directory.identity(client.identity)
            if identity.kind is IdentityKind.USER and client.identity_selector is IdentitySelector.CLIENT_ID:
                env["AZURE_CLIENT_ID"] = identity.client_id
        return env

    def client_identity_selector(self) -> dict[str, str]:
        """The client's identity as ``ManagedIdentityCredential(identity_config=...)`` takes it.

        ``{"client_id"|"object_id"|"resource_id": value}``, or ``{}`` for the system-assigned identity.
        """
        client = self.scenario.client
        if client.identity is None:
            return {}
        identity = self.directory.identity(client.identity)
        if identity.kind is IdentityKind.SYSTEM:
            return {}
        key = {
            IdentitySelector.CLIENT_ID: "client_id",
            IdentitySelector.OBJECT_ID: "object_id",
            IdentitySelector.RESOURCE_ID: "resource_id",
        }[client.identity_selector]
        return {key: Directory.selector_value(identity, client.identity_selector)}

    def _client_dir(self) -> Path:
        if self._workdir is None:
            raise StandInError("the stand-in is not running")
        path = self._workdir / "client"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def _client_tenant(self, default_tenant: str) -> str:
        ref = self.scenario.client.tenant or default_tenant
        known = next((t for t in self.scenario.tenants if t.name == ref), None)
        return known.id if known else ref

    def _client_certificate(self, app: App) -> Path:
        registered = self.directory.certificate(app)
        if registered is None:
            key, cert = self_signed_client_cert(app.name)
            registered = ClientCertificate(key, cert)
            self._ledger.add(registered.pem().decode())
        path = self._client_dir() / f"{app.name}.pem"
        path.write_bytes(registered.pem())
        path.chmod(0o600)
        return path

    def _federated_token_file(self, app: App) -> Path:
        signer = self._signer
        assert signer is not None
        client = self.scenario.client
        record = app.federated[0] if app.federated else None
        issuer = record.issuer if record and record.issuer else self.directory.federated_issuer(app)
        subject = client.federated_subject or (
            record.subject if record else "system:serviceaccount:default:workload"
        )
        audience = record.audience if record else "api://AzureADTokenExchange"
        issued = now() - (7200 if client.federated_token == "expired" else 0)
        token = signer.sign(
            {
                "aud": [audience],
                "iss": issuer,
                "sub": subject,
                "iat": issued,
                "nbf": issued,
                "exp": issued + 3600,
                "kubernetes.io": {
                    "namespace": subject.split(":")[2] if subject.count(":") >= 3 else "default"
                },
            }
        )
        path = self._client_dir() / "azure-identity-token"
        path.write_text(token)
        return path

    def write_token_cache(self, home: Path, user: User) -> Path:
        """Write a plaintext MSAL cache with a refresh token for ``user`` under ``home``; return ``home``.

        This is the file ``SharedTokenCacheCredential`` reads (``~/.IdentityService/msal.cache.nocae``)
        on Linux when no keyring is available.
        """
        directory = self.directory
        tenant = directory.tenant_by_name(user.tenant)
        environment = self.endpoints.authority_host.split("://", 1)[1]
        home_account_id = f"{user.object_id}.{tenant.id}"
        refresh = directory.issue_refresh_token(user, now())
        cache = {
            "AccessToken": {},
            "Account": {
                f"{home_account_id}-{environment}-{tenant.id}": {
                    "home_account_id": home_account_id,
                    "environment": environment,
                    "realm": tenant.id,
                    "local_account_id": user.object_id,
                    "username": user.upn,
                    "authority_type": "MSSTS",
                }
            },
            "IdToken": {},
            "RefreshToken": {
                f"{home_account_id}-{environment}-refreshtoken-{AZURE_CLI_CLIENT_ID}--": {
                    "home_account_id": home_account_id,
                    "environment": environment,
                    "credential_type": "RefreshToken",
                    "client_id": AZURE_CLI_CLIENT_ID,
                    "secret": refresh,
                    "family_id": "1",
                    "last_modification_time": str(int(time.time())),
                }
            },
            "AppMetadata": {
                f"appmetadata-{environment}-{AZURE_CLI_CLIENT_ID}": {
                    "client_id": AZURE_CLI_CLIENT_ID,
                    "environment": environment,
                    "family_id": "1",
                }
            },
        }
        folder = home / ".IdentityService"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / "msal.cache.nocae"
        target.write_text(json.dumps(cache))
        os.chmod(target, 0o600)
        return home
