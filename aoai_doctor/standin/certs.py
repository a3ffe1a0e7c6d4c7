"""A throw-away certificate authority and the TLS material the stand-in serves.

Everything is made in memory at start-up with ``cryptography`` (RSA keys, so the same helpers can
make client certificates that MSAL accepts for RS256/PS256 assertions) and written to a private
temporary directory. Nothing here is trusted by the system: clients trust the CA explicitly through
``REQUESTS_CA_BUNDLE`` or ``connection_verify``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aoai_doctor.record import record

#: Host names every stand-in leaf certificate covers, besides the scenario's own resource hosts.
DEFAULT_SERVER_NAMES: tuple[str, ...] = (
    "127.0.0.1",
    "localhost",
    "login.microsoftonline.com",
    "*.openai.azure.com",
    "*.cognitiveservices.azure.com",
    "*.services.ai.azure.com",
    "*.azure-api.net",
    "management.azure.com",
)

_KEY_SIZE = 2048


def new_rsa_key() -> rsa.RSAPrivateKey:
    """Return a fresh 2048-bit RSA private key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Serialize ``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """Serialize ``cert`` as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """Upper-case hex SHA-1 of the DER certificate, as the Azure portal shows it."""
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def sha256_thumbprint(cert: x509.Certificate) -> str:
    """Upper-case hex SHA-256 of the DER certificate."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aoai-doctor stand-in"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


@record
class CertificateAuthority:
    """A self-signed CA able to issue server certificates."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls) -> CertificateAuthority:
        """Make a new CA valid for a day around now."""
        key = new_rsa_key()
        now = dt.datetime.now(dt.timezone.utc)
        name = _name("aoai-doctor stand-in CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert)

    def issue_server_cert(self, names: tuple[str, ...]) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """Issue a leaf certificate for ``names`` (DNS names, wildcards or IP literals)."""
        key = new_rsa_key()
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_san(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        return key, cert


def self_signed_client_cert(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Make a self-signed RSA certificate such as one uploaded to an app registration."""
    key = new_rsa_key()
    now = dt.datetime.now(dt.timezone.utc)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert


@record
class TlsMaterial:
    """The CA and leaf files on disk plus a ready server-side SSL context."""

    ca_path: Path
    """PEM of the CA certificate; what clients trust."""
    leaf_cert_path: Path
    leaf_key_path: Path
    server_names: tuple[str, ...]

    def server_context(self) -> ssl.SSLContext:
        """Return a new server-side context serving the leaf certificate."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.leaf_cert_path), str(self.leaf_key_path))
        return ctx


def make_tls_material(directory: Path, extra_names: tuple[str, ...] = ()) -> TlsMaterial:
    """Create a CA and one leaf for :data:`DEFAULT_SERVER_NAMES` plus ``extra_names`` in ``directory``."""
    ca = CertificateAuthority.create()
    names = tuple(dict.fromkeys(DEFAULT_SERVER_NAMES + extra_names))
    key, cert = ca.issue_server_cert(names)
    ca_path = directory / "standin-ca.pem"
    leaf_cert_path = directory / "standin-leaf.pem"
    leaf_key_path = directory / "standin-leaf.key"
    ca_path.write_bytes(cert_pem(ca.cert))
    leaf_cert_path.write_bytes(cert_pem(cert) + cert_pem(ca.cert))
    leaf_key_path.write_bytes(private_key_pem(key))
    leaf_key_path.chmod(0o600)
    return TlsMaterial(
        ca_path=ca_path, leaf_cert_path=leaf_cert_path, leaf_key_path=leaf_key_path, server_names=names
    )
