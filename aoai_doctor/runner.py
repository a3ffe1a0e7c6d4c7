"""Running checks: each in its own thread with a deadline, results in pipeline order.

A check that raises becomes an ``error`` result and the run goes on; a check whose requirement
failed, crashed or was skipped is marked ``skip`` with the reason. Checks whose requirements are
met start at once, so independent checks run concurrently.

A check may settle early: a class that defines ``settled(ctx) -> tuple[object, ...] | None`` is asked,
each time one of the checks it uses finishes, whether the facts its dependants need are already
certain (the chain's winner, once every source before it is settled). When it returns facts, its
dependants start with them while it keeps waiting for the rest; its own result (and the report's
order) is unchanged.
"""

from __future__ import annotations

import contextvars
import functools
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aoai_doctor import phase
from aoai_doctor.check import ID_PATTERN, Check, CheckContext, Outcome
from aoai_doctor.config import Target
from aoai_doctor.model import CheckResult, Finding, Severity, Status, status_from
from aoai_doctor.record import record
from aoai_doctor.registry import LoadError

ProgressCallback = Callable[[str, str], None]
"""Called with (check id, event) where event is ``start`` or a final status value."""


@record
class _Done:
    """A check that finished on a worker: its outcome, or the exception it raised, and how long it took."""

    check_id: str
    outcome: Outcome | None
    error: BaseException | None
    elapsed: float


def run_checks(
    checks: Sequence[type[Check]],
    target: Target,
    environ: Mapping[str, str],
    options: Mapping[str, Mapping[str, object]],
    *,
    load_errors: Sequence[LoadError] = (),
    on_progress: ProgressCallback | None = None,
    on_facts: Callable[[tuple[object, ...]], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    until: float | None = None,
    given: Mapping[str, Outcome] | None = None,
) -> tuple[CheckResult, ...]:
    """Run ``checks`` (already selected and in pipeline order) and return one result each.

    ``given`` holds outcomes already known (a fleet's credential stage, done for an earlier target with the
    same identity): those checks finish at once, with no thread, as if they had run in no time.

    ``on_facts`` sees each check's facts as soon as it finishes, before anything else does (the run
    adds the tokens they hold to its known secrets). ``until`` (a time on ``clock``) is the run's deadline:
    then every check still running is reported as timed out with the phase it was in, the ones not
    started as skipped, and the run returns whatever still hangs."""
    notify = on_progress or (lambda _id, _event: None)
    publish = on_facts or (lambda _facts: None)
    by_id = {c.id: c for c in checks}
    results: dict[str, CheckResult] = {}
    facts: dict[str, tuple[object, ...]] = {}
    started: dict[str, float] = {}
    early: set[str] = set()  # settled before finishing: their dependants may start
    done_queue: queue.Queue[_Done] = queue.Queue()

    # What each check waits for (what it requires, and what it uses among the checks that run), and the checks
    # waiting for each: when one finishes, only those are looked at again.
    waits = {c.id: (*c.requires, *(u for u in c.uses if u in by_id)) for c in checks}
    waiting: dict[str, list[str]] = {c.id: [] for c in checks}
    for check in checks:
        for dep in waits[check.id]:
            if dep in waiting:
                waiting[dep].append(check.id)
    dirty = set(by_id)  # the pending checks whose requirements changed since they were last looked at

    @functools.cache
    def ancestors(check_id: str) -> list[str]:
        seen: list[str] = []
        stack = [*by_id[check_id].requires, *by_id[check_id].uses]
        while stack:
            dep = stack.pop()
            if dep in by_id and dep not in seen:
                seen.append(dep)
                stack.extend((*by_id[dep].requires, *by_id[dep].uses))
        return seen

    @functools.cache
    def limit_of(check_id: str) -> float:
        value = options.get(check_id, {}).get("timeout", by_id[check_id].timeout)
        return float(value) if isinstance(value, (int, float)) else by_id[check_id].timeout

    def inherited_by(check_id: str) -> tuple[object, ...]:
        return tuple(f for dep in ancestors(check_id) for f in facts.get(dep, ()))

    settlers = [(c, c.settled) for c in checks if callable(getattr(c, "settled", None))]  # type: ignore[attr-defined]

    def settle(finished: str | None = None) -> None:
        """Ask each unfinished check that can settle early (and uses ``finished``, when given) whether what its
        dependants need is certain."""
        for check, settled in settlers:
            if finished is not None and finished not in ancestors(check.id):
                continue
            if check.id in results or check.id in early:
                continue
            ctx = CheckContext(target=target, environ=environ, options=options.get(check.id, {}),
                               facts=inherited_by(check.id))
            try:
                ready = settled(ctx)
            except Exception:  # the check itself will say what is wrong when it runs
                continue
            if isinstance(ready, tuple):
                early.add(check.id)
                facts[check.id] = ready
                dirty.update(waiting[check.id])

    def start(check: type[Check]) -> None:
        opts = options.get(check.id, {})
        inherited = inherited_by(check.id)
        started[check.id] = clock()
        ends = started[check.id] + limit_of(check.id)
        ctx = CheckContext(target=target, environ=environ, options=opts, facts=inherited,
                           deadline=ends if until is None else min(ends, until))
        notify(check.id, "start")
        if given and check.id in given:
            done_queue.put(_Done(check.id, given[check.id], None, 0.0))
            return

        def work() -> None:
            phase.enter("running")  # never a phase left from an earlier run in this process
            t0 = clock()
            try:
                outcome = check().run(ctx)
                if not isinstance(outcome, Outcome):
                    raise TypeError(f"run() returned {type(outcome).__name__}, not Outcome")
                done_queue.put(_Done(check.id, outcome, None, clock() - t0))
            except BaseException as exc:  # a crash is a result, never the end of the run
                done_queue.put(_Done(check.id, None, exc, clock() - t0))

        _WORKERS.submit(f"check-{check.id}", work)

    def finish(result: CheckResult) -> None:
        results[result.check_id] = result
        dirty.update(waiting.get(result.check_id, ()))
        notify(result.check_id, result.status.value)

    def base(
        check: type[Check],
        status: Status,
        ms: float,
        findings: tuple[Finding, ...] = (),
        skip: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> CheckResult:
        required = bool(options.get(check.id, {}).get("required", check.required))
        return CheckResult(
            check.id, check.name, check.summary, status, round(ms, 1), findings, required, skip, dict(data or {})
        )

    pending = list(checks)
    settle()
    while len(results) < len(checks):
        progressed = False
        if until is not None and clock() >= until:  # nothing new starts once the run's time is up
            running = [cid for cid in started if cid not in results]
            _give_up(running, pending, by_id, base, finish, {c: clock() - started[c] for c in running},
                     nothing_ran=not started)
            break
        for check in list(pending):
            if check.id not in dirty:  # nothing it waits for changed: it would stay as it is
                continue
            dirty.discard(check.id)
            absent = [d for d in check.requires if d not in by_id]
            if absent:
                pending.remove(check)
                finish(
                    base(check, Status.SKIP, 0.0, skip=f"requires {', '.join(absent)}, which did not run (--ignore)")
                )
                progressed = True
                continue
            deps = list(check.requires)
            blocked = [
                d for d in deps if d in results and results[d].status in (Status.FAIL, Status.ERROR, Status.SKIP)
            ]
            if blocked:
                pending.remove(check)
                reason = "; ".join(
                    f"{d} {results[d].status.value}ed" if results[d].status is not Status.SKIP else f"{d} was skipped"
                    for d in blocked
                )
                finish(base(check, Status.SKIP, 0.0, skip=f"requires {', '.join(blocked)} ({reason})"))
                progressed = True
            elif all(d in results or d in early for d in waits[check.id]):
                pending.remove(check)
                start(check)
                progressed = True
        if progressed:
            continue
        running = [cid for cid in started if cid not in results]
        if not running:  # what is left waits on itself: a requirement cycle
            for check in pending:
                finish(base(check, Status.SKIP, 0.0, skip="its requirements form a cycle"))
            break
        now = clock()
        deadline = min(started[cid] + limit_of(cid) for cid in running)
        try:
            done = done_queue.get(timeout=max(0.0, min(deadline, until if until is not None else deadline) - now))
        except queue.Empty:
            for cid in running:
                limit = limit_of(cid)
                if clock() - started[cid] >= limit:
                    finish(_timed_out(by_id[cid], base, limit, f"did not finish within {limit:g} s: it was <phase>",
                                      f"raise [checks.{cid}] timeout in checks.toml if it is known to be slow"))
            continue
        if done.check_id in results:  # it finished after its deadline was called
            continue
        check = by_id[done.check_id]
        ms = done.elapsed * 1000
        if done.error is not None:
            tb = "".join(traceback.format_exception_only(type(done.error), done.error)).strip()
            finish(
                base(
                    check,
                    Status.ERROR,
                    ms,
                    (
                        Finding(
                            Severity.ERROR,
                            f"the check crashed: {tb}",
                            cause="other",
                            fix="this is a bug in the check; please report it with the output of -v",
                            detail="".join(traceback.format_tb(done.error.__traceback__)).rstrip(),
                        ),
                    ),
                )
            )
        elif done.outcome is not None and done.outcome.skip_reason:
            publish(done.outcome.facts)
            facts[check.id] = done.outcome.facts
            finish(base(check, Status.SKIP, ms, skip=done.outcome.skip_reason, data=done.outcome.data))
        elif done.outcome is not None:
            publish(done.outcome.facts)
            facts[check.id] = done.outcome.facts
            finish(base(check, status_from(done.outcome.findings), ms, done.outcome.findings, data=done.outcome.data))
        if pending and settlers:  # a finished check may make another's facts certain
            settle(done.check_id)

    ordered = [results[c.id] for c in checks if c.id in results]
    taken = {r.check_id for r in ordered}
    for error in load_errors:
        result_id = _load_error_id(error.name, taken)
        taken.add(result_id)
        ordered.append(
            CheckResult(
                result_id,
                "plugin-load",
                f"load {error.name}",
                Status.ERROR,
                0.0,
                (
                    Finding(
                        Severity.ERROR,
                        f"plugin {error.name} could not be loaded: {error.problem}",
                        cause="config_invalid",
                        fix="fix or uninstall the plugin, or remove it from [plugins] checks in checks.toml",
                    ),
                ),
            )
        )
    return tuple(ordered)


class _Workers:
    """The threads checks run on, kept for the next check (a thread costs more to start than most checks take
    to run). A check starts on an idle thread, else on a new one: it never waits for another check, and one
    that hangs keeps its thread to itself. A thread idle for :attr:`IDLE_S` ends.

    Each check runs in a context of its own, as on a new thread: nothing a check (or azure-identity, which
    marks a DefaultAzureCredential's sources in a context variable) sets in ``contextvars`` reaches the next
    check on the same thread. State a plugin keeps in ``threading.local`` does."""

    IDLE_S = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = 0
        self._jobs: queue.SimpleQueue[tuple[str, Callable[[], None]]] = queue.SimpleQueue()

    def submit(self, name: str, job: Callable[[], None]) -> None:
        """Run ``job`` now, on a thread named ``name`` (what :mod:`aoai_doctor.phase` keys on)."""
        with self._lock:
            if self._idle:
                self._idle -= 1  # an idle thread is taken: the job is its own once queued
                self._jobs.put((name, job))
                return
        threading.Thread(target=self._serve, args=(name, job), name=name, daemon=True).start()

    def _serve(self, name: str, job: Callable[[], None]) -> None:
        while True:
            threading.current_thread().name = name
            contextvars.Context().run(job)
            del job  # what the check held (its facts, a token) is not kept while the thread waits
            with self._lock:
                self._idle += 1
            try:
                name, job = self._jobs.get(timeout=self.IDLE_S)
            except queue.Empty:
                with self._lock:  # a job queued as the wait ended is still this thread's to run
                    try:
                        name, job = self._jobs.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return

    def forget(self) -> None:
        """In a forked child: the parent's threads are not there, idle or not."""
        self._lock = threading.Lock()
        self._idle = 0
        self._jobs = queue.SimpleQueue()


_WORKERS = _Workers()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WORKERS.forget)


def _load_error_id(name: str, taken: set[str]) -> str:
    """A result id for a plugin that did not load, unique in the report: its entry-point name when that
    is a free check id, else the next free ``PLUGIN<nnn>``."""
    head = name.split("=", 1)[0].strip()
    if ID_PATTERN.match(head) and head not in taken:
        return head
    return next(f"PLUGIN{n:03d}" for n in range(1000) if f"PLUGIN{n:03d}" not in taken)


def _give_up(running: list[str], pending: list[type[Check]], by_id: Mapping[str, type[Check]],
             base: Callable[..., CheckResult], finish: Callable[[CheckResult], None],
             spent: Mapping[str, float], nothing_ran: bool) -> None:
    """The run's deadline passed: what is still running timed out (in the phase it was in: a failure with a
    cause, since what hangs is a peer, not the check), the rest never started; when nothing had started at
    all, the first of them fails, so that a run which checked nothing never passes."""
    for cid in running:
        finish(_timed_out(by_id[cid], base, spent[cid],
                          f"the run's deadline passed while it was <phase> ({spent[cid]:.1f} s in)",
                          "--deadline SECONDS gives the whole run more time"))
    for n, check in enumerate(pending):
        if n == 0 and nothing_ran:  # nothing had started (a fleet's target still queued): it has not passed
            finish(base(check, Status.FAIL, 0.0, (Finding(
                Severity.ERROR, "not checked: the run's deadline passed before its checks started", cause="other",
                fix="--deadline SECONDS gives the whole run more time (or --parallel N more targets at once)"),)))
        else:
            finish(base(check, Status.SKIP, 0.0, skip="not started: the run's deadline passed"))


def _timed_out(check: type[Check], base: Callable[..., CheckResult], seconds: float, message: str,
               more_time: str) -> CheckResult:
    """A check that hangs, cut short by its own timeout or the run's deadline: a failure with the cause of
    its stage and the phase it was in, which takes the place of ``<phase>`` in ``message`` (marked ``hung``:
    its thread may still be running)."""
    doing = phase.of(f"check-{check.id}") or "running"
    cause, fix = _DEADLINE_CAUSES.get(check.id[4:5], ("other", "find what hangs from the phase named"))
    return base(check, Status.FAIL, seconds * 1000,
                (Finding(Severity.ERROR, message.replace("<phase>", doing, 1), cause=cause,
                         fix=f"{fix}; {more_time}"),),
                data={"hung": True})


# By stage (the id's first digit): the cause and the advice for a check the deadline cut short.
_DEADLINE_CAUSES: Mapping[str, tuple[str, str]] = {
    "2": ("other", "a credential source hangs in that phase: see its own check, or leave it out with "
          "AZURE_TOKEN_CREDENTIALS"),
    "4": ("connection_failed", "the network path to the endpoint hangs (firewall, proxy, DNS)"),
    "5": ("service_unavailable", "the service did not answer in time; quote the x-ms-client-request-id to support "
          "if it persists"),
    "6": ("service_unavailable", "the service did not answer in time"),
}
