"""The runner: concurrency, deadlines, crashes as results, skips that say why, pipeline order."""

from __future__ import annotations

import contextvars
import os
import queue
import threading
import time
from typing import ClassVar

import pytest

from aoai_doctor import runner
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.config import Target
from aoai_doctor.model import Setting, Severity, Status
from aoai_doctor.registry import LoadError
from aoai_doctor.runner import run_checks

TARGET = Target(endpoint=None, deployments=(), api_version=None, auth=Setting("entra", "default"),
                scope=None, expected_tenant=None)


def _check(check_id: str, body, requires: tuple[str, ...] = (), timeout: float = 5.0) -> type[Check]:  # type: ignore[no-untyped-def]
    class _C(Check):
        id = check_id
        name = f"test-{check_id.lower()}"
        summary = "test"
        options: ClassVar[dict[str, object]] = {}

        def run(self, ctx: CheckContext) -> Outcome:
            return body(ctx)  # type: ignore[no-any-return]

    _C.requires = requires
    _C.timeout = timeout
    return _C


def _run(*checks: type[Check], **kw):  # type: ignore[no-untyped-def]
    return {r.check_id: r for r in run_checks(checks, TARGET, {}, {}, **kw)}


def test_independent_checks_run_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=3)

    def meet(_ctx: CheckContext) -> Outcome:
        barrier.wait()  # raises BrokenBarrierError if the other check is not running concurrently
        return Outcome((ok("met"),))

    results = _run(_check("TEST101", meet), _check("TEST102", meet))
    assert {r.status for r in results.values()} == {Status.PASS}


def test_a_crash_is_an_error_result_and_the_run_goes_on() -> None:
    def boom(_ctx: CheckContext) -> Outcome:
        raise RuntimeError("kaput")

    results = _run(_check("TEST101", boom), _check("TEST102", lambda _c: Outcome((ok("fine"),))))
    assert results["TEST101"].status is Status.ERROR
    assert "RuntimeError: kaput" in results["TEST101"].findings[0].message
    assert results["TEST102"].status is Status.PASS


def test_a_hung_check_times_out() -> None:
    release = threading.Event()

    def hang(_ctx: CheckContext) -> Outcome:
        release.wait(10)
        return Outcome()

    try:
        results = _run(_check("TEST101", hang, timeout=0.2), _check("TEST102", lambda _c: Outcome((ok("x"),))))
    finally:
        release.set()
    assert results["TEST101"].status is Status.FAIL  # what hangs is a peer: a finding, not a crash
    assert "did not finish within 0.2 s: it was running" in results["TEST101"].findings[0].message
    assert results["TEST102"].status is Status.PASS


def test_dependants_of_a_failure_are_skipped_with_the_reason_and_facts_flow() -> None:
    fail = _check("TEST101", lambda _c: Outcome((finding(Severity.ERROR, "bad", cause="other"),)))
    child = _check("TEST102", lambda _c: Outcome((ok("never"),)), requires=("TEST101",))
    grandchild = _check("TEST103", lambda _c: Outcome((ok("never"),)), requires=("TEST102",))
    results = _run(fail, child, grandchild)
    assert results["TEST101"].status is Status.FAIL
    assert results["TEST102"].status is Status.SKIP
    assert results["TEST102"].skip_reason == "requires TEST101 (TEST101 failed)"
    assert results["TEST103"].skip_reason == "requires TEST102 (TEST102 was skipped)"

    producer = _check("TEST201", lambda _c: Outcome((ok("made"),), facts=(42,)))
    consumer = _check("TEST202", lambda c: Outcome((ok(f"got {c.fact(int)}"),)), requires=("TEST201",))
    results = _run(producer, consumer)
    assert results["TEST202"].findings[0].message == "got 42"


def test_uses_waits_for_a_failed_check_and_reads_its_facts() -> None:
    fail = _check("TEST101", lambda _c: Outcome((finding(Severity.ERROR, "bad", cause="other"),), facts=("why",)))
    skipped = _check("TEST102", lambda _c: Outcome.skip("unavailable", facts=(7,)))
    reader = _check("TEST103", lambda c: Outcome((ok(f"{c.fact(str)} {c.fact(int)}"),)))
    reader.uses = ("TEST101", "TEST102")
    results = _run(fail, skipped, reader)
    assert results["TEST103"].status is Status.PASS and results["TEST103"].findings[0].message == "why 7"


def test_a_requirement_that_did_not_run_skips_the_dependant() -> None:
    results = _run(_check("TEST102", lambda _c: Outcome((ok("never"),)), requires=("TEST101",)))
    assert results["TEST102"].status is Status.SKIP
    assert results["TEST102"].skip_reason == "requires TEST101, which did not run (--ignore)"


def test_a_warning_does_not_block_dependants() -> None:
    warn = _check("TEST101", lambda _c: Outcome((finding(Severity.WARNING, "meh", cause="other"),)))
    child = _check("TEST102", lambda _c: Outcome((ok("ran"),)), requires=("TEST101",))
    results = _run(warn, child)
    assert (results["TEST101"].status, results["TEST102"].status) == (Status.WARN, Status.PASS)


def test_results_come_back_in_the_given_order_whatever_finishes_first() -> None:
    slow_done = threading.Event()

    def slow(_ctx: CheckContext) -> Outcome:
        slow_done.wait(0.3)
        return Outcome((ok("slow"),))

    ids = [r.check_id for r in run_checks((_check("TEST101", slow), _check("TEST102", lambda _c: Outcome())),
                                          TARGET, {}, {})]
    assert ids == ["TEST101", "TEST102"]


def test_wrong_return_type_and_skip_outcomes() -> None:
    results = _run(_check("TEST101", lambda _c: "nope"), _check("TEST102", lambda _c: Outcome.skip("not here")))
    assert results["TEST101"].status is Status.ERROR and "returned str" in results["TEST101"].findings[0].message
    assert results["TEST102"].status is Status.SKIP and results["TEST102"].skip_reason == "not here"


def test_load_errors_become_error_results_and_progress_is_reported() -> None:
    events: list[tuple[str, str]] = []
    results = run_checks((_check("TEST101", lambda _c: Outcome()),), TARGET, {}, {},
                         load_errors=(LoadError("BROKEN1 = pkg:Nope", "ImportError: nope"),),
                         on_progress=lambda i, e: events.append((i, e)))
    assert results[-1].status is Status.ERROR and "BROKEN1" in results[-1].findings[0].message
    assert events == [("TEST101", "start"), ("TEST101", "pass")]


def test_optional_checks_are_marked() -> None:
    results = run_checks((_check("TEST101", lambda _c: Outcome()),), TARGET, {}, {"TEST101": {"required": False}})
    assert results[0].required is False


def test_checks_reuse_idle_threads_and_never_wait_for_a_busy_one() -> None:
    workers = runner._Workers()
    release, ran = threading.Event(), queue.Queue[str]()

    def hang() -> None:
        ran.put(threading.current_thread().name)
        release.wait(10)

    workers.submit("check-HANG001", hang)
    assert ran.get(timeout=5) == "check-HANG001"
    threads = set()
    for n in range(5):  # one after another: the same idle thread each time, named for the check it runs
        workers.submit(f"check-NEXT00{n}", lambda: ran.put(threading.current_thread().name))
        assert ran.get(timeout=5) == f"check-NEXT00{n}"  # it ran although the first check still hangs
        time.sleep(0.01)
        threads.update(t.ident for t in threading.enumerate() if t.name.startswith("check-NEXT"))
    assert len(threads) == 1
    release.set()


def test_a_skip_names_every_requirement_already_settled_in_the_same_pass() -> None:
    """A fails; B and C are skipped in turn; D, which requires C and A, names both (as the scheduler has always
    said: it looks at each pending check once a pass, after what that pass settled before it)."""
    failing = _check("TEST101", lambda _c: Outcome((finding(Severity.ERROR, "bad", cause="other"),)))
    never = lambda _c: Outcome((ok("never"),))  # noqa: E731
    results = _run(failing, _check("TEST102", never, requires=("TEST101",)),
                   _check("TEST103", never, requires=("TEST102",)),
                   _check("TEST104", never, requires=("TEST103", "TEST101")))
    assert results["TEST104"].skip_reason == "requires TEST103, TEST101 (TEST103 was skipped; TEST101 failed)"


def test_a_reused_thread_starts_each_check_in_a_fresh_context() -> None:
    workers = runner._Workers()
    flag: contextvars.ContextVar[str] = contextvars.ContextVar("flag", default="unset")
    seen: queue.Queue[str] = queue.Queue()
    workers.submit("check-SET001", lambda: (flag.set("left by the first check"), seen.put(flag.get())))
    assert seen.get(timeout=5) == "left by the first check"
    time.sleep(0.01)  # the thread is idle again
    workers.submit("check-READ001", lambda: seen.put(flag.get()))
    assert seen.get(timeout=5) == "unset"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_runs_checks_although_the_parents_idle_threads_are_gone() -> None:
    workers = runner._Workers()
    os.register_at_fork(after_in_child=workers.forget)
    done: queue.Queue[bool] = queue.Queue()
    workers.submit("check-PARENT1", lambda: done.put(True))
    assert done.get(timeout=5)
    time.sleep(0.01)  # one idle thread, in the parent only
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only when its check ran
        ran = threading.Event()
        workers.submit("check-CHILD01", ran.set)
        os._exit(0 if ran.wait(5) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
