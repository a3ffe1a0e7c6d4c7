"""Asking each azure-identity credential source for a token on its own, within a hard time bound.

Each source is built the way DefaultAzureCredential builds it (same environment variables, same
keyword arguments), plus bounds so that a black-holed endpoint costs seconds, not minutes:
``connection_timeout``/``read_timeout``/``retry_total=0`` for HTTP sources and ``process_timeout``
for the developer CLIs. The token never leaves this module except wrapped in a ``Secret``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aoai_doctor import phase
from aoai_doctor.azure.chain import BY_NAME, State
from aoai_doctor.azure.jwt import Identity, decode_claims
from aoai_doctor.facts import SourceProbe
from aoai_doctor.record import record
from aoai_doctor.redaction import Secret
from aoai_doctor.redaction import scrub as redact
from aoai_doctor.services import preconditions


@record
class Bounds:
    """How long one source may take."""

    seconds: float = 5.0

    @property
    def connect(self) -> float:
        """TCP connect timeout for HTTP sources."""
        return max(0.5, min(2.0, self.seconds / 2))

    @property
    def process(self) -> int:
        """``process_timeout`` for the CLI sources (whole seconds, as azure-identity types it)."""
        return max(1, int(self.seconds - 0.5))


def quiet_azure_logging() -> None:
    """Keep azure-identity's own warnings (which repeat what the report says) off stderr, unless the
    process has configured logging itself (a library user's app: its logging is its own)."""
    if logging.getLogger().handlers:
        return
    for name in ("azure", "msal"):
        logger = logging.getLogger(name)
        if logger.handlers:  # configured already (--debug, or an embedding application): leave it
            continue
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _http_kwargs(bounds: Bounds, environ: Mapping[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "connection_timeout": bounds.connect,
        "read_timeout": bounds.seconds,
        "retry_total": 0,
    }
    authority = environ.get("AZURE_AUTHORITY_HOST", "")
    host = urlsplit(authority if "://" in authority else f"https://{authority}").hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        # A loopback authority (a local Entra stand-in) is unknown to MSAL, which would otherwise ask the
        # public login.microsoftonline.com to validate it first.
        kwargs["disable_instance_discovery"] = True
    return kwargs


def _build(source: str, environ: Mapping[str, str], bounds: Bounds) -> Any:
    """The credential, built as DefaultAzureCredential builds it."""
    import azure.identity as ai

    http = _http_kwargs(bounds, environ)
    client_id = environ.get("AZURE_CLIENT_ID")
    tenant_id = environ.get("AZURE_TENANT_ID")
    builders: dict[str, Callable[[], Any]] = {
        "EnvironmentCredential": lambda: ai.EnvironmentCredential(**http),
        "WorkloadIdentityCredential": lambda: ai.WorkloadIdentityCredential(
            client_id=client_id, tenant_id=tenant_id, token_file_path=environ.get("AZURE_FEDERATED_TOKEN_FILE"),
            **http),
        "ManagedIdentityCredential": lambda: ai.ManagedIdentityCredential(
            client_id=client_id, **{**http, "connection_timeout": min(1.0, bounds.connect)}),
        "SharedTokenCacheCredential": lambda: _shared_cache(ai, environ, tenant_id, http),
        "VisualStudioCodeCredential": lambda: ai.VisualStudioCodeCredential(),
        "AzureCliCredential": lambda: ai.AzureCliCredential(process_timeout=bounds.process),
        "AzurePowerShellCredential": lambda: ai.AzurePowerShellCredential(process_timeout=bounds.process),
        "AzureDeveloperCliCredential": lambda: ai.AzureDeveloperCliCredential(process_timeout=bounds.process),
        "BrokerCredential": lambda: _broker(tenant_id),
    }
    return builders[source]()


def _shared_cache(ai: Any, environ: Mapping[str, str], tenant_id: str | None, http: dict[str, Any]) -> Any:
    from azure.identity import CredentialUnavailableError

    if not ai.SharedTokenCacheCredential.supported():
        raise CredentialUnavailableError(message="SharedTokenCacheCredential is not supported on this platform")
    return ai.SharedTokenCacheCredential(username=environ.get("AZURE_USERNAME"), tenant_id=tenant_id, **http)


def _broker(tenant_id: str | None) -> Any:
    try:  # the class DefaultAzureCredential itself uses for its last source
        from azure.identity._credentials.broker import BrokerCredential
    except ImportError:
        from azure.identity import CredentialUnavailableError

        raise CredentialUnavailableError(message="this azure-identity has no brokered credential") from None
    return BrokerCredential(tenant_id=tenant_id)


def probe(source: str, scope: str, bounds: Bounds = Bounds(), environ: Mapping[str, str] | None = None) -> SourceProbe:
    """Ask one source for a token for ``scope``; never raises for the source's own failures.

    azure-identity reads the process environment itself, so ``environ`` defaults to it and should
    be the same mapping.
    """
    env = os.environ if environ is None else environ
    t0 = time.monotonic()
    phase.enter(f"looking for what {source} needs")
    missing = preconditions.absent(source, env, bounds.connect)
    if missing is not None:  # azure-identity would say just this: no need to import it or build the credential
        logging.getLogger("aoai_doctor.credentials").debug("%s is unavailable without building it: %s", source,
                                                           missing.message)
        return SourceProbe(source, State.UNAVAILABLE, round((time.monotonic() - t0) * 1000, 1), missing.error_type,
                           missing.message, at_construction=missing.at_construction, precondition=True)
    from azure.identity import CredentialUnavailableError

    quiet_azure_logging()

    def done(state: State, exc: BaseException | None = None, *, construction: bool = False,
             token: Any = None) -> SourceProbe:
        elapsed = round((time.monotonic() - t0) * 1000, 1)
        if exc is not None:
            return SourceProbe(source, state, elapsed, type(exc).__name__, _message(exc), at_construction=construction)
        insane = token_sanity(token.token, token.expires_on)
        if insane is not None:  # that source's failure: what it returned is never sent on
            return SourceProbe(source, State.FAILED, elapsed, "UnusableToken", insane)
        claims = decode_claims(token.token) or {}
        return SourceProbe(source, state, elapsed, identity=Identity.from_claims(claims), claims=claims,
                           expires_on=int(token.expires_on), token=Secret(token.token))

    phase.enter(f"asking {source} for a token")
    try:
        credential = _build(source, env, bounds)
    except CredentialUnavailableError as exc:
        return done(State.UNAVAILABLE, exc, construction=True)
    except ValueError as exc:
        # DefaultAzureCredential skips a WorkloadIdentityCredential it cannot build; any other source that
        # cannot be built makes DefaultAzureCredential() itself raise.
        state = State.UNAVAILABLE if source == "WorkloadIdentityCredential" else State.FAILED
        return done(state, exc, construction=True)
    except Exception as exc:
        return done(State.FAILED, exc, construction=True)
    try:
        token = credential.get_token(scope)
    except CredentialUnavailableError as exc:
        return done(State.UNAVAILABLE, exc)
    except Exception as exc:  # any other error is a hard failure, as in the chain
        return done(State.FAILED, exc)
    finally:
        close = getattr(credential, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()
    return done(State.SUCCEEDED, token=token)


def verify_default_chain(scope: str, bounds: Bounds, excluded: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
    """Run the real ``DefaultAzureCredential`` once: (the source it used, or None; the error text, or None)."""
    import azure.identity as ai

    quiet_azure_logging()
    kwargs: dict[str, Any] = {BY_NAME[s].exclude: True for s in excluded if s in BY_NAME}
    kwargs.update(_http_kwargs(bounds, os.environ))
    kwargs["process_timeout"] = bounds.process
    try:
        credential = ai.DefaultAzureCredential(**kwargs)
    except Exception as exc:
        return None, _message(exc)
    with credential:  # closes the transports of every source it built
        try:
            credential.get_token(scope)
        except Exception as exc:
            return None, _message(exc)
        used = getattr(credential, "_successful_credential", None)
    return (type(used).__name__ if used is not None else None), None


MAX_TOKEN_BYTES = 16 * 1024
"""Entra ID access tokens are a few kilobytes; far larger is not a token (an HTML page, a log)."""


def token_sanity(token: str, expires_on: float | None, now: float | None = None) -> str | None:
    """Why what a source returned as a token cannot be one, or None: not a JWT, absurdly large, or
    expired on arrival. Never quotes the value."""
    if len(token) > MAX_TOKEN_BYTES:
        return f"returned a 'token' of {len(token)} bytes, far larger than any Entra ID access token"
    claims = decode_claims(token)
    if claims is None:
        return f"returned a 'token' that is not a JWT ({len(token)} characters, not three base64url parts)"
    moment = time.time() if now is None else now
    for exp in (claims.get("exp"), expires_on):
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and math.isfinite(exp) and exp < moment - 60:
            return f"returned a token that had expired {int(moment - exp)} s before it arrived"
    return None


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return redact(str(text)).strip()
