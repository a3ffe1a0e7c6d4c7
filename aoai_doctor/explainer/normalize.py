"""Turn pasted text into forms the matcher can read.

Pasted errors arrive with ANSI colours, console wrapping, indentation, log prefixes, literal ``\\n``
escapes (JSON-in-JSON, Python reprs) and redaction placeholders. :func:`normalize` keeps three views:
the original (for JSON extraction), a line view with escapes decoded and prefixes removed (for the
credential-chain split), and a flat view with all whitespace collapsed (for signature regexes).
"""

from __future__ import annotations

import re

from aoai_doctor.record import record

MAX_CHARS = 200_000
"""Longer inputs keep their head and tail: the error is nearly always at the end."""
_HEAD = 50_000

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,200}(?:\x07|\x1b\\)|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ESCAPE = re.compile(r"\\(?:r\\n|n|r|t|\"|'|u00([0-9a-fA-F]{2})|/)")
_LINE_PREFIXES = (
    re.compile(r"^\s*\d{4}-\d{2}-\d{2}[T ][\d:.,]+Z?\s+"),  # ISO timestamps (pipelines, az --debug)
    re.compile(r"^[\w.-]{1,40}\s{1,20}\|\s"),  # docker compose "service  | "
    re.compile(r"^\s*(?:>\s?)+"),  # quoted replies
)
_WHITESPACE = re.compile(r"\s+")
_MID_WORD_WRAP = re.compile(r"(?m)(?<=[A-Za-z])[ \t]*\n[ \t]*(?=[A-Za-z])")
_WRAP_WIDTH = 60


@record
class Normalized:
    """Three views of one pasted text."""

    original: str
    """Capped, ANSI- and control-character-free input."""
    lines: str
    """Escapes decoded, log prefixes removed; line structure kept."""
    flat: str
    """Like ``lines`` with every run of whitespace collapsed to one space."""


def cap(text: str) -> str:
    """Keep at most :data:`MAX_CHARS` characters: the head and the (more important) tail."""
    if len(text) <= MAX_CHARS:
        return text
    return text[:_HEAD] + "\n…\n" + text[-(MAX_CHARS - _HEAD) :]


def strip_ansi(text: str) -> str:
    """Remove ANSI colour / cursor sequences and stray control characters (tabs and newlines stay)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def _decode_escape(match: re.Match[str]) -> str:
    token = match.group(0)
    if match.group(1):
        return chr(int(match.group(1), 16))
    return {"\\r\\n": "\n", "\\n": "\n", "\\r": "\n", "\\t": "\t", '\\"': '"', "\\'": "'", "\\/": "/"}[token]


def unescape(text: str) -> str:
    """Decode literal ``\\n``, ``\\t``, ``\\"`` and ``\\u00XX`` escapes, up to three levels deep."""
    for _ in range(3):
        if "\\" not in text:
            break
        decoded = _ESCAPE.sub(_decode_escape, text.replace("\\\\", "\\"))
        if decoded == text:
            break
        text = decoded
    return text


def _strip_prefixes(lines: list[str]) -> list[str]:
    for pattern in _LINE_PREFIXES:
        hits = sum(1 for line in lines if pattern.match(line))
        if hits and hits >= max(1, len(lines) // 3):
            lines = [pattern.sub("", line, count=1) for line in lines]
    return lines


def unwrap_mid_word(lines: str) -> str:
    """Flat view that rejoins words a console cut in two (``incorrec`` + newline + ``t``).

    Only breaks after a line of at least :data:`_WRAP_WIDTH` characters are joined, so ordinary short
    lines keep their word boundary.
    """

    def join(match: re.Match[str]) -> str:
        line_start = lines.rfind("\n", 0, match.start()) + 1
        return "" if match.start() - line_start >= _WRAP_WIDTH else " "

    return _WHITESPACE.sub(" ", _MID_WORD_WRAP.sub(join, lines)).strip()


def normalize(text: str) -> Normalized:
    """Build the three views of ``text``."""
    original = strip_ansi(cap(text)).replace("\r\n", "\n").replace("\r", "\n")
    decoded = unescape(original)
    lines = "\n".join(_strip_prefixes(decoded.split("\n")))
    flat = _WHITESPACE.sub(" ", lines).strip()
    return Normalized(original=original, lines=lines, flat=flat)
