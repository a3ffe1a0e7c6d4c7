"""The StandIn object itself: binding, start-up time, client environment, logs and leaks."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from azure.identity import EnvironmentCredential

from aoai_doctor.standin import StandIn, StandInError, load_scenario

from .clients import call_with_openai


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


def test_binds_only_loopback(standin) -> None:
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs /proc/net/tcp")
    s = standin("healthy")
    urls = [s.authority_host, s.aoai_endpoint, s.regional_endpoint, s.management_endpoint, s.imds_endpoint]
    assert {urlsplit(u).hostname for u in urls} == {"127.0.0.1"}
    for url in urls:
        port = urlsplit(url).port
        assert port is not None
        assert _listening(port) == {"0100007F"}  # 127.0.0.1 only, never 0.0.0.0 or ::


def test_tls_certificate_covers_the_real_names(standin) -> None:
    s = standin("healthy")
    context = ssl.create_default_context(cafile=s.ca_bundle)
    port = urlsplit(s.aoai_endpoint).port
    for name in (
        "contoso-openai.openai.azure.com",
        "login.microsoftonline.com",
        "management.azure.com",
        "eastus.api.cognitive.microsoft.com",
        "localhost",
    ):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            assert tls.version()


def test_untrusted_client_fails_tls(standin) -> None:
    s = standin("healthy", env=False)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{s.aoai_endpoint}/openai/v1/models", timeout=5, verify=True)


def test_client_env_for_secret(standin) -> None:
    s = standin("healthy")
    env = s.client_env()
    assert env["AZURE_AUTHORITY_HOST"] == s.authority_host
    assert env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == s.ca_bundle
    assert env["AZURE_OPENAI_ENDPOINT"] == s.aoai_endpoint
    assert env["AZURE_OPENAI_DEPLOYMENT"] == "chat"
    assert env["OPENAI_API_VERSION"] == "2024-10-21"
    assert env["AZURE_TENANT_ID"] == s.scenario.tenant("contoso").id
    assert env["AZURE_CLIENT_SECRET"] == s.directory.secret(s.directory.app_by_name("orders-api"))


def test_client_env_for_managed_identity(standin) -> None:
    s = standin("mi-not-assigned")
    env = s.client_env()
    assert env["IDENTITY_ENDPOINT"] == s.identity_endpoint
    assert env["IDENTITY_HEADER"] == s.identity_header
    assert env["AZURE_CLIENT_ID"] == s.directory.identity("batch-identity").client_id
    assert "AZURE_AUTHORITY_HOST" not in env


def test_client_env_for_api_key(standin) -> None:
    s = standin("key-auth-disabled")
    assert s.client_env()["AZURE_OPENAI_API_KEY"] == s.directory.api_keys[0]


def test_not_running_raises() -> None:
    s = StandIn(load_scenario("healthy"))
    with pytest.raises(StandInError, match="not running"):
        _ = s.aoai_endpoint


def test_requests_log_has_no_secrets(standin) -> None:
    s = standin("healthy")
    call_with_openai(s)
    EnvironmentCredential(disable_instance_discovery=True).get_token("https://management.azure.com/.default")
    logged = repr(s.requests_log)
    secrets = s.issued_secrets()
    assert len(secrets) >= 4  # client secret, api keys, identity header, access tokens
    assert not [x for x in secrets if x in logged]
    assert "<redacted>" in logged


def test_temporary_files_removed_on_stop() -> None:
    s = StandIn(load_scenario("healthy")).start()
    ca = s.ca_bundle
    assert os.path.exists(ca)
    s.stop()
    assert not os.path.exists(ca)


def test_arm_control_plane(standin) -> None:
    s = standin("key-auth-disabled", env=False)
    response = requests.get(
        f"{s.management_endpoint}{s.scenario.resource.arm_id}?api-version=2023-05-01",
        timeout=5,
        verify=s.ca_bundle,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"


def test_arm_account_properties(standin) -> None:
    s = standin("missing-role")
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(
        "https://management.azure.com/.default"
    )
    response = requests.get(
        f"{s.management_endpoint}{s.scenario.resource.arm_id}?api-version=2023-05-01",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=5,
        verify=s.ca_bundle,
    )
    properties = response.json()["properties"]
    assert properties["endpoint"] == "https://contoso-openai.openai.azure.com/"
    assert properties["disableLocalAuth"] is False
    subscriptions = requests.get(
        f"{s.management_endpoint}/subscriptions?api-version=2022-12-01",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=5,
        verify=s.ca_bundle,
    ).json()
    assert subscriptions["value"][0]["subscriptionId"] == s.scenario.resource.subscription_id
