"""Known-secret masking: no 12-character slice of a known secret survives, whatever the secret's size, and
text that holds no such slice is left alone."""

from __future__ import annotations

import secrets as random_secrets

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aoai_doctor import redaction, secret_slices
from aoai_doctor.model import CheckResult, Finding, Report, Setting, Severity, Status
from aoai_doctor.redaction import KnownSecrets, redact_report
from aoai_doctor.secret_slices import PLACEHOLDER, SLICE, mask_known

# '<' and '>' are left out of the alphabet so that a slice found in the output is never one that the
# placeholder itself completes.
ALPHABET = st.characters(codec="utf-8", exclude_characters="<>", exclude_categories=("Cs",))


def slices(secret: str) -> set[str]:
    return {secret[i : i + SLICE] for i in range(len(secret) - SLICE + 1)} if len(secret) >= SLICE else {secret}


def survivors(text: str, known: tuple[str, ...]) -> set[str]:
    return {piece for secret in known for piece in slices(secret) if piece in text}


@st.composite
def texts_with_secrets(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    alphabet = draw(st.sampled_from(["ab", "abc0", "xyzXYZ019-_.", None]))
    chars = st.text(alphabet=alphabet, min_size=0, max_size=40) if alphabet else st.text(ALPHABET, max_size=40)
    known = tuple(draw(st.lists(st.text(alphabet=alphabet or ALPHABET, min_size=6, max_size=200).map(str.strip)
                                .filter(lambda s: len(s) >= 6), min_size=1, max_size=3)))
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        parts.append(draw(chars))
        secret = draw(st.sampled_from(known))
        start = draw(st.integers(0, len(secret)))
        end = draw(st.integers(start, len(secret)))
        parts.append(secret[start:end])  # the whole secret, a slice of it or nothing
    parts.append(draw(chars))
    return "".join(parts), known


# Both ways of indexing the secrets: whole, once per set (small secrets), and per text, on just the blocks the
# text holds (what secrets over secret_slices.WHOLE_INDEX characters get).
INDEX_MODES = pytest.mark.parametrize("whole_index", [secret_slices.WHOLE_INDEX, 0], ids=["whole", "per-text"])


def masked(text: str, known: tuple[str, ...], whole_index: int) -> str:
    saved, secret_slices.WHOLE_INDEX = secret_slices.WHOLE_INDEX, whole_index
    try:
        return mask_known(text, known)
    finally:
        secret_slices.WHOLE_INDEX = saved


@INDEX_MODES
@settings(max_examples=40, deadline=None)
@given(case=texts_with_secrets())
def test_no_slice_of_a_known_secret_survives(whole_index: int, case: tuple[str, tuple[str, ...]]) -> None:
    text, known = case
    out = masked(text, known, whole_index)
    assert survivors(out, known) == set()
    if not survivors(text, known):
        assert out == text


@INDEX_MODES
def test_a_placeholder_never_completes_a_slice(whole_index: int) -> None:
    """A secret holding '<' or '>' is looked for again around each placeholder put in: here masking the first
    secret makes the text start with a slice of the second."""
    first, second = "0123456789abcdef-first", f"{PLACEHOLDER}yy-second-secret"
    text = f"{first}yy-sec and more"
    out = masked(text, (first, second), whole_index)
    assert survivors(out, (first, second)) == set()
    assert out == f"{PLACEHOLDER} and more"


@settings(max_examples=25, deadline=None)
@given(st.text(ALPHABET, max_size=300), st.text(st.characters(categories=("Nd",)), min_size=12, max_size=80))
def test_text_without_a_slice_of_a_secret_is_untouched(text: str, digits: str) -> None:
    known = ("Q" + digits + "Q",)
    if survivors(text, known):
        return
    assert mask_known(text, known) == text


def test_each_secret_is_masked_where_it_stands() -> None:
    secret = "s3cr3t-VALUE-0123456789-abcdefghij"
    text = f"before {secret} middle {secret[3:15]} short {secret[:11]} end"
    assert mask_known(text, (secret,)) == f"before {PLACEHOLDER} middle {PLACEHOLDER} short {secret[:11]} end"
    assert mask_known("pw hunter22 here", ("hunter22",)) == f"pw {PLACEHOLDER} here"


def test_known_secrets_added_later_are_masked() -> None:
    known = KnownSecrets(["first-unrelated-000"])
    token = "second-secret-value-111-" * 3
    assert known.mask(token) == token
    known.add(token)
    assert known.mask(f"x {token[5:40]} y") == f"x {PLACEHOLDER} y"


def test_a_report_with_a_20_mb_secret_is_redacted() -> None:
    secret = random_secrets.token_urlsafe(15_000_000)[:20_000_000]
    leaks = [secret[i : i + 40] for i in (0, 7, 1_000_003, 19_999_960)]
    finding = Finding(Severity.ERROR, f"401 with token {leaks[0]}", fix=f"rotate {leaks[1]}",
                      detail=f"body: {leaks[2]} and {secret[-SLICE:]}")
    result = CheckResult("AOAI501", "call", "s", Status.FAIL, 1.0, (finding,), data={"headers": [leaks[3]]})
    report = Report("9.9", {"endpoint": Setting("https://x", "env")}, (result,), "t", 1.0)
    out = redact_report(report, "standard", (secret,))
    rendered = repr(out)
    assert "AOAI501" in rendered and "rotate" in rendered and "body:" in rendered
    for leak in [*leaks, secret[-SLICE:]]:
        assert leak[:SLICE] not in rendered
    assert out.results[0].findings[0].message == f"401 with token {PLACEHOLDER}"


@settings(max_examples=60, deadline=None)
@example(["0123456789abcdef0123456789abcdef", "-ab1Q~" + "x" * 22], [0])  # a replacement makes the 32-hex rule match
@given(st.lists(st.sampled_from([
    "0123456789abcdef0123456789abcdef", "-ab1Q~" + "x" * 22, "token=", "Bearer ", "eyJhbGciOi", " sig=",
    "https://user:pass@proxy:8080", "sk-proj-" + "a1" * 10, "AADSTS70011", "api-key: ", "\n", " ", "x" * 40,
    "Aa1" * 12, "-p ", "hunter22-secret-value",
]), max_size=12), st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_a_report_is_redacted_as_each_text_alone_would_be(pieces: list[str], cuts: list[int]) -> None:
    """Cleaning a report text by text (distinct texts once, the rules after the first that finds anything)
    gives what scrubbing each text on its own gives."""
    text = "".join(pieces)
    parts = [text[: len(text) * c // 4] for c in cuts] + [text]
    findings = tuple(Finding(Severity.ERROR, part, cause="other", fix=part[::-1], detail=part) for part in parts)
    report = Report("9.9", {"endpoint": Setting(parts[0], "env")},
                    (CheckResult("AOAI501", "call", "s", Status.FAIL, 1.0, findings, data={"x": parts}),), "t", 1.0)
    known = ("hunter22-secret-value",)
    out = redact_report(report, "standard", known)
    expected = [redaction.scrub(mask_known(part, known)) for part in parts]
    assert [f.message for f in out.results[0].findings] == expected
    assert out.results[0].data["x"] == expected


def test_a_text_cleaned_before_is_masked_again_for_a_secret_known_later() -> None:
    """Texts are remembered once scrubbed (a fleet's reports share most of theirs); a secret known to a later
    report is still masked in the same text."""
    secret = "orders-api-client-secret-value"
    text = f"the app sent {secret} to the proxy"
    result = CheckResult("AOAI501", "call", "s", Status.FAIL, 1.0, (Finding(Severity.ERROR, text, cause="other"),))
    report = Report("9.9", {"endpoint": Setting("https://x", "env")}, (result,), "t", 1.0)
    assert redact_report(report, "standard", ()) is report  # nothing shaped like a secret: the same report
    again = redact_report(report, "standard", (secret,))
    assert again.results[0].findings[0].message == f"the app sent {PLACEHOLDER} to the proxy"


def test_texts_are_remembered_by_digest_not_as_they_were() -> None:
    bearer = "Bearer " + "Zx9" * 12
    result = CheckResult("AOAI501", "call", "s", Status.FAIL, 1.0,
                         (Finding(Severity.ERROR, f"sent {bearer}", cause="other"),))
    out = redact_report(Report("9.9", {}, (result,), "t", 1.0), "standard", ())
    assert out.results[0].findings[0].message == f"sent Bearer {PLACEHOLDER}"
    kept = redaction._SCRUBBED._known
    assert kept and all(isinstance(key, bytes) and "Zx9Zx9" not in text for key, text in kept.items())


def test_a_fleets_reports_are_each_masked_though_texts_found_clean_are_remembered() -> None:
    """The index of one set of secrets remembers (by digest) the texts found to hold none: a fleet's next report,
    the same texts but one, looks through that one, and still masks a secret in it."""
    secret = "fleet-shared-client-secret-9f8e7d"
    shared = tuple(f"check {n} passed on the shared host" for n in range(20))

    def report(extra: str) -> Report:
        findings = tuple(Finding(Severity.INFO, text) for text in (*shared, extra))
        return Report("9.9", {}, (CheckResult("AOAI501", "call", "s", Status.PASS, 1.0, findings),), "t", 1.0)

    first = report("chat-00 answered 200")
    assert redact_report(first, "standard", (secret,)) is first
    index = secret_slices.index_for((secret,), ())
    assert not index.holds_any({text: secret_slices.digest(text) for text in shared})  # remembered: none to look at
    assert all(isinstance(key, bytes) for key in index._clean) and len(index._clean) >= len(shared)
    leaked = redact_report(report(f"chat-01 sent {secret[3:20]} to the proxy"), "standard", (secret,))
    assert leaked.results[0].findings[-1].message == f"chat-01 sent {PLACEHOLDER} to the proxy"
    assert [f.message for f in leaked.results[0].findings[:-1]] == list(shared)
