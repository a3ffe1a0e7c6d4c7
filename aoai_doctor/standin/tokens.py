"""Signing and checking the stand-in's access tokens.

Tokens are RS256 JWTs signed with an RSA key made per :class:`~aoai_doctor.standin.StandIn`.
PyJWT does the encoding and verification: it is already installed with azure-identity (MSAL
depends on it to build client assertions), it is maintained and audited, and hand-rolling JOSE
would add code that must itself be trusted. The same module keeps the :class:`SecretLedger`, the
list of every secret value the stand-in issued or holds, so tests can grep outputs for leaks.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from aoai_doctor.record import record
from aoai_doctor.standin.certs import new_rsa_key


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SecretLedger:
    """Thread-safe record of secret values (tokens, keys, client secrets, assertions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()

    def add(self, value: str) -> str:
        """Record ``value`` and return it unchanged."""
        if value:
            with self._lock:
                self._values.add(value)
        return value

    def snapshot(self) -> frozenset[str]:
        """Every recorded value."""
        with self._lock:
            return frozenset(self._values)


def random_secret(prefix: str = "") -> str:
    """A random secret shaped like an Entra client secret value (40 characters)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(40 - len(prefix)))


@record
class VerifiedToken:
    """Claims of a token whose signature and lifetime checked out."""

    claims: Mapping[str, Any]

    @property
    def object_id(self) -> str:
        """The caller's ``oid``."""
        return str(self.claims.get("oid", ""))

    @property
    def tenant_id(self) -> str:
        """The issuing tenant (``tid``)."""
        return str(self.claims.get("tid", ""))


@dataclass
class TokenSigner:
    """Issues and verifies RS256 access tokens with one RSA key."""

    ledger: SecretLedger
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:27])

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Sign ``claims`` and record the token in the ledger."""
        token = jwt.encode(
            dict(claims), self.key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid}
        )
        return self.ledger.add(token)

    def verify(self, token: str, audiences: Iterable[str], *, leeway: int = 0) -> VerifiedToken:
        """Check signature, audience, ``exp`` and ``nbf``; raise :class:`jwt.PyJWTError` on failure."""
        claims = jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            audience=list(audiences),
            leeway=leeway,
            options={"require": ["exp", "nbf", "aud"]},
        )
        return VerifiedToken(claims=claims)

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWK set (what ``/discovery/v2.0/keys`` serves)."""
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }


def now() -> int:
    """Current epoch seconds."""
    return int(time.time())
