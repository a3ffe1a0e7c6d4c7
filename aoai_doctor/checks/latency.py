"""AOAI6xx: where the time goes, and how close the deployment is to its limits."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import ClassVar

from aoai_doctor.azure import answers as dp
from aoai_doctor.azure.calls import Call
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.facts import CallOutcome
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import http
from aoai_doctor.services.session import Session


def _fmt(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.0f} ms"


def _server_ms(headers: Mapping[str, str]) -> float | None:
    """The service's own processing time, from the first of its timing headers that it sent."""
    for name in ("openai-processing-ms", "x-envoy-upstream-service-time"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value)
        except ValueError:
            continue
    return None


class Latency(Check):
    """Breaks the test call's time into its phases, beside the time to get the token.

    ## What it detects
    DNS, TCP connect, TLS handshake, time to first byte and total, measured by the doctor itself; the
    token acquisition time; the service's own processing time when it reports one
    (`openai-processing-ms`, `x-envoy-upstream-service-time`) and so the network overhead. With
    `--repeat N [--concurrency C]` it makes N more calls and reports p50, p95, max and errors; with
    `--stream` it measures the time to the first streamed token. The repeated and streamed calls share
    one pool of kept connections, as a production client does: each of the C workers opens one
    connection for its first call and reuses it (`-v` says how many were opened); a connection the
    server closes is replaced. The test call's DNS, connect and TLS are measured on its own new connection.

    ## Why it matters
    "Azure OpenAI is slow" is often DNS, a proxy, a cold TLS handshake or token acquisition. The
    phases say which.

    ## How to fix
    Reuse clients (one `AzureOpenAI` per process keeps connections and tokens), cache tokens, pin
    `AZURE_TOKEN_CREDENTIALS` so DefaultAzureCredential stops probing, and call from the region of the
    resource.

    ## Options
    `repeat` (default 0; `--repeat`), `concurrency` (default 1; `--concurrency`), `stream` (default
    false; `--stream`). Extra calls are billable, one token each.
    """

    id = "AOAI601"
    name = "latency"
    summary = "DNS, connect, TLS, first byte and total for the call, and token acquisition time"
    uses = ("AOAI501",)
    options: ClassVar[Mapping[str, object]] = {"repeat": 0, "concurrency": 1, "stream": False}
    binds: ClassVar[Mapping[str, str]] = {"repeat": "repeat", "concurrency": "concurrency", "stream": "stream"}

    @classmethod
    def settle_options(cls, options: dict[str, object]) -> None:
        """The deadline grows with the rounds of calls: 35 s a round on top of the first minute."""
        repeat, concurrency, timeout = options.get("repeat"), options.get("concurrency"), options.get("timeout")
        rounds = -(-repeat // max(1, concurrency)) if isinstance(repeat, int) and isinstance(concurrency, int) else 0
        floor = float(timeout) if isinstance(timeout, (int, float)) else 60.0
        options["timeout"] = max(floor, 60.0 + 35.0 * rounds)

    def run(self, ctx: CheckContext) -> Outcome:
        calls = [c for c in ctx.all_facts(CallOutcome) if c.status is not None]
        if not calls:
            return Outcome.skip("no answer to measure (see AOAI501)")
        found: list[Finding] = []
        for call in calls:
            t = call.timings
            server = _server_ms(call.headers)
            overhead = (
                f"; network and gateway: {t.total_ms - server:.0f} ms" if server is not None and t.total_ms else ""
            )
            found.append(
                ok(
                    f"{call.deployment}: total {_fmt(t.total_ms)} (DNS {_fmt(t.dns_ms)}, connect {_fmt(t.connect_ms)}, "
                    f"TLS {_fmt(t.tls_ms)}, first byte {_fmt(t.ttfb_ms)}); token {_fmt(call.token_ms)}",
                    detail=(
                        f"service processing: {server:.0f} ms{overhead}"
                        if server is not None
                        else "the service reported no processing time"
                    )
                    + f"; {dp.request_ids(call.headers)}",
                )
            )
        repeat = int(ctx.options.get("repeat", 0))
        stream = bool(ctx.options.get("stream", False))
        first = calls[0]
        if not ((repeat or stream) and first.request is not None):
            return Outcome(tuple(found))
        if first.status is None or first.status >= 300:  # no billable repeats of a call that did not work
            note = f"--repeat/--stream not run: the test call answered {first.status} (see AOAI501)"
            return Outcome((*found, ok(note)), data={"billable_calls": 0, "figures": [note]})
        more, made = self._more(first, repeat, max(1, int(ctx.options.get("concurrency", 1))), stream, ctx)
        figures = [f.message for f in more if f.severity is Severity.INFO]
        data = {"billable_calls": made, "figures": figures}  # the figures asked for are shown at default verbosity
        return Outcome((*found, *more), data=data)

    @staticmethod
    def _more(first: CallOutcome, repeat: int, concurrency: int, stream: bool,
              ctx: CheckContext) -> tuple[list[Finding], int]:
        """The repeated and streamed calls: their findings, and how many billable calls were made."""
        assert first.request is not None
        call, credential = first.request
        policy = http.Policy(allow_hosts=ctx.target.allow_hosts, resolve=http.parse_resolve(list(ctx.target.resolve)))
        # One pooled session for the repeated and streamed calls, as a production client keeps one: each
        # worker opens a connection for its first call (connect and TLS as the test call measured them)
        # and reuses it after.
        with Session(maxsize=concurrency) as session:
            return Latency._calls(call, credential, policy, session, repeat, concurrency, stream, ctx)

    @staticmethod
    def _calls(call: Call, credential: tuple[http.Credential, ...] | None, policy: http.Policy,
               session: Session, repeat: int, concurrency: int, stream: bool,
               ctx: CheckContext) -> tuple[list[Finding], int]:
        found: list[Finding] = []
        made = [0]
        if repeat:
            deadline = time.monotonic() + float(ctx.options.get("timeout", 60.0)) - 5
            totals: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            pending = list(range(repeat))

            def worker() -> None:
                while True:
                    with lock:
                        if not pending:
                            return
                        pending.pop()
                    if time.monotonic() > deadline:  # the check's own time is up: make no more calls
                        return
                    answer = session.post_json(call.url, call.body, credential, policy, ctx.environ)
                    with lock:
                        made[0] += answer.attempts
                        if isinstance(answer, http.Response) and answer.status < 300 and answer.timings.total_ms:
                            totals.append(answer.timings.total_ms)
                        else:
                            errors.append(str(answer.status) if isinstance(answer, http.Response) else answer.kind)

            threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, repeat))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            opened = f"{session.opened} connection{'s' if session.opened != 1 else ''} for {made[0]} calls, kept open"
            if totals:
                import statistics  # with --repeat only

                ordered = sorted(totals)
                p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
                found.append(
                    ok(
                        f"{repeat} more calls at concurrency {concurrency}: p50 {statistics.median(ordered):.0f} "
                        f"ms, p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms, {len(errors)} errors",
                        detail=opened + (f"; errors: {', '.join(errors)}" if errors else ""),
                    )
                )
            if errors:
                share = len(errors) / repeat
                found.append(
                    finding(
                        Severity.WARNING if share < 0.5 else Severity.ERROR,
                        f"{len(errors)} of {repeat} repeated calls failed ({', '.join(sorted(set(errors)))})",
                        cause="rate_limited" if "429" in errors else "service_unavailable",
                        fix="see AOAI602 for the limits; lower --concurrency or raise the deployment's capacity",
                    )
                )
        if stream and call.kind not in ("chat", "responses"):
            found.append(ok(f"--stream: not measured on the {call.kind} route (chat completions and Responses "
                            "stream)"))
        elif stream:
            streamed = dict(call.body, stream=True)
            answer = session.post_json(call.url, streamed, credential, policy, ctx.environ, stream=True)
            made[0] += answer.attempts
            if isinstance(answer, http.Response) and answer.timings.first_event_ms is not None:
                found.append(
                    ok(
                        f"streamed: first token after {answer.timings.first_event_ms:.0f} ms, total "
                        f"{_fmt(answer.timings.total_ms)}"
                    )
                )
            else:
                found.append(
                    finding(
                        Severity.WARNING,
                        "the streamed call produced no data event",
                        cause="other",
                        fix="check that the deployment supports streaming and no proxy buffers it",
                    )
                )
        return found, made[0]


class RateLimits(Check):
    """Reads the deployment's limits from the test call's answer headers.

    ## What it detects
    `x-ratelimit-limit-*`, `x-ratelimit-remaining-*` (requests and tokens per minute),
    `retry-after(-ms)`, PTU `azure-openai-deployment-utilization`, spillover headers; warns when less
    than 10 % of a limit is left or a PTU deployment runs above 90 %.

    ## Why it matters
    429s under load come from the deployment's TPM/RPM, not from the code; the headers show how close
    a quiet test already is.

    ## How to fix
    Raise the deployment's capacity (`az cognitiveservices account deployment create ... --sku-capacity`),
    spread load over deployments or regions, and let the SDK honour `retry-after-ms`.

    ## Options
    `low_share` (default 0.1): warn when less than this share of a limit is left.
    """

    id = "AOAI602"
    name = "rate-limits"
    summary = "how much of the deployment's request and token limits is left"
    uses = ("AOAI501",)
    options: ClassVar[Mapping[str, object]] = {"low_share": 0.1}

    def run(self, ctx: CheckContext) -> Outcome:
        calls = [c for c in ctx.all_facts(CallOutcome) if c.status is not None]
        if not calls:
            return Outcome.skip("no answer to read (see AOAI501)")
        found: list[Finding] = []
        low = float(ctx.options.get("low_share", 0.1))
        for call in calls:
            h = call.headers
            parts = dp.rate_limits(h)
            utilization = h.get("azure-openai-deployment-utilization")
            if utilization:
                parts.append(f"PTU utilization {utilization}")
            if not parts:
                found.append(ok(f"{call.deployment}: the answer carries no rate-limit headers"))
                continue
            found.append(ok(f"{call.deployment}: " + ", ".join(parts)))
            for unit in ("requests", "tokens"):
                limit, left = _num(h.get(f"x-ratelimit-limit-{unit}")), _num(h.get(f"x-ratelimit-remaining-{unit}"))
                if limit and left is not None and limit > 0 and left / limit < low:
                    found.append(
                        finding(
                            Severity.WARNING,
                            f"{call.deployment}: only {left:.0f} of {limit:.0f} {unit} per minute left",
                            cause="rate_limited",
                            fix="raise the deployment's capacity or spread the load",
                        )
                    )
            share = _num((utilization or "").rstrip("%"))
            if share is not None and share > 90:
                found.append(
                    finding(
                        Severity.WARNING,
                        f"{call.deployment}: PTU utilization {utilization}",
                        cause="rate_limited",
                        fix="add PTU capacity or a spillover deployment",
                    )
                )
        return Outcome(tuple(found))


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
