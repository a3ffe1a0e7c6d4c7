"""Sealed mode: unmodified DefaultAzureCredential and openai against the real Azure host names."""

from __future__ import annotations

import textwrap

DAC_CHAT = textwrap.dedent(
    """
    import os
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    from openai import AzureOpenAI

    assert "AZURE_AUTHORITY_HOST" not in os.environ
    assert "AZURE_POD_IDENTITY_AUTHORITY_HOST" not in os.environ
    credential = DefaultAzureCredential()
    client = AzureOpenAI(
        azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
        api_version=os.environ["OPENAI_API_VERSION"],
        azure_ad_token_provider=get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default"),
        max_retries=0,
    )
    reply = client.chat.completions.create(
        model=os.environ["AZURE_OPENAI_DEPLOYMENT"], messages=[{"role": "user", "content": "ping"}]
    )
    print(os.environ["AZURE_OPENAI_ENDPOINT"], reply.choices[0].message.content)
    """
)


def test_default_azure_credential_and_chat_on_real_names(sealed) -> None:
    result = sealed.run("healthy", DAC_CHAT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://contoso-openai.openai.azure.com pong"


IMDS_PROBE = textwrap.dedent(
    """
    from azure.identity import DefaultAzureCredential
    import jwt

    token = DefaultAzureCredential().get_token("https://cognitiveservices.azure.com/.default")
    print(jwt.decode(token.token, options={"verify_signature": False})["idtyp"])
    """
)

IMDS_SCENARIO = """
[[tenants]]
name = "contoso"

[[managed_identities]]
name = "vm"
kind = "system"

[resource]
name = "contoso-openai"

[[deployments]]
name = "chat"
model = "gpt-4o-mini"

[client]
credential = "managed-identity-imds"
"""


def test_imds_on_the_real_address(sealed, scenario_file) -> None:
    # DefaultAzureCredential probes 169.254.169.254 without the Metadata header, then asks for a token.
    result = sealed.run(scenario_file(IMDS_SCENARIO), IMDS_PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "app"


def test_nothing_else_resolves(sealed) -> None:
    code = textwrap.dedent(
        """
        import socket
        try:
            socket.getaddrinfo("example.com", 443)
        except OSError:
            print("unresolvable")
        print(socket.gethostbyname("login.microsoftonline.com"))
        """
    )
    result = sealed.run("healthy", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["unresolvable", "127.0.0.1"]


PROJECT_CHAT = textwrap.dedent(
    """
    import os
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    from openai import OpenAI

    endpoint = os.environ["AZURE_OPENAI_ENDPOINT"]
    assert "OPENAI_API_VERSION" not in os.environ
    provider = get_bearer_token_provider(DefaultAzureCredential(), os.environ["AZURE_OPENAI_SCOPE"])
    client = OpenAI(base_url=endpoint + "/openai/v1/", api_key=provider, max_retries=0)
    reply = client.responses.create(model=os.environ["AZURE_OPENAI_DEPLOYMENT"], input="ping")
    print(endpoint, reply.output_text)
    """
)


def test_a_foundry_project_on_its_real_name(sealed) -> None:
    result = sealed.run("foundry-project", PROJECT_CHAT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://contoso-foundry.services.ai.azure.com/api/projects/orders pong"


GATEWAY_CALL = textwrap.dedent(
    """
    import os
    import openai
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider

    provider = get_bearer_token_provider(DefaultAzureCredential(), os.environ["AZURE_OPENAI_SCOPE"])
    client = openai.AzureOpenAI(azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"], azure_ad_token_provider=provider,
                                api_version=os.environ["OPENAI_API_VERSION"], max_retries=0)
    try:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "ping"}])
    except openai.AuthenticationError as exc:
        print(os.environ["AZURE_OPENAI_ENDPOINT"], exc.response.json()["message"])
    """
)


def test_an_api_management_gateway_on_its_real_name(sealed) -> None:
    result = sealed.run("apim-gateway-key-missing", GATEWAY_CALL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "https://contoso-apim.azure-api.net/openai-proxy Access denied due to missing subscription key. "
        "Make sure to include subscription key when making requests to an API."
    )
