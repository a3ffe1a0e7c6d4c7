"""The live registry behind the stand-in: a scenario plus everything made for it at start-up.

Secrets, client certificates, API keys and refresh tokens are created here (and recorded in the
:class:`~aoai_doctor.standin.tokens.SecretLedger`); the services look principals up by client id,
object id, UPN or tenant reference.
"""

from __future__ import annotations

import datetime as dt
import threading

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from aoai_doctor.record import record
from aoai_doctor.standin.certs import (
    cert_pem,
    private_key_pem,
    self_signed_client_cert,
    sha1_thumbprint,
    sha256_thumbprint,
)
from aoai_doctor.standin.scenario import (
    App,
    IdentityKind,
    IdentitySelector,
    ManagedIdentity,
    Scenario,
    Tenant,
    User,
    derived_id,
)
from aoai_doctor.standin.tokens import SecretLedger, random_secret

#: First-party client id of the Azure CLI, the family client SharedTokenCacheCredential uses.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@record
class ClientCertificate:
    """A certificate registered on an app, with the private key the client holds."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def sha1(self) -> str:
        """Upper-case hex SHA-1 thumbprint."""
        return sha1_thumbprint(self.cert)

    @property
    def sha256(self) -> str:
        """Upper-case hex SHA-256 thumbprint."""
        return sha256_thumbprint(self.cert)

    def pem(self) -> bytes:
        """Private key followed by the certificate, as ``AZURE_CLIENT_CERTIFICATE_PATH`` expects."""
        return private_key_pem(self.key) + cert_pem(self.cert)


@record
class RefreshGrant:
    """What a refresh token stands for."""

    user: User
    issued_at: int
    expired: bool


class Directory:
    """Tenants, principals and credentials of one running stand-in."""

    def __init__(self, scenario: Scenario, ledger: SecretLedger) -> None:
        self.scenario = scenario
        self.ledger = ledger
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._certs: dict[str, ClientCertificate] = {}
        for app in scenario.apps:
            if app.has_secret:
                self._secrets[app.client_id] = ledger.add(app.secret or random_secret())
            if app.certificate:
                key, cert = self_signed_client_cert(app.name)
                self._certs[app.client_id] = ClientCertificate(key, cert)
                ledger.add(private_key_pem(key).decode())
        self.api_keys: tuple[str, ...] = tuple(
            ledger.add(k) for k in (scenario.resource.api_keys or (_api_key(), _api_key()))
        )
        gateway = scenario.gateway
        #: The API Management subscription keys (one generated when the scenario names none).
        self.gateway_keys: tuple[str, ...] = (
            tuple(ledger.add(k) for k in (gateway.subscription_keys or (_api_key(),))) if gateway else ()
        )
        self._refresh: dict[str, RefreshGrant] = {}

    # tenants -----------------------------------------------------------------------------------

    def tenant(self, ref: str) -> Tenant | None:
        """The tenant whose id, domain or scenario name is ``ref`` (case-insensitive)."""
        key = ref.lower()
        return next(
            (t for t in self.scenario.tenants if key in (t.id.lower(), t.domain.lower(), t.name.lower())),
            None,
        )

    def tenant_by_name(self, name: str) -> Tenant:
        """The tenant with scenario name ``name``."""
        return self.scenario.tenant(name)

    @property
    def resource_tenant(self) -> Tenant:
        """The tenant the AOAI resource lives in."""
        return self.scenario.tenant(self.scenario.resource.tenant)

    # apps --------------------------------------------------------------------------------------

    def app(self, client_id: str) -> App | None:
        """The app registration with ``client_id``."""
        return next((a for a in self.scenario.apps if a.client_id.lower() == client_id.lower()), None)

    def app_by_name(self, name: str) -> App:
        """The app named ``name`` in the scenario."""
        return next(a for a in self.scenario.apps if a.name == name)

    def secret(self, app: App) -> str | None:
        """The app's client secret value, if it has one."""
        return self._secrets.get(app.client_id)

    def certificate(self, app: App) -> ClientCertificate | None:
        """The app's registered certificate, if it has one."""
        return self._certs.get(app.client_id)

    def federated_issuer(self, app: App) -> str:
        """The default OIDC issuer of the workload (an AKS-style issuer URL)."""
        tenant = self.tenant_by_name(app.tenant)
        region = self.scenario.resource.region
        return f"https://{region}.oic.prod-aks.azure.com/{tenant.id}/{derived_id('oidc', app.name)}/"

    # users and refresh tokens ------------------------------------------------------------------

    def user(self, name: str) -> User:
        """The user named ``name``."""
        return next(u for u in self.scenario.users if u.name == name)

    def issue_refresh_token(self, user: User, issued_at: int) -> str:
        """Mint an opaque refresh token for ``user``."""
        token = self.ledger.add("1.AXoA" + random_secret() + random_secret())
        with self._lock:
            self._refresh[token] = RefreshGrant(user, issued_at, user.refresh_token_expired)
        return token

    def redeem_refresh_token(self, token: str) -> RefreshGrant | None:
        """The grant a refresh token stands for, or ``None`` when unknown."""
        with self._lock:
            return self._refresh.get(token)

    # managed identities ------------------------------------------------------------------------

    def assigned_identity(
        self, *, client_id: str = "", object_id: str = "", resource_id: str = ""
    ) -> ManagedIdentity | None:
        """The identity attached to the compute matching the selector; system-assigned when empty."""
        for identity in self.scenario.managed_identities:
            if not identity.assigned:
                continue
            if client_id or object_id or resource_id:
                if identity.kind is IdentityKind.SYSTEM:
                    continue
                if (
                    (client_id and identity.client_id.lower() == client_id.lower())
                    or (object_id and identity.object_id.lower() == object_id.lower())
                    or (resource_id and identity.resource_id.lower() == resource_id.lower())
                ):
                    return identity
            elif identity.kind is IdentityKind.SYSTEM:
                return identity
        return None

    def identity(self, name: str) -> ManagedIdentity:
        """The managed identity named ``name``."""
        return next(i for i in self.scenario.managed_identities if i.name == name)

    @staticmethod
    def selector_value(identity: ManagedIdentity, selector: IdentitySelector) -> str:
        """The value a client sends to pick ``identity`` with ``selector``."""
        return {
            IdentitySelector.CLIENT_ID: identity.client_id,
            IdentitySelector.OBJECT_ID: identity.object_id,
            IdentitySelector.RESOURCE_ID: identity.resource_id,
        }[selector]

    # RBAC --------------------------------------------------------------------------------------

    def roles_of(self, object_id: str) -> tuple[str, ...]:
        """Roles assigned on the resource to the principal with ``object_id``."""
        names = {a.name: a.object_id for a in self.scenario.apps}
        names.update({u.name: u.object_id for u in self.scenario.users})
        names.update({i.name: i.object_id for i in self.scenario.managed_identities})
        return tuple(
            ra.role
            for ra in self.scenario.role_assignments
            if names.get(ra.principal, ra.principal).lower() == object_id.lower()
        )


def _api_key() -> str:
    import secrets

    return secrets.token_hex(16)


def secret_expired(app: App, at: dt.datetime) -> bool:
    """Whether the app's secret had expired at ``at``."""
    return app.secret_expires is not None and app.secret_expires <= at
