"""AOAI210: the verdict of DefaultAzureCredential's chain: which source it uses, or where it stops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from aoai_doctor.azure import chain, intent
from aoai_doctor.azure.chain import State
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.checks.credentials._common import DEFAULT_BOUND, intended, probe_cause
from aoai_doctor.config import ConfigError, did_you_mean
from aoai_doctor.facts import SourceProbe, token_scope
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import identity as creds


class CredentialChain(Check):
    """Predicts what DefaultAzureCredential does here: which source it uses, or where it stops.

    ## What it detects
    - Applies DefaultAzureCredential's rules to the per-source results (AOAI201-AOAI209):
      `AZURE_TOKEN_CREDENTIALS` (`dev`, `prod` or one credential's name), the exclusions configured
      here, "unavailable → next source", "any other failure → stop". Inside the chain,
      AzureCliCredential and AzureDeveloperCliCredential report their failures as unavailable, so the
      chain goes on past them.
    - The source it would use and the identity that yields; or the source whose failure stops the
      chain, and the working sources that failure hides ("AzureCliCredential works, but
      EnvironmentCredential fails first with AADSTS7000215 and DefaultAzureCredential never reaches it").
    - `wrong_identity_selected`: the winner is not the expected credential (`--expect-credential`),
      client id or tenant (`expected_client_id`, `expected_tenant`), or two working sources yield
      different identities.
    - An `AZURE_TOKEN_CREDENTIALS` value DefaultAzureCredential refuses (its constructor raises).
    - Where the time goes: the sources tried before the winner, and the setting that skips them.
    - When no source gets a token and none fails hard, the source that was meant, and its own cause
      ("the one meant is AzureCliCredential (az is installed but signed out)"); the detail lists the
      other sources that show intent. `client_config_missing` is left for a machine where nothing
      shows intent. The evidence, strongest first, with ties to the source the chain tries first
      (`aoai_doctor/azure/intent.py`; `aoai-doctor explain` ranks a pasted chain the same way):
    - Intent 1, pinned: it is the only source `AZURE_TOKEN_CREDENTIALS` allows.
    - Intent 2, configured: its own variables are set (`AZURE_CLIENT_SECRET`,
      `AZURE_CLIENT_CERTIFICATE_PATH`, `AZURE_USERNAME`; `AZURE_FEDERATED_TOKEN_FILE`;
      `IDENTITY_ENDPOINT`, `MSI_ENDPOINT`, `IMDS_ENDPOINT`), or it failed on what was set.
    - Intent 3, signed in: its tool has an account that Entra ID refused (tenant, MFA, expired sign-in).
    - Intent 4, installed: its tool is installed but signed out, too slow, or answered something else.
    - Intent 5, answered: its endpoint answered (an identity endpoint without that identity, or a
      proxy in its place).
    - Intent 6, cached: its token cache holds an account.
    - With a given token (`--token-file`, `AZURE_OPENAI_AD_TOKEN`), the chain is information only: it
      runs and is reported, but never decides the exit code.
    - The token and data-plane checks do not wait for every source: once the winner is certain (it
      succeeded, and every source before it is unavailable) they start with its token, while the later
      sources finish alongside and only add what the winner hides.

    ## Why it matters
    DefaultAzureCredential's own error lists only the sources up to the first hard failure, and its
    success says nothing about which identity answered. Both hide the usual causes of a later 401/403.

    ## How to fix
    Fix the source that stops the chain, or take it out: `unset AZURE_CLIENT_SECRET`, or pin the
    source you mean with `export AZURE_TOKEN_CREDENTIALS=AzureCliCredential` (any single credential's
    name), `dev` (developer tools only) or `prod` (environment, workload and managed identity only).

    ## Options
    `exclude` (list of source names): sources your code excludes (`exclude_cli_credential=True` …).
    `expect_credential` (also `--expect-credential`): the source that must win.
    `expected_client_id`, `expected_tenant`: the identity that must win (the tenant also comes from
    `--expect-tenant`). `verify_chain` (also `--verify-chain`): run the real `DefaultAzureCredential()`
    once and confirm the prediction.
    """

    id = "AOAI210"
    name = "credential-chain"
    summary = "which source DefaultAzureCredential would use, and which identity that is"
    uses = ("AOAI200", *(s.check_id for s in chain.SOURCE_TABLE))
    options: ClassVar[Mapping[str, object]] = {
        "exclude": [],
        "expect_credential": "",
        "expected_client_id": "",
        "expected_tenant": "",
        "verify_chain": False,
        "bound": DEFAULT_BOUND,
    }
    binds: ClassVar[Mapping[str, str]] = {"expect_credential": "expect_credential", "verify_chain": "verify_chain"}
    timeout = 60.0

    @classmethod
    def settle_options(cls, options: dict[str, object]) -> None:
        """``expect_credential`` must name a source of the chain (any case; stored as the class name)."""
        expected = str(options.get("expect_credential") or "")
        if not expected:
            return
        known = {s.lower(): s for s in chain.SOURCES}
        if expected.lower() not in known:
            hint = did_you_mean(expected, chain.SOURCES)
            raise ConfigError("--expect-credential", f"unknown source '{expected}'{hint}")
        options["expect_credential"] = known[expected.lower()]

    @classmethod
    def settled(cls, ctx: CheckContext) -> tuple[object, ...] | None:
        """The winner, as soon as it is certain: it succeeded and every source before it in the chain's
        order is settled as unavailable (or failed softly), while later sources may still be running
        (they can only add what the winner hides). None while it is not certain, when the chain stops
        at a hard failure, or when the winner misses an expectation (the check then decides as usual).
        The runner lets AOAI302 and what follows start with these facts."""
        if ctx.target.auth.value == "api-key":
            return None
        probes = {p.source: p for p in ctx.all_facts(SourceProbe)}
        configured = ctx.options.get("exclude", [])
        excluded = tuple(str(x) for x in configured) if isinstance(configured, list) else ()
        if any(x not in chain.SOURCES for x in excluded):
            return None
        try:
            order = chain.chain_order(ctx.environ.get("AZURE_TOKEN_CREDENTIALS"), excluded)
        except chain.ChainConfigError:
            return None
        for index, source in enumerate(order):
            probe = probes.get(source)
            if probe is None:
                return None  # not settled yet: it may still win or stop the chain
            if probe.state is State.SUCCEEDED:
                tried = order[: index + 1]
                verdict = chain.predict(tried, {s: probes[s].state for s in tried})
                missed = cls._expectations(source, probe, probes, verdict, ctx)
                if any(f.severity >= Severity.ERROR for f in missed):
                    return None
                return (verdict, probe)
            if probe.state is State.FAILED and source not in chain.SOFT_FAILING_IN_DAC:
                return None
        return None

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        probes = {p.source: p for p in ctx.all_facts(SourceProbe)}
        if not probes:
            return Outcome.skip("no credential source was probed (select AOAI2)")
        configured = ctx.options.get("exclude", [])
        excluded = tuple(str(x) for x in configured) if isinstance(configured, list) else ()
        unknown = [x for x in excluded if x not in chain.SOURCES]
        if unknown:
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        f"[checks.AOAI210] exclude names unknown sources: {', '.join(unknown)}",
                        cause="config_invalid",
                        fix="use names from: " + ", ".join(chain.SOURCES),
                    ),
                )
            )
        try:
            order = chain.chain_order(ctx.environ.get("AZURE_TOKEN_CREDENTIALS"), excluded)
        except chain.ChainConfigError as exc:
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        str(exc),
                        cause="config_invalid",
                        fix="export AZURE_TOKEN_CREDENTIALS=dev (or prod, or one credential's name), or unset it",
                        detail="DefaultAzureCredential() raises ValueError in its constructor with this value",
                    ),
                )
            )
        states = {s: p.state for s, p in probes.items()}
        verdict = chain.predict(order, states)
        found = self._verdict(verdict, probes, order, ctx)
        if ctx.options.get("verify_chain"):
            found.append(self._verify(verdict, token_scope(ctx.target), excluded, ctx))
        winner = probes.get(verdict.winner) if verdict.winner else None
        data = {
            "order": list(order),
            "winner": verdict.winner,
            "identity": winner.identity.as_dict() if winner and winner.identity else None,
            "stopped_at": verdict.stopped_at,
            "hidden": list(verdict.hidden),
            "token_credentials": ctx.environ.get("AZURE_TOKEN_CREDENTIALS") or None,
        }
        return Outcome(tuple(found), facts=(verdict, *((winner,) if winner else ())), data=data)

    def _verdict(
        self, verdict: chain.Verdict, probes: Mapping[str, SourceProbe], order: tuple[str, ...], ctx: CheckContext
    ) -> list[Finding]:
        found: list[Finding] = []
        pinned = ctx.environ.get("AZURE_TOKEN_CREDENTIALS", "").strip()
        scope_note = f" (AZURE_TOKEN_CREDENTIALS={pinned})" if pinned else ""
        hidden_text = _hidden(verdict, probes)
        if verdict.winner is not None:
            probe = probes[verdict.winner]
            assert probe.identity is not None
            before = [probes[s] for s in verdict.tried[:-1] if s in probes]
            spent = sum(p.elapsed_ms for p in before) / 1000
            times = ", ".join(f"{p.source} {p.elapsed_ms / 1000:.1f} s" for p in before) or "nothing"
            found.append(
                ok(
                    f"DefaultAzureCredential would use {verdict.winner}{scope_note}: {probe.identity.describe()}",
                    detail=f"tried first, one after another: {times} (~{spent:.1f} s before {verdict.winner}'s own "
                    f"{probe.elapsed_ms / 1000:.1f} s)",
                )
            )
            if spent >= 1.0 and not pinned:
                slowest = max(before, key=lambda p: p.elapsed_ms)
                mode = (
                    " (or dev)" if verdict.winner in chain.DEV else " (or prod)" if verdict.winner in chain.PROD else ""
                )
                found.append(
                    finding(
                        Severity.INFO,
                        f"{spent:.1f} s go to sources tried before {verdict.winner}, most to {slowest.source} "
                        f"({slowest.elapsed_ms / 1000:.1f} s)",
                        fix=f"export AZURE_TOKEN_CREDENTIALS={verdict.winner}{mode} skips them, or exclude them in "
                        "code (exclude_managed_identity_credential=True, …)",
                    )
                )
            found += self._expectations(verdict.winner, probe, probes, verdict, ctx)
            return found
        if verdict.stopped_at is not None:
            probe = probes[verdict.stopped_at]
            cause, fix = probe_cause(probe, ctx.environ)
            reason = next(iter((probe.message or probe.error_type or "").splitlines()), "no message")
            msg = f"DefaultAzureCredential stops at {verdict.stopped_at}{scope_note}: {reason}"
            fixes = [fix or f"fix {verdict.stopped_at} (see its check above)"]
            if hidden_text:
                fixes.append(f"or skip it: export AZURE_TOKEN_CREDENTIALS={verdict.hidden[0]}")
            found.append(
                finding(
                    Severity.ERROR,
                    msg,
                    cause=cause or "other",
                    fix="; ".join(fixes),
                    detail=hidden_text or "no source after it would have produced a token either",
                )
            )
            if hidden_text:
                found.append(
                    finding(
                        Severity.WARNING,
                        hidden_text,
                        cause="wrong_identity_selected",
                        fix=f"export AZURE_TOKEN_CREDENTIALS={verdict.hidden[0]} if that is the identity you mean",
                    )
                )
            return found
        tried = ", ".join(order) or "none (every source is excluded)"
        pinned_to = order if pinned else None
        # a source that failed without a known cause still tried: "other" is evidence it is set up
        ranked = intent.rank(((s, (probe_cause(probes[s])[0] if intended(probes[s], ctx.environ) else None)
                               or ("other" if probes[s].state is State.FAILED else None))
                              for s in order if s in probes), ctx.environ, pinned_to)
        if ranked:
            meant = ranked[0]
            probe = probes[meant.source]
            cause, fix = probe_cause(probe, ctx.environ)
            reason = next(iter((probe.message or probe.error_type or "").splitlines()), "no message")
            rest = [f"{i.source} ({i.why})" for i in ranked[1:]]
            found.append(
                finding(
                    Severity.ERROR,
                    f"no credential source gets a token here{scope_note}; the one meant is {meant.source} "
                    f"({meant.why}), and it says: {reason}",
                    cause=cause or "other",
                    fix=fix or f"fix {meant.source} (see its check above)",
                    detail=f"intent: {meant.evidence.label}; "
                    + (f"also showing intent: {'; '.join(rest)}; " if rest else "")
                    + f"sources tried: {tried}",
                )
            )
            return found
        found.append(
            finding(
                Severity.ERROR,
                "no credential source can get a token here, and nothing shows which one was meant" + scope_note,
                cause="client_config_missing",
                fix="sign in with 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                "AZURE_CLIENT_SECRET, or run where a managed identity is assigned",
                detail=f"sources tried: {tried}",
            )
        )
        return found

    @staticmethod
    def _expectations(
        winner: str,
        probe: SourceProbe,
        probes: Mapping[str, SourceProbe],
        verdict: chain.Verdict,
        ctx: CheckContext,
    ) -> list[Finding]:
        found: list[Finding] = []
        identity = probe.identity
        assert identity is not None
        expect = str(ctx.options.get("expect_credential") or "")
        if expect and expect.lower() != winner.lower():
            found.append(
                finding(
                    Severity.ERROR,
                    f"{winner} wins, but {expect} was expected",
                    cause="wrong_identity_selected",
                    fix=f"export AZURE_TOKEN_CREDENTIALS={expect}, or fix why {expect} does not get a "
                    "token (see its check)",
                )
            )
        client = str(ctx.options.get("expected_client_id") or "")
        if client and client not in (identity.app_id, identity.object_id):
            found.append(
                finding(
                    Severity.ERROR,
                    f"the winning identity is app {identity.app_id}, not {client}",
                    cause="wrong_identity_selected",
                    fix=f"pin the intended source with AZURE_TOKEN_CREDENTIALS, or set AZURE_CLIENT_ID={client}",
                )
            )
        tenant = str(
            ctx.options.get("expected_tenant")
            or (ctx.target.expected_tenant.value if ctx.target.expected_tenant else "")
        )
        if tenant and identity.tenant_id and tenant.lower() != identity.tenant_id.lower():
            found.append(
                finding(
                    Severity.ERROR,
                    f"the winning identity is in tenant {identity.tenant_id}, not {tenant}",
                    cause="wrong_identity_selected",
                    fix=f"az login --tenant {tenant}  (or AZURE_TENANT_ID={tenant} for a service principal)",
                )
            )
        for other in verdict.hidden:
            other_id = probes[other].identity
            if other_id is not None and not identity.same_principal(other_id):
                found.append(
                    finding(
                        Severity.WARNING,
                        f"{other} also works but yields another identity: {other_id.describe()}",
                        cause="wrong_identity_selected",
                        fix=f"if {other} is the one you mean, export AZURE_TOKEN_CREDENTIALS={other}",
                    )
                )
        return found

    @staticmethod
    def _verify(verdict: chain.Verdict, scope: str, excluded: tuple[str, ...], ctx: CheckContext) -> Finding:
        used, error = creds.verify_default_chain(
            scope, creds.Bounds(ctx.seconds_left(float(ctx.options.get("bound", DEFAULT_BOUND)))), excluded
        )
        if used == verdict.winner:
            return ok(
                f"the real DefaultAzureCredential() agrees: {used or 'no token'}",
                detail=error.splitlines()[0] if error else None,
            )
        return finding(
            Severity.WARNING,
            f"the real DefaultAzureCredential() used {used or 'nothing'}, "
            f"the prediction was {verdict.winner or 'nothing'}",
            cause="other",
            fix="please report this with the output of -v",
            detail=error,
        )


def _hidden(verdict: chain.Verdict, probes: Mapping[str, SourceProbe]) -> str:
    if not verdict.hidden or verdict.stopped_at is None:
        return ""
    working = ", ".join(verdict.hidden)
    verb = "works" if len(verdict.hidden) == 1 else "work"
    return f"{working} {verb}, but {verdict.stopped_at} fails first and DefaultAzureCredential never reaches it"
