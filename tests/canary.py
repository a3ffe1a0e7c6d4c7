"""Canary secrets and the detector that looks for them, for ``tests/test_canary.py``.

A canary is a secret-shaped value planted where a real secret would be (an environment variable, a
config file, a scenario, a token file, a server's answer). The detector knows every canary and every
secret a stand-in issued, and fails when any of them, any 12-character slice of one, or any segment
(or 12-character slice of a segment) of a JWT shows up in text the doctor wrote.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aoai_doctor.standin.certs import TlsMaterial

SLICE = 12

# Fixed canaries, each in the shape the real secret has (so they are believable), each unique, and none
# holding a word that could turn up in the doctor's own text (a slice of "ClientSecret" would).
CLIENT_SECRET = "Cny8Q~kX2vB9-Lm4.Np0Rs6Tu7W_qJ3hQ5zD1fG8"  # an Entra client secret value
WRONG_CLIENT_SECRET = "Wrg7Q~pZ4dK8.fJ2hY6-mT1cV9bN3xR5sL0wQ7"  # the one a client sends by mistake
API_KEY = "c4a9e1f07b3d4c58a2e6f19d0b7c3a55"  # a classic 32-hex Azure OpenAI key
API_KEY_84 = "Cq84" + "x7Qm2Rt9Vb4Nk8Lp3Zs6Wd1Hf5Jg0Tc" * 2 + "q9Zr5T7yUwE8Jk6Hb2"  # an 84-character key
CONFIG_API_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # OPENAI_API_KEY in config.json
CERT_PASSWORD = "pfx-9vQ2!Lk7wZ4#Tq8"  # AZURE_CLIENT_CERTIFICATE_PASSWORD
WRONG_CERT_PASSWORD = "pfx-3mB8!Rd5yX1#Kw6"  # a password that does not open the key
USER_PASSWORD = "usr-6hT3!Nc9pV2#Zb4"  # AZURE_PASSWORD (username/password sign-in)
PROXY_PASSWORD = "prx-4Gk9Wm2Qs7Jd"  # the password inside HTTPS_PROXY
IDENTITY_HEADER = "ca9a7e11-5ec2-4e7a-9b1d-c0ffee123456"  # App Service X-IDENTITY-HEADER secret (a GUID)
FEDERATED_GARBAGE = "fed-k3J8vN2qW6xZ9.bT4mR7yH1cL5"  # a token file holding something that is not a JWT
# Secrets no pattern can recognise (no digits, no upper case, not hex, no Q~): only knowing the value helps.
SHAPELESS_SECRET = "zq-mxv-pwt-kfr-bnd-hlc-tgs"  # a client secret someone chose by hand
SHAPELESS_KEY = "vrk.hqm.zdt.pwx.ncl.fgb.jsw"  # a gateway's own subscription key format

FIXED: Mapping[str, str] = {
    "client secret": CLIENT_SECRET,
    "wrong client secret": WRONG_CLIENT_SECRET,
    "api key": API_KEY,
    "84-char api key": API_KEY_84,
    "config.json api key": CONFIG_API_KEY,
    "certificate password": CERT_PASSWORD,
    "wrong certificate password": WRONG_CERT_PASSWORD,
    "user password": USER_PASSWORD,
    "proxy password": PROXY_PASSWORD,
    "identity header": IDENTITY_HEADER,
    "federated token file junk": FEDERATED_GARBAGE,
    "shapeless client secret": SHAPELESS_SECRET,
    "shapeless api key": SHAPELESS_KEY,
}
assert len(API_KEY_84) == 84 and len(set(FIXED.values())) == len(FIXED)


def fragments(value: str) -> set[str]:
    """What must never appear: the value, its JWT segments, and every 12-character slice of each."""
    parts = {value}
    if value.count(".") == 2 and value.startswith("eyJ"):
        parts.update(p for p in value.split(".") if p)
    if value.startswith("-----BEGIN"):
        # A PEM: every base64 line (slices of the ASN.1 prefix all keys share would match any key).
        return {line for line in value.splitlines() if len(line) >= 40}
    out: set[str] = set()
    for part in parts:
        if len(part) <= SLICE:
            out.add(part)
        else:
            out.update(part[i : i + SLICE] for i in range(len(part) - SLICE + 1))
    return out


@dataclass
class Detector:
    """Every secret a test planted or a stand-in issued, and where each fragment came from."""

    _slices: dict[str, str] = field(default_factory=dict)
    _other: dict[str, str] = field(default_factory=dict)
    """Fragments that are not 12 characters long (short values, PEM lines): searched for directly."""

    def plant(self, label: str, value: str) -> str:
        """Remember ``value`` (labelled for the failure message) and return it."""
        for fragment in fragments(value):
            (self._slices if len(fragment) == SLICE else self._other).setdefault(fragment, label)
        return value

    def plant_all(self, label: str, values: Iterable[str]) -> None:
        for value in values:
            self.plant(label, value)

    def __len__(self) -> int:
        return len(self._slices) + len(self._other)

    def hits(self, text: str) -> list[tuple[str, str]]:
        """(label, fragment) for each secret fragment found in ``text``."""
        found: dict[str, str] = {}
        windows = {text[i : i + SLICE] for i in range(len(text) - SLICE + 1)}
        for fragment in windows & self._slices.keys():
            found.setdefault(self._slices[fragment], fragment)
        for fragment, label in self._other.items():
            if fragment in text:
                found.setdefault(label, fragment)
        return sorted(found.items())

    def assert_clean(self, where: str, text: str) -> None:
        """Fail naming the secret, the fragment and the line it was found on."""
        problems = []
        for label, fragment in self.hits(text):
            line = next((ln for ln in text.splitlines() if fragment in ln), fragment)
            problems.append(f"{label} ({fragment!r}) in: {line[:300]!r}")
        assert not problems, f"secret leaked to {where}:\n  " + "\n  ".join(problems)


# Files the doctor writes -------------------------------------------------------------------------


def snapshot(root: Path, exclude: Path | None = None) -> dict[Path, str]:
    """Content hash of every file under ``root`` (but not under ``exclude``)."""
    out: dict[Path, str] = {}
    for path in root.rglob("*"):
        if exclude is not None and path.is_relative_to(exclude):
            continue
        if path.is_file() and not path.is_symlink():
            out[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def written_since(root: Path, before: Mapping[Path, str], exclude: Path | None = None) -> dict[Path, str]:
    """Files under ``root`` (but not under ``exclude``) that are new or changed since ``before``, with their text."""
    out: dict[Path, str] = {}
    for path, digest in snapshot(root, exclude).items():
        if before.get(path) != digest:
            out[path] = path.read_bytes().decode("utf-8", errors="replace")
    return out


# A server that answers with whatever the request carried ----------------------------------------


Responder = Callable[[str, Mapping[str, str], bytes], tuple[int, str, bytes]]
"""(path, request headers lower-cased, body) -> (status, content type, body)."""


class EchoServer(ThreadingHTTPServer):
    """A loopback HTTP(S) server whose answers are made by ``responder`` from the request (so they can echo
    the api-key, the bearer token or any other header back, as a misbehaving gateway or service might)."""

    daemon_threads = True

    def __init__(self, responder: Responder, tls: TlsMaterial | None = None) -> None:
        self.responder = responder
        self.requests: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        if tls is not None:
            self.socket = tls.server_context().wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or "0"))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append(headers)
        status, content_type, payload = self.server.responder(self.path, headers, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-region", "East US")
        self.send_header("apim-request-id", "5d2f6a3e-0c1b-4c8e-9a7d-3f2e1d0c9b8a")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


# What the canary tests exercised, counted across processes --------------------------------------

EXERCISED_PROPERTY = "canary_exercised"
"""A test's report property: the (command, format, scenario) combinations it ran."""
PLANNED_PROPERTY = "canary_planned"
"""The count test's report property, set when the whole canary module was selected: every planned combination."""

Combination = tuple[str, str, str]


def _combinations(value: object) -> set[Combination]:
    return {(str(c), str(f), str(s)) for c, f, s in value}  # type: ignore[attr-defined]


class ExercisedTally:
    """Checks, once every test has run, that the canary tests exercised every planned combination.

    Tests run in parallel (pytest-xdist), so no test process sees them all. What each test ran travels on
    its report (``user_properties``), and every report reaches the process this is registered in: the xdist
    controller, or the only process when the suite runs serially. A difference is reported as an error at
    teardown of ``test_canary_combination_count``, the test that asked for the check.
    """

    def __init__(self) -> None:
        self.exercised: set[Combination] = set()
        self.planned: set[Combination] | None = None
        self.count_test: pytest.TestReport | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == EXERCISED_PROPERTY:
                self.exercised |= _combinations(value)
            elif name == PLANNED_PROPERTY:
                self.planned, self.count_test = _combinations(value), report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.planned is None or self.count_test is None or self.planned == self.exercised:
            return
        problem = (f"canary combinations planned but not exercised: {sorted(self.planned - self.exercised)}; "
                   f"exercised but not planned: {sorted(self.exercised - self.planned)}")
        report = pytest.TestReport(self.count_test.nodeid, self.count_test.location, {}, "failed", problem,
                                   "teardown")
        session.config.hook.pytest_runtest_logreport(report=report)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
