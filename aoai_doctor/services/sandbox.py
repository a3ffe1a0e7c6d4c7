"""A private process environment for running the doctor against the built-in stand-in.

azure-identity reads ``os.environ`` itself, so the demo swaps the environment for the duration of
the run and restores it afterwards. The swapped-in environment keeps the user's own identity
settings, developer CLIs and token caches out: the demo shows the scenario, not the machine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# Variables of the user's shell that would change what a credential does.
_DROP_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "IMDS_", "OPENAI_", "AZURE_OPENAI_", "AOAI_DOCTOR_")
_DROP = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
         "http_proxy", "ALL_PROXY", "all_proxy")


def closed_loopback_url() -> str:
    """``http://127.0.0.1:<port>`` for a port nothing listens on (a managed-identity endpoint that
    answers at once with "connection refused", instead of the real 169.254.169.254)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def client_environment(standin: Any, base: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """The environment for a run against ``standin``: the user's, minus identity settings, plus the
    scenario's client settings, an empty HOME and PATH (removed afterwards), and a closed
    managed-identity endpoint."""
    env = {k: v for k, v in base.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP}
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-demo-") as scratch:
        env["HOME"] = scratch
        env["PATH"] = scratch  # no az, azd or pwsh: the scenario decides which credential exists
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = closed_loopback_url()
        env.update(standin.client_env())
        env.update(doctor_env(standin))
        yield env


def doctor_env(standin: Any) -> dict[str, str]:
    """What ``aoai-doctor run`` needs besides the app's own variables to reproduce the scenario: the
    stand-in's CA fingerprint (so the doctor trusts this loopback endpoint with the credentials the
    stand-in issued), the auth mode and the deployment kind when they are not the defaults, where its
    Resource Manager answers, and the API Management subscription key (with its header name) when the
    client sends one."""
    import hashlib
    import ssl

    from aoai_doctor.services.http import STANDIN_MARKER

    env: dict[str, str] = {}
    bundle = standin.client_env().get("REQUESTS_CA_BUNDLE")
    if bundle:
        with open(bundle, encoding="ascii") as pem:
            env[STANDIN_MARKER] = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.read())).hexdigest()
    scenario = standin.scenario
    client = scenario.client
    if client.credential.value == "api-key":
        env["AOAI_DOCTOR_AUTH"] = "api-key"
    if client.operation.value != "chat":
        env["AOAI_DOCTOR_DEPLOYMENT_KIND"] = client.operation.value
    env["AOAI_DOCTOR_ARM_ENDPOINT"] = standin.management_endpoint
    key = standin.client_gateway_key()
    if key is not None:
        env["AOAI_DOCTOR_GATEWAY_KEY"] = key
        env["AOAI_DOCTOR_GATEWAY_KEY_HEADER"] = scenario.gateway.subscription_key_header
    return env


def named_endpoint(standin: Any, loopback_url: str) -> tuple[str, str]:
    """The client's endpoint under its real host name on the stand-in's port (the path kept: a v1 base
    URL, a Foundry project endpoint, a gateway's API path), and the ``--resolve`` pin for that name."""
    from urllib.parse import urlsplit

    parts = urlsplit(loopback_url)
    port = parts.port or 443
    scenario = standin.scenario
    resource = scenario.resource
    choice = scenario.client.endpoint.value
    if choice == "gateway":
        host = scenario.gateway.host
    elif choice == "project":
        host = resource.services_host
    elif choice == "regional" or not resource.custom_subdomain:
        host = resource.regional_host
    else:
        host = resource.custom_host
    return f"https://{host}:{port}{parts.path.rstrip('/')}", f"{host}:{port}:127.0.0.1"


@contextlib.contextmanager
def applied(env: Mapping[str, str]) -> Iterator[None]:
    """Replace ``os.environ`` with ``env`` for the duration of the block."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def scenario_run(standin: Any, base: Mapping[str, str]) -> Iterator[tuple[dict[str, str], Callable[[Any], Any]]]:
    """What ``demo`` does around a run: the private environment (applied to ``os.environ`` for the
    block), the resource called by its real host name pinned to the stand-in's port, and a function that
    aims a run's options at it (the pin, and the scenario's prompt)."""
    import dataclasses

    with client_environment(standin, base) as env:
        endpoint, pin = named_endpoint(standin, env["AZURE_OPENAI_ENDPOINT"])
        env["AZURE_OPENAI_ENDPOINT"] = endpoint
        prompt = standin.scenario.client.prompt or None

        def aim(options: Any) -> Any:
            return dataclasses.replace(options, resolve=(*options.resolve, pin), prompt=options.prompt or prompt)

        with applied(env):
            yield env, aim
