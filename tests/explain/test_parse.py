"""Unit tests of the structure readers: normalisation, JSON bodies, codes, statuses, chains."""

from __future__ import annotations

from aoai_doctor.explainer import VerdictStatus, explain
from aoai_doctor.explainer.normalize import normalize, strip_ansi, unescape, unwrap_mid_word
from aoai_doctor.explainer.parse import extract_bodies, extract_facts, parse_chain


def facts(text: str):  # type: ignore[no-untyped-def]
    views = normalize(text)
    return extract_facts(views.original, views.flat)


# ------------------------------------------------------------------------------------ normalisation


def test_strip_ansi_removes_colour_codes() -> None:
    assert strip_ansi("\x1b[31mERROR\x1b[0m: \x1b[1;33mAADSTS70011\x1b[0m") == "ERROR: AADSTS70011"


def test_unescape_literal_newlines_tabs_and_quotes() -> None:
    assert unescape('a\\nb\\tc \\"d\\"') == 'a\nb\tc "d"'


def test_unescape_double_escaped_and_unicode() -> None:
    assert unescape("x\\\\nY \\u003cguid\\u003e") == "x\nY <guid>"


def test_flat_view_collapses_console_wrapping_and_indentation() -> None:
    text = "Error: The API deployment for this resource\n        does not exist.\n"
    assert normalize(text).flat == "Error: The API deployment for this resource does not exist."


def test_mid_word_wrap_is_rejoined_only_after_long_lines() -> None:
    long = "x" * 70 + " audience is incorrec\nt (https://cognitiveservices.azure.com)"
    assert "incorrect (https" in unwrap_mid_word(long)
    assert unwrap_mid_word("short line\nnext") == "short line next"


def test_log_prefixes_are_removed() -> None:
    text = "2024-11-10T12:20:23.9818661Z Traceback\n2024-11-10T12:20:26.1933320Z   File x\n"
    assert normalize(text).flat == "Traceback File x"


def test_redaction_placeholders_do_not_block_matching() -> None:
    text = (
        "AADSTS7000215: Invalid client secret provided ... for a secret added to app '***'. "
        "Trace ID: <redacted>"
    )
    assert explain(text).best.cause == "client_secret_invalid"


def test_ansi_coloured_error_is_diagnosed() -> None:
    text = "\x1b[31mopenai.NotFoundError\x1b[0m: Error code: 404 - {'error': {'code': 'DeploymentNotFound'}}"
    assert explain(text).best.cause == "deployment_not_found"


# ------------------------------------------------------------------------------------- JSON bodies


def test_extracts_json_body_from_traceback_line() -> None:
    text = 'Traceback...\nopenai.NotFoundError: Error code: 404 - {"error": {"code": "DeploymentNotFound"}}'
    assert extract_bodies(text) == ({"error": {"code": "DeploymentNotFound"}},)


def test_extracts_python_dict_repr() -> None:
    text = "openai.BadRequestError: Error code: 400 - {'error': {'code': 'content_filter', 'param': None}}"
    assert extract_bodies(text) == ({"error": {"code": "content_filter", "param": None}},)


def test_extracts_escaped_json_string() -> None:
    text = r'"bodyAsText": "{\"error\":{\"code\":\"AuthenticationTypeDisabled\"}}"'
    bodies = extract_bodies(text)
    assert {"error": {"code": "AuthenticationTypeDisabled"}} in bodies


def test_reads_error_code_innererror_error_codes_and_status_code() -> None:
    body = (
        '{"error":{"code":"content_filter","status":400,'
        '"innererror":{"code":"ResponsibleAIPolicyViolation"}}} '
        '{"error":"invalid_client","error_codes":[7000215]} {"statusCode": 401, "message": "Unauthorized."}'
    )
    found = facts(body)
    assert {"content_filter", "responsibleaipolicyviolation", "invalid_client"} <= found.error_codes
    assert "7000215" in found.aadsts
    assert {400, 401} <= found.statuses


def test_reads_http_status_in_common_shapes() -> None:
    assert 404 in facts("openai.NotFoundError: Error code: 404 - Resource not found").statuses
    assert 401 in facts("Status: 401 (PermissionDenied)").statuses
    assert 429 in facts("HTTP 429 (429) Requests to the operation").statuses
    assert 503 in facts("response status_code=503").statuses
    assert 400 in facts('"POST /organizations/oauth2/v2.0/token HTTP/1.1" 400 603').statuses


def test_reads_aadsts_codes_from_text_and_msal_node_shape() -> None:
    assert facts("AADSTS70011: The provided request").aadsts == frozenset({"70011"})
    assert "700024" in facts("invalid_client: 700024 - [2023-01-10 14:09:13Z]: Client assertion").aadsts


def test_truncated_body_does_not_break_extraction() -> None:
    text = "Unexpected response '{'error': 'invalid_request', 'error_description': \"AADSTS90014: The req"
    assert extract_bodies(text) == ()
    assert "90014" in facts(text).aadsts


# ------------------------------------------------------------------------------------- chains

PY_CHAIN = """DefaultAzureCredential failed to retrieve a token from the included credentials.
Attempted credentials:
\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not \
fully configured.
Visit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to troubleshoot this issue.
\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the \
IMDS endpoint.
\tAzureCliCredential: Please run 'az login' to set up an account
\tAzurePowerShellCredential: PowerShell is not installed
To mitigate this issue, please refer to the troubleshooting guidelines here at \
https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."""


def test_python_chain_is_split_into_verdicts() -> None:
    chain = parse_chain(normalize(PY_CHAIN).lines)
    assert chain is not None
    assert chain.kind == "DefaultAzureCredential"
    assert [v.credential for v in chain.verdicts] == [
        "EnvironmentCredential",
        "ManagedIdentityCredential",
        "AzureCliCredential",
        "AzurePowerShellCredential",
    ]
    assert all(v.status is VerdictStatus.UNAVAILABLE for v in chain.verdicts)
    assert "troubleshoot" not in chain.verdicts[-1].message.lower()


def test_all_unavailable_picks_the_informative_credential() -> None:
    best = explain(PY_CHAIN).best
    assert best.cause == "cli_not_logged_in"
    assert best.evidence.startswith("AzureCliCredential:")


def test_all_unavailable_and_uninformative_means_nothing_configured() -> None:
    text = PY_CHAIN.replace("Please run 'az login' to set up an account", "Azure CLI not found on path")
    best = explain(text).best
    assert best.cause == "client_config_missing"
    assert "every credential" in best.evidence


def test_chain_stops_at_first_hard_failure() -> None:
    text = PY_CHAIN.replace(
        "EnvironmentCredential authentication unavailable. Environment variables are not fully configured.",
        "Authentication failed: AADSTS7000215: Invalid client secret provided.",
    )
    explanation = explain(text)
    assert explanation.best.cause == "client_secret_invalid"
    assert explanation.credentials[0].status is VerdictStatus.FAILED


def test_flattened_single_line_chain() -> None:
    text = " ".join(PY_CHAIN.split())
    chain = parse_chain(normalize(text).lines)
    assert chain is not None
    assert [v.credential for v in chain.verdicts][:2] == [
        "EnvironmentCredential",
        "ManagedIdentityCredential",
    ]


def test_escaped_chain_from_a_log_record() -> None:
    text = "stderr='" + PY_CHAIN.replace("\n", "\\n").replace("\t", "\\t") + "'"
    assert explain(text).best.cause == "cli_not_logged_in"


def test_js_chain_names_credentials_from_their_messages() -> None:
    text = (
        "AggregateAuthenticationError: ChainedTokenCredential authentication failed.\n"
        "CredentialUnavailableError: EnvironmentCredential is unavailable. No underlying credential could be "
        "used.\nCredentialUnavailableError: Azure CLI could not be found. Please visit "
        "https://aka.ms/azure-cli "
        "for installation instructions and then, once installed, authenticate to your Azure account using "
        "'az login'.\nCredentialUnavailableError: Error: Unable to execute PowerShell. Ensure that it is "
        "installed in your system."
    )
    chain = parse_chain(normalize(text).lines)
    assert chain is not None
    assert [v.credential for v in chain.verdicts] == [
        "EnvironmentCredential",
        "AzureCliCredential",
        "AzurePowerShellCredential",
    ]
    assert explain(text).best.cause == "client_config_missing"


def test_dotnet_dash_list_chain() -> None:
    text = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\r\n"
        "- EnvironmentCredential authentication unavailable. Environment variables are not fully "
        "configured.\r\n"
        "- ManagedIdentityCredential authentication unavailable. The requested identity has not been "
        "assigned "
        "to this resource.\r\n- Azure CLI not installed"
    )
    explanation = explain(text)
    assert [v.credential for v in explanation.credentials] == [
        "EnvironmentCredential",
        "ManagedIdentityCredential",
        "AzureCliCredential",
    ]
    assert explanation.best.cause == "managed_identity_not_assigned"


def test_success_after_unavailable_credentials_is_not_an_error() -> None:
    text = (
        "DEBUG:azure.identity._internal.decorators:EnvironmentCredential.get_token failed: "
        "EnvironmentCredential "
        "authentication unavailable. Environment variables are not fully configured.\n"
        "INFO:azure.identity._credentials.chained:DefaultAzureCredential acquired a token from "
        "AzureCliCredential"
    )
    assert explain(text).best.cause == "not_an_error"


def test_informational_logging_is_not_an_error() -> None:
    text = (
        "INFO:azure.identity._credentials.environment:No environment configuration found.\n"
        "INFO:azure.identity._credentials.managed_identity:ManagedIdentityCredential will use IMDS\n"
        "INFO:httpx:HTTP Request: POST https://x.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        '?api-version=2024-10-21 "HTTP/1.1 200 OK"'
    )
    assert explain(text).best.cause == "not_an_error"


def test_unknown_text_is_other_with_low_confidence() -> None:
    best = explain("Segmentation fault (core dumped) while compiling frobnicator").best
    assert best.cause == "other"
    assert best.confidence.value == "low"
