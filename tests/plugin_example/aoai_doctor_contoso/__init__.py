"""An example aoai-doctor plugin: a team's own check, under its own id prefix (CTSO)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from aoai_doctor.azure.endpoints import HostFamily
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.facts import endpoint_info
from aoai_doctor.model import Severity


class GatewayOnly(Check):
    """Contoso sends all Azure OpenAI traffic through its API Management gateway.

    ## What it detects
    An endpoint that calls an Azure OpenAI resource directly instead of through `*.azure-api.net`.

    ## Why it matters
    The gateway applies Contoso's quotas, logging and content policy.

    ## How to fix
    Use `https://<team>.azure-api.net/<api>` as the endpoint.

    ## Options
    `gateway_suffix`: the host suffix of the gateway (default `.azure-api.net`).
    """

    id = "CTSO101"
    name = "contoso-gateway-only"
    summary = "Azure OpenAI is reached through Contoso's API Management gateway"
    requires = ("AOAI102",)
    options: ClassVar[Mapping[str, object]] = {"gateway_suffix": ".azure-api.net"}

    def run(self, ctx: CheckContext) -> Outcome:
        info = endpoint_info(ctx.target)
        if info is None:
            return Outcome.skip("no endpoint")
        suffix = str(ctx.options["gateway_suffix"])
        if info.family is HostFamily.APIM and info.host.endswith(suffix):
            return Outcome((ok(f"{info.host} is a Contoso gateway"),))
        return Outcome((finding(Severity.ERROR, f"{info.host} bypasses the Contoso gateway", cause="endpoint_wrong",
                                fix=f"use https://<team>{suffix}/<api> as the endpoint"),))
