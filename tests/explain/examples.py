"""Real failure texts for signatures that the benchmark corpus does not already exercise.

Each entry: signature id -> (source of the real text, text). Texts are quoted from the cited public
issue, from azure-identity's or openai's own message strings (azure-identity 1.27.0, openai 3.57.0
sources), from the Microsoft docs, or from
shared/reference/azure-identity-offline.md, where they were produced by running the real library.
"""

from __future__ import annotations

OFFLINE = "shared/reference/azure-identity-offline.md"

INLINE_EXAMPLES: dict[str, tuple[str, str]] = {
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
