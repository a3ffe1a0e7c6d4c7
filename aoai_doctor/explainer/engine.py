"""Match a pasted text against the knowledge base and rank the candidate causes."""

from __future__ import annotations

import re

from aoai_doctor.azure import intent
from aoai_doctor.explainer.answer import Confidence, CredentialVerdict, Diagnosis, Explanation, VerdictStatus
from aoai_doctor.explainer.kb import KnowledgeBase, Signature, docs_path, prefilter_view
from aoai_doctor.explainer.normalize import normalize, unwrap_mid_word
from aoai_doctor.explainer.parse import Chain, Facts, RawVerdict, extract_facts, parse_chain
from aoai_doctor.record import record
from aoai_doctor.redaction import scrub as redact

_EVIDENCE_BEFORE = 90
_EVIDENCE_AFTER = 170
_MAX_DIAGNOSES = 5
_CHAIN_BONUS = 50
_ERRORISH = re.compile(
    r"error|exception|traceback|fail|denied|unauthori[sz]ed|forbidden|invalid|refused|cannot|can't|could not|"
    r"unable|not found|timed? ?out|\b[45]\d\d\b",
    re.IGNORECASE,
)
_LOGGISH = re.compile(r"\b(?:INFO|DEBUG)\b|\binfo:", re.IGNORECASE)
_CREDENTIAL_CHECKS = {
    "EnvironmentCredential": "AOAI201",
    "WorkloadIdentityCredential": "AOAI202",
    "ManagedIdentityCredential": "AOAI203",
    "SharedTokenCacheCredential": "AOAI204",
    "VisualStudioCodeCredential": "AOAI205",
    "AzureCliCredential": "AOAI206",
    "AzurePowerShellCredential": "AOAI207",
    "AzureDeveloperCliCredential": "AOAI208",
    "BrokerCredential": "AOAI209",
}
_TOOL_CAUSES = frozenset({"cli_not_installed", "cli_not_logged_in", "cli_timeout", "refresh_token_expired"})


@record
class _Candidate:
    """A cause the text may show, with how sure and the words that show it."""

    signature: Signature | None
    cause: str
    confidence: Confidence
    score: int
    evidence: str
    explanation: str
    fix: str
    confirm_with: str | None
    success: bool = False
    from_chain: bool = False


@record
class _Hit:
    """Where a signature matched in the flattened text."""

    signature: Signature
    position: int
    length: int


def _first_position(sig: Signature, flat: str, facts: Facts, lowered: str | None) -> tuple[int, int] | None:
    """Where the signature matches (position, length), or None when it does not. ``lowered`` is
    the :func:`~aoai_doctor.explainer.kb.prefilter_view` of ``flat``, for the patterns' literal prefilter."""
    if sig.aadsts and not (sig.aadsts & facts.aadsts):
        return None
    if sig.error_codes and not (sig.error_codes & facts.error_codes):
        return None
    if sig.statuses and not (sig.statuses & facts.statuses):
        return None
    spot: tuple[int, int] | None = None
    if sig.any_of:
        found = None
        for pattern in sig.any_of:
            found = pattern.search(flat, lowered)
            if found:
                break
        if found is None:
            return None
        spot = (found.start(), found.end() - found.start())
    for pattern in sig.all_of:
        found = pattern.search(flat, lowered)
        if found is None:
            return None
        spot = spot or (found.start(), found.end() - found.start())
    if any(pattern.search(flat, lowered) for pattern in sig.none_of):
        return None
    if spot is None:
        spot = _structured_spot(sig, flat)
    return spot


def _structured_spot(sig: Signature, flat: str) -> tuple[int, int]:
    lowered = flat.lower()
    needles = [f"aadsts{code}" for code in sorted(sig.aadsts)] + sorted(sig.error_codes)
    needles += [str(status) for status in sorted(sig.statuses)]
    for needle in needles:
        index = lowered.find(needle)
        if index >= 0:
            return index, len(needle)
    return 0, min(len(flat), 80)


def _excerpt(flat: str, position: int, length: int) -> str:
    start = max(0, position - _EVIDENCE_BEFORE)
    end = min(len(flat), position + max(length, 1) + _EVIDENCE_AFTER)
    if start > 0:
        space = flat.find(" ", start, position)
        start = space + 1 if space >= 0 else start
    if end < len(flat):
        space = flat.rfind(" ", position + length, end)
        end = space if space > position + length else end
    text = flat[start:end].strip()
    return ("…" if start > 0 else "") + text + ("…" if end < len(flat) else "")


def _match_all(kb: KnowledgeBase, flat: str, facts: Facts) -> list[_Hit]:
    hits = []
    lowered = prefilter_view(flat)
    for sig in kb.signatures:
        spot = _first_position(sig, flat, facts, lowered)
        if spot is not None:
            hits.append(_Hit(sig, spot[0], spot[1]))
    return hits


def _candidate(hit: _Hit, flat: str) -> _Candidate:
    sig = hit.signature
    return _Candidate(
        signature=sig,
        cause=sig.cause,
        confidence=sig.confidence,
        score=sig.score,
        evidence=_excerpt(flat, hit.position, hit.length),
        explanation=sig.explanation,
        fix=sig.fix,
        confirm_with=sig.confirm_with,
        success=sig.success,
    )


def _best_hit(hits: list[_Hit]) -> _Hit | None:
    errors = [hit for hit in hits if not hit.signature.success]
    return max(errors, key=lambda hit: hit.signature.score, default=None)


@record
class _Judged:
    """A verdict read from the text, with the signature hit that decided it."""

    raw: RawVerdict
    hit: _Hit | None
    status: VerdictStatus

    @property
    def informative(self) -> bool:
        return self.hit is not None and self.hit.signature.informative


def _judge(kb: KnowledgeBase, raw: RawVerdict) -> _Judged:
    flat = redact(raw.message)
    facts = extract_facts(flat, flat)
    hit = _best_hit(_match_all(kb, flat, facts))
    status = raw.status
    if not raw.explicit_status and hit is not None and hit.signature.unavailable:
        status = VerdictStatus.UNAVAILABLE
    return _Judged(RawVerdict(raw.credential, raw.status, flat, raw.explicit_status), hit, status)


def _chain_candidate(kb: KnowledgeBase, chain: Chain, judged: list[_Judged]) -> _Candidate | None:
    failed = [j for j in judged if j.status is VerdictStatus.FAILED]
    if failed:
        pick = failed[0]
        return _from_verdict(kb, pick, "the chain stops at the first credential that fails")
    # Every credential was unavailable: name the one that was meant, by the evidence order run uses
    # (azure/intent.py); a pasted text shows no machine, so the causes alone decide.
    by_source = {j.raw.credential: j for j in judged}
    ranked = intent.rank((j.raw.credential, j.hit.signature.cause if j.hit else None) for j in judged)
    if ranked:
        meant = ranked[0]
        note = f"every credential was unavailable; the one meant is {meant.source} ({meant.why})"
        return _from_verdict(kb, by_source[meant.source], note)
    informative = [j for j in judged if j.informative]
    if informative:
        pick = max(informative, key=lambda j: j.hit.signature.score if j.hit else 0)
        note = "every credential was unavailable; this one names something to fix"
        return _from_verdict(kb, pick, note)
    if chain.kind == "log":
        return None
    if len(judged) == 1 and chain.kind == "ChainedTokenCredential":
        return _from_verdict(kb, judged[0], "the only credential in the chain was unavailable")
    info = kb.cause_info("client_config_missing")
    names = ", ".join(j.raw.credential for j in judged)
    return _Candidate(
        signature=None,
        cause="client_config_missing",
        confidence=Confidence.MEDIUM,
        score=Confidence.MEDIUM.weight + 40 + _CHAIN_BONUS,
        evidence=f"{chain.kind}: every credential was unavailable ({names})",
        explanation=(
            "Every credential in the chain reported that it is not set up on this machine, so no identity "
            "is configured at all: no service principal in the environment, no managed identity, and no "
            "signed-in developer tool. " + info.explanation
        ),
        fix=(
            "Configure the identity you intend to use: sign in with `az login --tenant <tenant-id>` for "
            "local development, set AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET for a service "
            "principal, or enable a managed identity on the Azure host. Then pin the chain, e.g. "
            "`export AZURE_TOKEN_CREDENTIALS=AzureCliCredential`."
        ),
        confirm_with="AOAI210",
        from_chain=True,
    )


def _from_verdict(kb: KnowledgeBase, judged: _Judged, note: str) -> _Candidate:
    name = judged.raw.credential
    message = judged.raw.message
    if judged.hit is not None and judged.hit.position > _EVIDENCE_BEFORE:
        evidence = f"{name}: " + _excerpt(message, judged.hit.position, judged.hit.length)
    else:
        evidence = _excerpt(f"{name}: {message}", 0, len(name))
    if judged.hit is None:
        info = kb.cause_info("other")
        return _Candidate(
            signature=None,
            cause="other",
            confidence=Confidence.LOW,
            score=Confidence.LOW.weight + _CHAIN_BONUS,
            evidence=evidence,
            explanation=f"{name} failed with a message no known signature matches ({note}). "
            + info.explanation,
            fix=info.fix,
            confirm_with=_CREDENTIAL_CHECKS.get(name, "AOAI210"),
            from_chain=True,
        )
    sig = judged.hit.signature
    confirm = sig.confirm_with
    if sig.cause in _TOOL_CAUSES or sig.cause.startswith(("env_", "managed_identity", "workload")):
        confirm = _CREDENTIAL_CHECKS.get(name, confirm)
    return _Candidate(
        signature=sig,
        cause=sig.cause,
        confidence=sig.confidence,
        score=sig.score + _CHAIN_BONUS,
        evidence=evidence,
        explanation=f"{sig.explanation} ({name}: {note}.)",
        fix=sig.fix,
        confirm_with=confirm,
        from_chain=True,
    )


def _fallback(kb: KnowledgeBase, flat: str) -> _Candidate:
    if flat and _LOGGISH.search(flat) and not _ERRORISH.search(flat):
        info = kb.cause_info("not_an_error")
        return _Candidate(
            None,
            "not_an_error",
            Confidence.LOW,
            0,
            _excerpt(flat, 0, 0),
            info.explanation,
            info.fix,
            info.confirm_with,
            success=True,
        )
    info = kb.cause_info("other")
    evidence = _excerpt(flat, 0, 0) if flat else "(empty text)"
    return _Candidate(
        None, "other", Confidence.LOW, 0, evidence, info.explanation, info.fix, info.confirm_with
    )


def _rank(candidates: list[_Candidate]) -> list[_Candidate]:
    errors = sorted((c for c in candidates if not c.success), key=lambda c: -c.score)
    successes = sorted((c for c in candidates if c.success), key=lambda c: -c.score)
    best: dict[str, _Candidate] = {}
    for candidate in errors + successes:
        best.setdefault(candidate.cause, candidate)
    return list(best.values())


def _settle_confidence(ranked: list[_Candidate]) -> list[_Candidate]:
    """Lower the top confidence when a different cause is (nearly) as strongly supported."""
    if len(ranked) < 2 or ranked[0].success:
        return ranked
    top, runner = ranked[0], ranked[1]
    close = runner.confidence is top.confidence and top.score - runner.score < 10
    if close and not runner.success and not top.from_chain:
        top = _Candidate(
            top.signature,
            top.cause,
            top.confidence.lowered(),
            top.score,
            top.evidence,
            top.explanation,
            top.fix,
            top.confirm_with,
            top.success,
            top.from_chain,
        )
    return [top, *ranked[1:]]


def _skippable(candidate: _Candidate) -> bool:
    """An uninformative "this source is not set up" candidate, represented by the chain verdicts."""
    sig = candidate.signature
    return sig is not None and sig.unavailable and not sig.informative


def diagnose(kb: KnowledgeBase, text: str) -> Explanation:
    """Explain ``text``: candidate causes best first, and per-credential verdicts of any chain."""
    views = normalize(text)
    flat = redact(views.flat)
    facts = extract_facts(views.original, views.flat)
    hits = _match_all(kb, flat, facts)
    if not any(h.signature.confidence is not Confidence.LOW for h in hits):
        unwrapped = redact(unwrap_mid_word(views.lines))
        if unwrapped != flat:
            retry = _match_all(kb, unwrapped, facts)
            if max((h.signature.score for h in retry), default=0) > max(
                (h.signature.score for h in hits), default=0
            ):
                hits, flat = retry, unwrapped
    chain = parse_chain(views.lines)
    judged = [_judge(kb, raw) for raw in chain.verdicts] if chain else []
    has_success = any(hit.signature.success and hit.signature.confidence is Confidence.HIGH for hit in hits)

    candidates = [_candidate(hit, flat) for hit in hits]
    if chain is not None and chain.kind != "log":
        candidates = [c for c in candidates if not _skippable(c)]
        chain_pick = _chain_candidate(kb, chain, judged)
        if chain_pick is not None:
            candidates.append(chain_pick)
    elif chain is not None and not has_success:
        chain_pick = _chain_candidate(kb, chain, judged)
        if chain_pick is not None:
            candidates.append(chain_pick)
    if has_success:
        candidates = [c for c in candidates if not (c.signature and c.signature.unavailable)]
    if not candidates:
        candidates = [_fallback(kb, flat)]

    ranked = _settle_confidence(_rank(candidates))[:_MAX_DIAGNOSES]
    diagnoses = tuple(
        Diagnosis(
            cause=c.cause,
            confidence=c.confidence,
            evidence=redact(c.evidence),
            explanation=c.explanation,
            fix=c.fix,
            confirm_with=c.confirm_with,
            docs=docs_path(c.cause),
            signature=c.signature.id if c.signature else None,
        )
        for c in ranked
    )
    verdicts = tuple(
        CredentialVerdict(
            credential=j.raw.credential,
            status=j.status,
            message=redact(j.raw.message)[:600],
            cause=j.hit.signature.cause if j.hit else None,
        )
        for j in judged
    )
    return Explanation(diagnoses=diagnoses, credentials=verdicts)


def matched_signatures(kb: KnowledgeBase, text: str) -> tuple[str, ...]:
    """Ids of every signature that matches ``text`` (flat view, or the view with console wraps rejoined)."""
    views = normalize(text)
    flat = redact(views.flat)
    facts = extract_facts(views.original, views.flat)
    ids = {hit.signature.id for hit in _match_all(kb, flat, facts)}
    ids.update(hit.signature.id for hit in _match_all(kb, redact(unwrap_mid_word(views.lines)), facts))
    return tuple(sorted(ids))
