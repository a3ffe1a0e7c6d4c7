"""Real failure texts for signatures that the benchmark corpus does not already exercise.

Each entry: signature id -> (source of the real text, text). Texts are quoted from the cited public
issue, from azure-identity's or openai's own message strings (azure-identity 1.27.0, openai 3.57.0 sources;
holes filled as tests/explain/test_identity_messages.py fills them), from the Microsoft docs, or from
shared/reference/azure-identity-offline.md, where they were produced by running the real library.
"""

from __future__ import annotations

OFFLINE = "shared/reference/azure-identity-offline.md"
IDENTITY = "azure-identity 1.27.0"
CLAIMS = "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ=="

INLINE_EXAMPLES: dict[str, tuple[str, str]] = {
    "source-token-expired-on-arrival": (
        "aoai-doctor's source probe (services/identity.py token_sanity), run on a fake az printing an expired token",
        "AzureCliCredential: UnusableToken: returned a token that had expired 7200 s before it arrived",
    ),
    "source-token-not-a-token": (
        "aoai-doctor's source probe (services/identity.py token_sanity), run on a fake az printing a non-JWT",
        "AzureCliCredential: UnusableToken: returned a 'token' that is not a JWT (9 characters, not three "
        "base64url parts)",
    ),
    "invalid-scope-characters": (
        f"{OFFLINE} §4 (local validation)",
        "ValueError: An invalid scope was provided. Only alphanumeric characters, '.', '-', '_', ':', "
        "and '/' are allowed.",
    ),
    "aadsts-90023-unsupported-request": (
        "public repository comment (find_string id 63632239777): SPA redirect URI on a desktop client",
        "The authorization code then comes back marked as single-page, redeemable only with an Origin "
        "header that a desktop client does not send, and every sign-in fails with AADSTS90023.",
    ),
    "aadsts-50126-bad-password": (
        "ahaenggli/AzureAD-LDAP-wrapper#115",
        "AADSTS50126: Error validating credentials due to invalid username or password",
    ),
    "workload-identity-not-configured": (
        f"{OFFLINE} §6 (DefaultAzureCredential, nothing configured)",
        "WorkloadIdentityCredential authentication unavailable. The workload options are not fully "
        "configured. See the troubleshooting guide for more information: "
        "https://aka.ms/azsdk/python/identity/workloadidentitycredential/troubleshoot. Missing required "
        "arguments: 'tenant_id', 'client_id', 'token_file_path'.",
    ),
    "workload-identity-partial": (
        f"{OFFLINE} §3 (no client id)",
        "ValueError: WorkloadIdentityCredential authentication unavailable. The workload options are not "
        "fully configured. See the troubleshooting guide for more information: "
        "https://aka.ms/azsdk/python/identity/workloadidentitycredential/troubleshoot. Missing required "
        "arguments: 'client_id'.",
    ),
    "workload-identity-token-file-missing": (
        f"{OFFLINE} §3 (token file missing; AKS default token path)",
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/var/run/secrets/azure/tokens/azure-identity-token'",
    ),
    "managed-identity-expires-on-date-string": (
        f"{OFFLINE} §1 (App Service, expires_on as a date string)",
        "ValueError: invalid literal for int() with base 10: '11/21/2030 12:00:00 AM +00:00'",
    ),
    "app-service-mi-error": (
        f"{OFFLINE} §1 (App Service, only expires_in)",
        "CredentialUnavailableError: App Service managed identity configuration not found in environment. "
        "Token request error: (invalid_scope) None, None",
    ),
    "cloud-shell-client-id": (
        f"{OFFLINE} §1 (Cloud Shell)",
        "ValueError: client_id should not be set for cloud shell managed identity.",
    ),
    "shared-cache-multiple-accounts": (
        "azure-identity _internal/shared_token_cache.py (MULTIPLE_ACCOUNTS)",
        "SharedTokenCacheCredential authentication unavailable. Multiple accounts\n"
        "were found in the cache. Use username and tenant id to disambiguate.",
    ),
    "shared-cache-token-failed": (
        "azure-identity _internal/shared_token_cache.py (NO_TOKEN)",
        "Token acquisition failed for user 'user@contoso.com'. To fix, re-authenticate\n"
        "through developer tooling supporting Azure single sign on",
    ),
    "vscode-unavailable": (
        f"{OFFLINE} §6",
        "VisualStudioCodeCredential: VisualStudioCodeCredential requires the 'azure-identity-broker' "
        "package to be installed. You must also ensure you have the Azure Resources extension installed "
        "and have signed in to Azure via Visual Studio Code.",
    ),
    "visual-studio-unavailable": (
        "Azure/azure-sdk-for-net#18782",
        "- Visual Studio Token provider can't be accessed at "
        "D:\\DWASFiles\\Sites\\DEV-API-GRAPH\\LocalAppData\\.IdentityService\\AzureServiceAuth\\tokenprovider.json",
    ),
    "azure-cli-not-installed": (
        "Azure/azure-functions-python-worker#934",
        'Help Debugging "azure.identity._exceptions.CredentialUnavailableError: Azure CLI not found on path"',
    ),
    "azure-developer-cli-not-installed": (
        f"{OFFLINE} §4 (AzureDeveloperCliCredential not on PATH)",
        "CredentialUnavailableError: Azure Developer CLI could not be found. Please visit "
        "https://aka.ms/azure-dev for installation instructions and then,once installed, authenticate to "
        "your Azure account using 'azd auth login'.",
    ),
    "powershell-not-installed": (
        f"{OFFLINE} §4 (AzurePowerShellCredential, exit 127)",
        "CredentialUnavailableError: PowerShell is not installed",
    ),
    "powershell-az-module-missing": (
        f"{OFFLINE} §4 (stdout NO_AZ_ACCOUNT_MODULE)",
        "CredentialUnavailableError: Az.Account module >= 2.2.0 is not installed",
    ),
    "powershell-not-logged-in": (
        f"{OFFLINE} §4 (stderr contains Run Connect-AzAccount to login)",
        'CredentialUnavailableError: Please run "Connect-AzAccount" to set up account',
    ),
    "powershell-failed-to-invoke": (
        "OscarSantosMu/azure-ml-workspace-creation#1",
        "AzurePowerShellCredential: Failed to invoke PowerShell",
    ),
    "broker-unavailable": (
        f"{OFFLINE} §6",
        "BrokerCredential: InteractiveBrowserBrokerCredential unavailable. The 'azure-identity-broker' "
        "package is required to use brokered authentication.",
    ),
    "token-credentials-env-invalid": (
        f"{OFFLINE} §6 (AZURE_TOKEN_CREDENTIALS=bogus)",
        "ValueError: Invalid value for AZURE_TOKEN_CREDENTIALS: bogus. Valid values are: dev, prod, "
        "azureclicredential, azuredeveloperclicredential, azurepowershellcredential, environmentcredential, "
        "interactivebrowsercredential, managedidentitycredential, visualstudiocodecredential, "
        "workloadidentitycredential.",
    ),
    "invalid-tenant-id-format": (
        f"{OFFLINE} §2",
        "ValueError: Invalid tenant ID provided. You can locate your tenant ID by following the "
        "instructions here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
    ),
    "authority-not-https": (
        f"{OFFLINE} §2 (AZURE_AUTHORITY_HOST=http://…)",
        "ValueError: 'http://127.0.0.1:8443' is an invalid authority. The value must be a TLS protected "
        "(https) URL.",
    ),
    "authority-configuration-unavailable": (
        f"{OFFLINE} §2 (OIDC discovery 404)",
        "Authentication failed: Unable to get authority configuration for https://127.0.0.1:8443/contoso. "
        "Authority would typically be in a format of https://login.microsoftonline.com/your_tenant or "
        "https://tenant_name.ciamlogin.com or https://tenant_name.b2clogin.com/tenant.onmicrosoft.com/policy."
        "  Also please double check your tenant name or GUID is correct.",
    ),
    "aoai-401-token-audience": (
        "Azure-Samples/azure-search-openai-demo#458",
        'APIError Invalid response object from API: \'{ "statusCode": 401, "message": "Unauthorized. '
        "Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or "
        "have expired.\" }'",
    ),
    "aoai-401-token-audience-scope-context": (
        "microsoft/genaiscript#960",
        "LLM error (401): Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired.\n"
        "AZURE_OPENAI_TOKEN_SCOPES=https://southcentralus.api.cognitive.microsoft.com/.default",
    ),
    "aoai-custom-subdomain": (
        "Azure/azure-sdk-for-net#12789 (quoted in shared/reference/aoai-service.md §1)",
        "(BadRequest) Please provide a custom subdomain for token authentication, otherwise API key is "
        "required. (Please see https://aka.ms/cogsvc-authenticatewithtoken)",
    ),
    "aoai-token-on-regional-endpoint-old": (
        "Azure/azure-sdk-for-net#12813",
        '{"error":{"code":"BadRequest","message": "Please provide an authentication key."}}',
    ),
    "token-wrong-audience-text": (
        "MicrosoftDocs/azure-docs#19707",
        "InvalidAudience: Invalid authorization token audience.",
    ),
    "token-not-yet-valid": (
        "AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet LogMessages (IDX10222)",
        "IDX10222: Lifetime validation failed. The token is not yet valid. ValidFrom (UTC): "
        "'11/25/2024 10:05:00', Current time (UTC): '11/25/2024 09:41:12'.",
    ),
    "connection-reset-or-timeout": (
        f"{OFFLINE} §1 (App Service endpoint black-holed)",
        "ServiceRequestTimeoutError: (<HTTPConnection(host='127.0.0.1', port=40123) at 0x7f3a2c1d0>, "
        "'Connection to 127.0.0.1 timed out. (connect timeout=300)')",
    ),
    "apim-token-limit-403": (
        "Azure API Management quota policy's answer, as quoted in Azure/api-management-policy-snippets issues",
        'HTTP 403 Forbidden {"statusCode": 403, "message": "Out of call volume quota. Quota will be replenished '
        'in 00:00:48."}',
    ),
    "http-redirect": (
        "aoai-doctor run's own AOAI501 message for a proxy that redirects to its login page",
        "AOAI501 test-call: 307: the endpoint redirects chat/completions on chat to "
        "https://proxy.contoso.example/login",
    ),
    "answer-not-json": (
        "aoai-doctor run's own AOAI501 message for a web filter's block page",
        "AOAI501 test-call: 403 with an HTML page (Web Page Blocked) on chat/completions on chat: not Azure "
        "OpenAI's answer",
    ),
    "http-empty-body": (
        "aoai-doctor run's own AOAI501 message for a gateway that answered 502 without a body",
        "AOAI501 test-call: 502 with an empty body on chat/completions on chat",
    ),
    "endpoint-resource-not-found": (
        "aoai-doctor run's own AOAI501 message for https://contoso.openai.azure.com//openai/deployments/chat",
        "AOAI501 test-call: 404 Resource not found: a doubled slash in the path",
    ),
    "cli-claims-challenge": (
        f"{IDENTITY} _credentials/azure_cli.py (CLAIMS_UNSUPPORTED_ERROR, tenant and scope appended)",
        "azure.identity._exceptions.CredentialUnavailableError: This credential doesn't support claims challenges. "
        "To authenticate with the required claims, please run the following command (requires Azure CLI version "
        f"2.76.0 or later): az login --claims-challenge {CLAIMS} --tenant 3f2c5e1a-8d4b-4c6e-9a7f-1b2d3e4f5a6b "
        "--scope https://cognitiveservices.azure.com/.default",
    ),
    "azd-claims-unsupported": (
        f"{IDENTITY} _credentials/azd_cli.py (UNKNOWN_CLAIMS_FLAG)",
        "AzureDeveloperCliCredential: Claims challenges are not supported by the Azure Developer CLI version you "
        "are using. Please update to version 1.18.1 or later.",
    ),
    "dev-tool-cannot-start": (
        f"{IDENTITY} _credentials/azd_cli.py (no SystemRoot on Windows)",
        "azure.identity._exceptions.CredentialUnavailableError: Azure Developer CLI credential expects a "
        "'SystemRoot' environment variable",
    ),
    "powershell-execution-policy": (
        f"{IDENTITY} _credentials/azure_powershell.py (BLOCKED_BY_EXECUTION_POLICY)",
        "AzurePowerShellCredential: Execution policy prevented invoking Azure PowerShell",
    ),
    "token-request-without-scope": (
        f"{IDENTITY} _internal/msal_managed_identity_client.py",
        'ValueError: "get_token" requires at least one scope',
    ),
    "azure-arc-unavailable": (
        f"{IDENTITY} _credentials/azure_arc.py (key file not readable by the process)",
        "azure.core.exceptions.ClientAuthenticationError: Could not read file /var/opt/azcmagent/tokens/abc.key "
        "contents: [Errno 13] Permission denied: '/var/opt/azcmagent/tokens/abc.key'",
    ),
    "azure-arc-user-assigned-rejected": (
        f"{IDENTITY} _credentials/azure_arc.py (_validate_user_assigned_identity)",
        "ManagedIdentityCredential: Azure Arc did not confirm the requested user-assigned managed identity in the "
        "token response. The agent likely does not support user-assigned managed identities and returned the "
        "system-assigned identity.",
    ),
    "managed-identity-no-token": (
        f"{IDENTITY} _internal/managed_identity_client.py",
        "azure.core.exceptions.ClientAuthenticationError: No token received.",
    ),
    "managed-identity-arguments-conflict": (
        f"{IDENTITY} _credentials/managed_identity.py",
        "ValueError: When 'client_id' is provided as a keyword argument, 'identity_config' must not contain any of "
        "the following keys: object_id, resource_id, client_id",
    ),
    "workload-identity-no-client-id": (
        f"{IDENTITY} _credentials/managed_identity.py",
        "ValueError: Workload identity was selected but no client ID was provided. Configure the environment with "
        'a client ID or pass a value for "client_id" argument',
    ),
    "aks-token-proxy-incomplete": (
        f"{IDENTITY} _credentials/workload_identity.py (CUSTOM_PROXY_ENV_ERROR)",
        "ValueError: AZURE_KUBERNETES_TOKEN_PROXY is not set but other custom endpoint-related environment "
        "variables are present.",
    ),
    "aks-token-proxy-invalid": (
        f"{IDENTITY} _credentials/workload_identity.py (CA_DATA_FILE_ERROR)",
        "ValueError: Both AZURE_KUBERNETES_CA_FILE and AZURE_KUBERNETES_CA_DATA are set. Only one should be set.",
    ),
    "azure-pipelines-oidc-unavailable": (
        f"{IDENTITY} _credentials/azure_pipelines.py",
        "azure.identity._exceptions.CredentialUnavailableError: Missing value for the SYSTEM_OIDCREQUESTURI "
        "environment variable. AzurePipelinesCredential is intended for use in Azure Pipelines where the "
        "SYSTEM_OIDCREQUESTURI environment variable is set. Please refer to the troubleshooting guide at "
        "https://aka.ms/azsdk/python/identity/azurepipelinescredential/troubleshoot.",
    ),
    "credential-argument-empty": (
        f"{IDENTITY} _credentials/client_secret.py",
        "ValueError: secret should be a Microsoft Entra application's client secret",
    ),
    "credential-arguments-conflict": (
        f"{IDENTITY} _credentials/certificate.py",
        'ValueError: Please specify either "certificate_path" or "certificate_data", not both',
    ),
    "certificate-missing-key": (
        f"{IDENTITY} _credentials/certificate.py",
        "ValueError: The certificate must include its private key",
    ),
    "dac-tenant-id-argument": (
        f"{IDENTITY} _credentials/default.py; Azure/azure-sdk-for-python#23322",
        "TypeError: 'tenant_id' is not supported in DefaultAzureCredential.",
    ),
    "authority-not-well-known": (
        f"{IDENTITY} _internal/msal_credentials.py (a mistyped AZURE_AUTHORITY_HOST)",
        "ValueError: The authority provided, https://login.microsoftonline.co, is not well-known. If this "
        "authority is valid and trustworthy, you can disable this check by passing in "
        "'disable_instance_discovery=True' when constructing the credential.",
    ),
    "invalid-subscription-name": (
        f"{IDENTITY} _internal/utils.py (validate_subscription)",
        "ValueError: Subscription 'My Visual Studio Subscription' contains invalid characters. If this is the name "
        "of a subscription, use its ID instead. You can locate your subscription by following the instructions "
        "listed here: https://learn.microsoft.com/azure/azure-portal/get-subscription-tenant-id",
    ),
    "shared-cache-account-not-found": (
        f"{IDENTITY} _internal/shared_token_cache.py (NO_MATCHING_ACCOUNTS)",
        "SharedTokenCacheCredential: SharedTokenCacheCredential authentication unavailable. No account\n"
        "matching the specified username: user@contoso.com tenant: 3f2c5e1a-8d4b-4c6e-9a7f-1b2d3e4f5a6b was "
        "found in the cache.",
    ),
    "silent-token-acquisition-failed": (
        f"{IDENTITY} _credentials/silent.py",
        "azure.core.exceptions.ClientAuthenticationError: Token acquisition failed",
    ),
    "vscode-auth-record-invalid": (
        f"{IDENTITY} _credentials/vscode.py",
        "VisualStudioCodeCredential: Failed to load authentication record from Visual Studio Code: Expecting "
        "value: line 1 column 1 (char 0). Please ensure you have the Azure Resources extension installed and "
        "signed in.",
    ),
    "entra-answer-unreadable": (
        f"{IDENTITY} _internal/aad_client_base.py",
        "azure.core.exceptions.ClientAuthenticationError: No response content from Microsoft Entra ID",
    ),
    "apim-validate-jwt-401": (
        "MicrosoftDocs/azure-docs api-management-access-restriction-policies.md (validate-jwt sample's "
        "failed-validation-error-message in API Management's error body)",
        'HTTP 401 {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}',
    ),
    "openai-missing-credentials-v3": (
        "openai 3.57.0 lib/_client_auth.py",
        "openai.OpenAIError: Missing credentials. Please pass an `api_key`, `workload_identity`, `admin_api_key`, "
        "or set the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment variable.",
    ),
    "openai-client-arguments-conflict": (
        "openai 3.57.0 lib/azure.py (MutuallyExclusiveAuthError)",
        "openai.lib.azure.MutuallyExclusiveAuthError: The `api_key`, `azure_ad_token` and `azure_ad_token_provider` "
        "arguments are mutually exclusive; Only one can be passed at a time",
    ),
}
