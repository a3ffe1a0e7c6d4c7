"""AOAI1xx: the configuration and endpoint checks. All offline."""

from __future__ import annotations

import re

from aoai_doctor.azure import api_versions as av
from aoai_doctor.azure import endpoints as ep
from aoai_doctor.azure.models import MODEL_NAMES, RETIRED_MODELS
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.config import Target
from aoai_doctor.facts import endpoint_info
from aoai_doctor.model import Finding, Severity

ENDPOINT_FIX = "export AZURE_OPENAI_ENDPOINT=https://<resource-name>.openai.azure.com"
FIND_ENDPOINT = ("az cognitiveservices account show --name <resource-name> --resource-group <group> "
                 "--query properties.endpoint --output tsv")
LIST_DEPLOYMENTS = ("az cognitiveservices account deployment list --name <resource-name> "
                    "--resource-group <group> --query \"[].{name:name, model:properties.model.name}\" "
                    "--output table")


class ConfigPresent(Check):
    """Checks that the doctor (and so your app) has what it needs to make a call.

    ## What it detects
    - No endpoint, or no deployment, in any source: flags, the environment and `.env` files (the
      names of the openai SDK, azd templates, Semantic Kernel, LangChain, Foundry: docs/settings.md),
      a samples-style `config.json`, or `checks.toml` `[target]`; with the variable whose name is
      close to one of those, or the settings file found but not read, that likely explains it.
    - Half-set configuration: an API key in the environment while the auth mode is `entra`; auth mode
      `api-key` with no key; two api-version variables that disagree; a key stored in `config.json`.

    ## Why it matters
    The openai SDK and azure-identity fail late and vaguely when a value is missing
    (`Must provide one of the base_url or azure_endpoint arguments`, a 404 on a `None` deployment).
    A stray `AZURE_OPENAI_API_KEY` is picked up by the openai SDK whenever no token provider is
    passed, so an app can quietly run on a key while you debug Entra ID.

    ## How to fix
    Set the missing values, for example:

        export AZURE_OPENAI_ENDPOINT=https://<resource-name>.openai.azure.com
        export AZURE_OPENAI_DEPLOYMENT=<deployment-name>
        export OPENAI_API_VERSION=2024-10-21

    Find the endpoint with `az cognitiveservices account show --name <resource-name>
    --resource-group <group> --query properties.endpoint --output tsv`, and the deployments with
    `az cognitiveservices account deployment list --name <resource-name> --resource-group <group>`.
    With Entra ID, `unset AZURE_OPENAI_API_KEY`; to test the key instead, run with `--auth api-key`.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI101"
    name = "config-present"
    summary = "endpoint and deployment are configured, and nothing is half-set"

    def run(self, ctx: CheckContext) -> Outcome:
        target = ctx.target
        found: list[Finding] = []
        read = ", ".join(target.sources_read) or "none"
        noticed = [n.value for n in target.notices]  # a close name, a file not read: likely why a value is missing
        why = f"; {'; '.join(noticed)}" if noticed else ""
        if target.endpoint is None:
            found.append(finding(
                Severity.ERROR, f"no endpoint configured{why}", cause="client_config_missing",
                fix=f"{ENDPOINT_FIX}  (or --endpoint); find it with: {FIND_ENDPOINT}",
                detail=f"sources read: {read}"))
        if not target.deployments:
            found.append(finding(
                Severity.ERROR, f"no deployment configured{why}", cause="client_config_missing",
                fix=f"export AZURE_OPENAI_DEPLOYMENT=<deployment-name>  (or --deployment); list them with: "
                    f"{LIST_DEPLOYMENTS}",
                detail=f"sources read: {read}"))
        if target.auth.value == "entra" and target.api_key_source:
            found.append(finding(
                Severity.WARNING, f"an API key is set ({target.api_key_source}) while auth mode is entra",
                cause="auth_mode_mismatch",
                fix="unset AZURE_OPENAI_API_KEY when using Entra ID, or run with --auth api-key to test the key",
                detail="the openai SDK reads AZURE_OPENAI_API_KEY whenever no token provider is passed, "
                       "so the app may be using the key without you knowing"))
        if target.auth.value == "api-key" and not target.api_key_source:
            found.append(finding(
                Severity.ERROR, "auth mode is api-key but no key is set", cause="client_config_missing",
                fix="export AZURE_OPENAI_API_KEY=<key>  (az cognitiveservices account keys list "
                    "--name <resource-name> --resource-group <group>), or use --auth entra"))
        if target.api_key_source and not target.api_key_source.startswith("env "):
            found.append(finding(
                Severity.WARNING, f"an API key is stored in a file ({target.api_key_source})", cause="other",
                fix="move the key to an environment variable or a secret store, and rotate it if the file "
                    "was ever committed: az cognitiveservices account keys regenerate --name <resource-name> "
                    "--resource-group <group> --key-name key1"))
        for conflict in target.conflicts:
            found.append(finding(Severity.WARNING, conflict, cause="config_invalid",
                                 fix="set only one of them, or give them the same value"))
        if not found:
            deployments = ", ".join(d.name for d in target.deployments)
            found.insert(0, ok(f"endpoint and deployment configured ({deployments})",
                               detail=f"sources read: {read}"))
        if target.endpoint is not None and target.deployments:
            found += [ok(note) for note in (*target.notes, *noticed)]
        return Outcome(tuple(found))


class EndpointFormat(Check):
    """Reads the endpoint URL: scheme, host family, cloud, and path shape.

    ## What it detects
    - A user name or password in the URL (`https://user:secret@…`): the doctor sends nothing there.
    - A scheme other than `https`, a missing scheme, quotes or white space around the value, or a
      template placeholder such as `<your-resource-name>`.
    - The host family and the cloud it implies: `*.openai.azure.com`, `*.cognitiveservices.azure.com`,
      `*.services.ai.azure.com`, sovereign `.azure.us` / `.azure.cn`, regional
      `<region>.api.cognitive.microsoft.com`, API Management `*.azure-api.net`, `api.openai.com`
      (not Azure), or anything else.
    - A regional endpoint used with Entra ID (`custom_subdomain_required`).
    - Path mistakes: doubled slashes, a trailing `/openai` or `/openai/openai`, an unexpected path; a
      whole request URL pasted as the endpoint (its endpoint, deployment and api-version are
      recovered and used for the rest of the run).
    - `/openai/v1/deployments/<deployment>/...`: what `AzureOpenAI` sends when it is given a v1 base
      URL. It adds the older `/deployments/{model}` route to `/openai/v1/` and gets 404
      (openai/openai-python#2584).
    - The `/openai/v1` base URL, named with how it is called: `OpenAI(base_url=...)`, the request's
      `model` being the deployment.
    - A Microsoft Foundry project, `https://<resource>.services.ai.azure.com/api/projects/<project>`
      (`_project` for the default project; with or without `/openai/v1` after it). Its OpenAI surface
      is `<project endpoint>/openai/v1` and its token scope `https://ai.azure.com/.default`, as
      azure-ai-projects 2.x's `get_openai_client()` builds them.
    - The Azure AI Model Inference route, `https://<resource>.services.ai.azure.com/models` (or the
      portal's Target URI `.../models/chat/completions?api-version=2024-05-01-preview`): the body's
      `model` picks the deployment.

    ## Why it matters
    The service answers a wrong path with a bare `404 Resource not found`, and a token on a
    regional endpoint with `Please provide a custom subdomain for token authentication, otherwise API
    key is required`. Neither says what to change.

    ## How to fix
    Use the resource endpoint, exactly as `az cognitiveservices account show --name <resource-name>
    --resource-group <group> --query properties.endpoint --output tsv` prints it, for example
    `https://<resource-name>.openai.azure.com`. SDKs add `/openai/...` themselves.
    A resource on a regional endpoint needs a custom subdomain before Entra ID works:
    `az cognitiveservices account update --name <resource-name> --resource-group <group>
    --custom-domain <resource-name>` (this cannot be undone; keys keep working).
    For the v1 API, use `OpenAI`, not `AzureOpenAI`:
    `OpenAI(base_url="https://<resource-name>.openai.azure.com/openai/v1/", api_key=token_provider)`,
    where `token_provider = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")`
    (a callable `api_key` needs openai 1.106 or later). For a Foundry project, use
    `AIProjectClient(endpoint=..., credential=...).get_openai_client()`.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI102"
    name = "endpoint-format"
    summary = "the endpoint is an https Azure OpenAI resource URL of the right shape"

    def run(self, ctx: CheckContext) -> Outcome:
        target = ctx.target
        if target.endpoint is None:
            return Outcome.skip("no endpoint configured (see AOAI101)")
        source = target.endpoint.source
        try:
            info = ep.parse(target.endpoint.value)
        except ep.EndpointParseError as exc:
            return Outcome((finding(Severity.ERROR, f"the endpoint ({source}) is not a URL: {exc}",
                                    cause="endpoint_wrong", fix=f"{ENDPOINT_FIX}; find it with: {FIND_ENDPOINT}"),))
        found = self._value_problems(info, source) + self._host_findings(info, target) + \
            self._path_findings(info, target)
        if not any(f.severity >= Severity.WARNING for f in found):
            found.insert(0, ok(f"{info.base_url}: {ep.describe(info)}",
                               detail=f"token scope for this endpoint: {info.default_scope or 'unknown'}"))
        return Outcome(tuple(found), facts=(info,))

    @staticmethod
    def _value_problems(info: ep.EndpointInfo, source: str) -> list[Finding]:
        found: list[Finding] = []
        fixed = f"https://{info.host}" + (f":{info.port}" if info.port else "")
        if info.quoted_or_padded:
            found.append(finding(Severity.ERROR, f"the endpoint ({source}) has surrounding quotes or white space",
                                 cause="endpoint_wrong", fix=f"remove them: AZURE_OPENAI_ENDPOINT={info.base_url}",
                                 detail=f"value as given: {info.raw!r}"))
        if info.placeholder:
            found.append(finding(Severity.ERROR, f"the endpoint ({source}) still holds a placeholder",
                                 cause="endpoint_wrong", fix=f"put the real resource endpoint in; {FIND_ENDPOINT}"))
        if info.userinfo:
            found.append(finding(
                Severity.ERROR, f"the endpoint ({source}) carries a user name or password before the host",
                cause="endpoint_wrong", fix=f"use {info.base_url} with no user info; a key goes in the api-key header",
                detail="a credential in a URL ends up in logs, shell history and every proxy; the doctor sends "
                       "no token or key to this endpoint"))
        if not info.scheme:
            found.append(finding(Severity.ERROR, "the endpoint has no scheme", cause="endpoint_wrong",
                                 fix=f"write it with https://: {fixed}"))
        elif info.scheme != "https" and info.family is not ep.HostFamily.LOOPBACK:
            found.append(finding(Severity.ERROR, f"the endpoint uses {info.scheme}://; Azure OpenAI answers "
                                 "only https", cause="endpoint_wrong", fix=f"use {fixed}"))
        return found

    @staticmethod
    def _host_findings(info: ep.EndpointInfo, target: Target) -> list[Finding]:
        family, auth = info.family, target.auth.value
        if family is ep.HostFamily.REGIONAL:
            if auth == "entra":
                return [finding(
                    Severity.ERROR,
                    f"{info.host} is a regional endpoint, which does not accept Entra ID tokens",
                    cause="custom_subdomain_required",
                    fix="use the resource's custom-subdomain endpoint (https://<resource-name>.openai.azure.com): "
                        f"{FIND_ENDPOINT}. If it has none, add one (irreversible; keys keep working): "
                        "az cognitiveservices account update --name <resource-name> --resource-group <group> "
                        "--custom-domain <resource-name>",
                    detail="the service answers a token here with 'Please provide a custom subdomain for token "
                           "authentication, otherwise API key is required.'")]
            return [ok(f"{info.host} is a regional endpoint; it accepts API keys only")]
        if family is ep.HostFamily.OPENAI_PLATFORM:
            return [finding(Severity.ERROR, "api.openai.com is OpenAI's own API, not an Azure OpenAI resource",
                            cause="endpoint_wrong", fix=f"{ENDPOINT_FIX}; {FIND_ENDPOINT}")]
        if family is ep.HostFamily.OTHER:
            return [finding(
                Severity.WARNING, f"{info.host} is not an Azure OpenAI host name",
                cause="endpoint_wrong",
                fix=f"use the resource endpoint ({FIND_ENDPOINT}); for a custom domain or proxy in front "
                    "of Azure OpenAI, pass --allow-host so the doctor may send credentials to it",
                detail="known families: *.openai.azure.com, *.cognitiveservices.azure.com, "
                       "*.services.ai.azure.com, sovereign .azure.us/.azure.cn, *.azure-api.net (APIM)")]
        if family in (ep.HostFamily.OPENAI, ep.HostFamily.COGNITIVE_SERVICES, ep.HostFamily.FOUNDRY):
            name = info.resource_name or ""
            if not info.placeholder and not ep.valid_subdomain(name):
                return [finding(Severity.ERROR, f"'{name}' is not a valid resource name (custom subdomain)",
                                cause="endpoint_wrong",
                                fix=f"a resource name has 2-64 letters, digits and hyphens; {FIND_ENDPOINT}")]
        if family is ep.HostFamily.APIM:
            return [ok(f"{info.host} is an API Management gateway",
                       detail="APIM may answer in its own {statusCode, message} shape, and 403 can mean an "
                              "exhausted token quota rather than a network rule")]
        if family is ep.HostFamily.LOOPBACK:
            return [ok(f"{info.host} is a loopback address (a local proxy or the aoai-doctor stand-in)")]
        return []

    @staticmethod
    def _path_findings(info: ep.EndpointInfo, target: Target) -> list[Finding]:
        found: list[Finding] = []
        shape = info.shape
        if info.doubled_slash:
            found.append(finding(Severity.ERROR, f"the endpoint path has a doubled slash ({info.path})",
                                 cause="endpoint_wrong", fix=f"use {info.base_url}",
                                 detail="the service answers //openai/... with 404 Resource not found"))
        if shape is ep.PathShape.OPENAI_SUFFIX:
            found.append(finding(Severity.ERROR, "the endpoint ends in /openai, which SDKs add again "
                                 "(/openai/openai → 404 Resource not found)", cause="endpoint_wrong",
                                 fix=f"use {info.base_url}"))
        elif shape is ep.PathShape.DOUBLED_OPENAI:
            found.append(finding(Severity.ERROR, "the endpoint path has /openai twice", cause="endpoint_wrong",
                                 fix=f"use {info.base_url}"))
        elif shape is ep.PathShape.REQUEST_URL:
            parts = [f"endpoint {info.base_url}"]
            if info.deployment:
                parts.append(f"deployment {info.deployment}")
            if info.api_version:
                parts.append(f"api-version {info.api_version}")
            found.append(finding(
                Severity.WARNING, "a full request URL was given as the endpoint; recovered " + ", ".join(parts),
                cause="endpoint_wrong",
                fix=f"give clients the resource endpoint: AZURE_OPENAI_ENDPOINT={info.base_url}"
                    + (f" AZURE_OPENAI_DEPLOYMENT={info.deployment}" if info.deployment else "")
                    + (f" OPENAI_API_VERSION={info.api_version}" if info.api_version else ""),
                detail="the rest of this run uses the recovered values"))
            names = {d.name for d in target.deployments}
            if info.deployment and names and info.deployment not in names:
                found.append(finding(
                    Severity.WARNING,
                    f"the URL names deployment {info.deployment}, but {target.deployments[0].source} says "
                    f"{target.deployments[0].name}", cause="config_invalid",
                    fix="make them agree; the doctor uses " + target.deployments[0].name))
            if info.operation and not ep.known_operation(info.operation):
                found.append(finding(Severity.WARNING, f"'{info.operation}' is not an Azure OpenAI operation",
                                     cause="endpoint_wrong",
                                     fix="operations are chat/completions, completions, embeddings, …"))
        elif shape is ep.PathShape.V1_DEPLOYMENTS:
            found.append(ep.v1_deployments_finding(info))
        elif shape is ep.PathShape.FOUNDRY_PROJECT:
            found.append(ep.project_finding(info))
            if info.operation and not ep.known_operation(info.operation):
                found.append(finding(Severity.WARNING, f"'{info.operation}' is not an OpenAI v1 operation",
                                     cause="endpoint_wrong", fix=f"use {info.base_url}"))
        elif shape is ep.PathShape.MODELS_INFERENCE:
            found.extend(ep.models_inference_findings(info))
        elif shape is ep.PathShape.V1:
            found.append(ok(f"{info.base_url}/openai/v1 is the v1 API base URL",
                            detail="use it as OpenAI(base_url=...); api-version is optional and the request's "
                                   "'model' is the deployment name"))
        elif shape is ep.PathShape.PREFIX and info.family not in (ep.HostFamily.APIM, ep.HostFamily.OTHER,
                                                                   ep.HostFamily.LOOPBACK):
            if ep.looks_like_project_path(info.path) and info.resource_name:
                found.append(finding(
                    Severity.WARNING, f"{info.path} is a Foundry project path, but project endpoints are on "
                    "<resource>.services.ai.azure.com", cause="endpoint_wrong",
                    fix=f"use https://{info.resource_name}.services.ai.azure.com{info.path.rstrip('/')} "
                        "(the project endpoint on the Foundry project's home page)"))
            elif project := re.match(r"^/api/projects/[^/]+", info.path):
                found.append(finding(Severity.WARNING, f"unexpected path {info.path} after a Foundry project",
                                     cause="endpoint_wrong",
                                     fix=f"use the project endpoint https://{info.host}{project.group(0)}; its "
                                         "OpenAI surface (/openai/v1) is added for you"))
            else:
                found.append(finding(Severity.WARNING, f"unexpected path {info.path} on a resource endpoint",
                                     cause="endpoint_wrong",
                                     fix=f"use https://{info.host}; SDKs add /openai/... themselves"))
        if info.has_query and shape not in (ep.PathShape.REQUEST_URL, ep.PathShape.V1_DEPLOYMENTS,
                                            ep.PathShape.MODELS_INFERENCE):
            found.append(finding(Severity.WARNING, "the endpoint carries a query string", cause="endpoint_wrong",
                                 fix=f"use {info.base_url}; pass api-version separately"))
        if info.trailing_slash and not info.doubled_slash and shape in (ep.PathShape.ROOT, ep.PathShape.PREFIX):
            found.append(ok("trailing slash: harmless for SDKs; when building URLs by hand, strip it to avoid "
                            "//openai (404)"))
        return found


class ApiVersion(Check):
    """Checks the `api-version` against the route and a table of known versions.

    ## What it detects
    - A missing api-version on the `/openai/deployments/...` routes, which need one.
    - A malformed value (`YYYY-MM-DD` or `YYYY-MM-DD-preview` is the format), with the known version
      it was probably meant to be.
    - A retired version (the previews retired on 2024-07-01, among them `2023-03-15-preview` and
      `2023-12-01-preview`), and versions the table does not know.
    - A version without the chat completions route (`2022-12-01`) used for a chat deployment.
    - On the v1 API (a `/openai/v1` base URL, or a Foundry project, whose OpenAI surface is
      `<project endpoint>/openai/v1`): no api-version is needed, and the spec's values are `v1` and
      `preview`. A dated version there (`OPENAI_API_VERSION=2024-10-21`) is the mark of `AzureOpenAI`
      pointed at a v1 base URL, which adds `/deployments/{model}` and gets 404
      (openai/openai-python#2584). `latest` is no v1 value: nothing Microsoft publishes documents it.
    - On the Azure AI Model Inference route (`https://<resource>.services.ai.azure.com/models`), the
      version is the Model Inference API's own, `2024-05-01-preview` (what azure-ai-inference sends).

    The table (GA: 2022-12-01, 2023-05-15, 2024-02-01, 2024-06-01, 2024-10-21; previews up to
    2025-04-01-preview, the last dated preview) comes from the Azure REST API specs and the API version
    lifecycle page, as of 2025-04. A well-formed version newer than the table is reported, not failed.

    ## Why it matters
    The service answers a missing, retired, unknown or too-old api-version with the same bare
    `404 Resource not found` it gives for a wrong path, so the cause is hard to see.

    ## How to fix
    Use the latest GA version unless you need a preview feature:

        export OPENAI_API_VERSION=2024-10-21

    On the v1 API (`https://<resource-name>.openai.azure.com/openai/v1/`), drop the api-version and
    use `OpenAI`, not `AzureOpenAI`:
    `OpenAI(base_url="https://<resource-name>.openai.azure.com/openai/v1/", api_key=token_provider)`
    (openai 1.106 or later); pass `api-version=preview` only for preview features.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI103"
    name = "api-version"
    summary = "the api-version exists, is not retired, and fits the route"

    def run(self, ctx: CheckContext) -> Outcome:
        target = ctx.target
        info = endpoint_info(target)
        setting = target.api_version
        fix = f"export OPENAI_API_VERSION={av.LATEST_GA}"
        if info is not None and info.shape is ep.PathShape.V1_DEPLOYMENTS:
            return Outcome.skip("the endpoint is AzureOpenAI's /openai/v1/deployments/... URL (see AOAI102); the v1 "
                                "API takes no api-version")
        if info is not None and info.models_inference:
            return Outcome(av.models_inference_version_findings(info, setting))
        if info is not None and info.is_v1:
            return Outcome(av.v1_version_findings(info, setting))
        if setting is None:
            if target.endpoint is None:
                return Outcome.skip("no endpoint configured (see AOAI101)")
            return Outcome((finding(Severity.ERROR, "no api-version configured; the /openai/deployments "
                                    "routes need one (404 Resource not found without it)",
                                    cause="api_version_invalid", fix=f"{fix}  (or --api-version)"),))
        value, source = setting.value, setting.source
        version = av.classify(value)
        if not version.well_formed:
            guess = av.near_miss(value)
            hint = f"did you mean {guess}? " if guess else ""
            return Outcome((finding(Severity.ERROR, f"api-version {value!r} ({source}) is not of the form "
                                    "YYYY-MM-DD or YYYY-MM-DD-preview", cause="api_version_invalid",
                                    fix=f"{hint}export OPENAI_API_VERSION={guess or av.LATEST_GA}"),))
        found: list[Finding] = []
        if version.lifecycle is av.Lifecycle.RETIRED:
            found.append(finding(Severity.ERROR, f"api-version {value} is retired; the service answers it with "
                                 "404 Resource not found", cause="api_version_invalid",
                                 fix=f"{fix}  (latest preview: {av.LATEST_PREVIEW})"))
        elif version.lifecycle is av.Lifecycle.UNKNOWN:
            if version.date > av.LATEST_PREVIEW[:10]:
                found.append(ok(f"api-version {value} is newer than the version table (as of {av.TABLE_AS_OF}); "
                                "assumed valid"))
            else:
                found.append(finding(Severity.WARNING, f"api-version {value} is not a known version; the service "
                                     "answers unknown versions with 404 Resource not found",
                                     cause="api_version_invalid", fix=fix))
        for dep in target.deployments:
            if dep.kind in (None, "chat") and not av.has_chat_route(value):
                found.append(finding(
                    Severity.ERROR, f"api-version {value} has no chat completions route, so chat calls to "
                    f"{dep.name} get 404 Resource not found", cause="api_version_invalid",
                    fix=f"{fix}  (chat completions exist from {av.FIRST_CHAT} on)"))
            elif dep.kind == "completion" and not av.has_chat_route(value):
                found.append(ok(
                    f"api-version {value} serves legacy completions only; moving {dep.name} to a chat model "
                    "needs 2023-05-15 or later",
                    detail=f"the current GA version is {av.LATEST_GA}"))
        if not found:
            label = {av.Lifecycle.GA: "GA", av.Lifecycle.PREVIEW: "preview"}.get(version.lifecycle)
            if label:
                note = None
                if version.lifecycle is av.Lifecycle.PREVIEW:
                    note = ("previews are retired on a schedule; prefer the GA version "
                            f"{av.LATEST_GA} unless you need a preview feature")
                elif value != av.LATEST_GA:
                    note = f"a newer GA version exists: {av.LATEST_GA}"
                found.insert(0, ok(f"api-version {value} ({label}, {source})", detail=note))
        return Outcome(tuple(found))


_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class DeploymentName(Check):
    """Checks each deployment name's characters and length, and whether it is really a model name.

    ## What it detects
    - Characters a deployment name cannot hold (the portal accepts letters, digits, `-`, `_` and
      `.`, up to 64 characters, starting with a letter or digit), quotes, white space or a slash.
    - A model name used as the deployment name (`gpt-35-turbo`, `gpt-4o`, `text-embedding-ada-002`,
      …): a hint, since a deployment may well have been given its model's name.
    - The name of a retired legacy model (`text-davinci-003`, `code-davinci-002`, …; retired
      2024-07-05), as in the Azure OpenAI samples' `config.json`.

    ## Why it matters
    The URL takes the deployment name, not the model name. A model name where no deployment has it
    gives `404 DeploymentNotFound`; a deployment of a retired model answers only errors.

    ## How to fix
    List the resource's deployments and use a name from the list:

        az cognitiveservices account deployment list --name <resource-name> --resource-group <group> \\
            --query "[].{name:name, model:properties.model.name}" --output table

    For a retired model, deploy a current one (for example `gpt-4o-mini` for chat, or
    `gpt-35-turbo-instruct` for legacy completions) and point the app at that deployment.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI104"
    name = "deployment-name"
    summary = "deployment names are well-formed and not model names"

    def run(self, ctx: CheckContext) -> Outcome:
        deployments = ctx.target.deployments
        if not deployments:
            return Outcome.skip("no deployment configured (see AOAI101)")
        found: list[Finding] = []
        for dep in deployments:
            found.extend(self._check_one(dep.name, dep.source))
        if not found:
            names = ", ".join(d.name for d in deployments)
            found.append(ok(f"deployment name{'s' if len(deployments) > 1 else ''} {names} well-formed"))
        return Outcome(tuple(found))

    @staticmethod
    def _check_one(name: str, source: str) -> list[Finding]:
        stripped = name.strip().strip("\"'")
        if stripped != name:
            return [finding(Severity.ERROR, f"deployment {name!r} ({source}) has quotes or white space around it",
                            cause="deployment_not_found", fix=f"use {stripped}")]
        if not _DEPLOYMENT_NAME.match(name):
            why = "is longer than 64 characters" if len(name) > 64 else "has characters a deployment name cannot hold"
            return [finding(Severity.ERROR, f"deployment {name!r} ({source}) {why}", cause="deployment_not_found",
                            fix=f"use a name from: {LIST_DEPLOYMENTS}")]
        lowered = name.lower()
        if lowered in RETIRED_MODELS:
            return [finding(
                Severity.WARNING, f"{name} is the name of a retired model (retired 2024-07-05)",
                cause="deployment_not_found",
                fix="deploy a current model (e.g. gpt-4o-mini for chat completions, or gpt-35-turbo-instruct for "
                    f"legacy completions) and use that deployment's name; {LIST_DEPLOYMENTS}",
                detail="if a deployment of this name still exists, it serves a retired model and answers only "
                       "errors; no new deployments of these models have been possible since 2023-07-06")]
        if lowered in MODEL_NAMES:
            return [ok(f"deployment name {name} well-formed (also a model's name, as many deployments are; the "
                       "test call confirms it exists)",
                       detail=f"the URL takes the deployment name; list them with: {LIST_DEPLOYMENTS}")]
        return []
