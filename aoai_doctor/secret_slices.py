"""Known-secret masking: no slice of 12 characters or more of a secret the run holds survives in a text,
whatever the secret's size, in time linear in the text (and, for a secret too large to index whole, one pass
over the secret in C per report)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping

PLACEHOLDER = "<redacted>"
SLICE = 12


def digest(text: str) -> bytes:
    """How a text is remembered without being kept: a 16-byte blake2b digest."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def mask_known(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without any of the given secret values, whole or as a slice of 12 characters or more.

    Costs O(len(text)) once the secrets are indexed; secrets too large to index whole cost one pass over
    them, in C, per call (see :func:`index_for`)."""
    if not secrets or not text:
        return text
    return mask(text, index_for(secrets, (text,)))


def mask(text: str, index: SliceIndex) -> str:
    spans = index.spans(text, with_short=True)
    while spans:
        text = _replace(text, spans)
        # A placeholder next to surviving text could complete a slice of a secret holding '<' or '>' (every
        # new window overlaps a placeholder, which starts with one and ends with the other): look again;
        # every round replaces at least 12 characters by 10, so this ends.
        if not index.angled:
            break
        if index.partial:
            index = index_for(index.secrets, (text,))
        spans = index.spans(text, with_short=False)
    return text


WHOLE_INDEX = 1 << 20
"""Known secrets of up to this many characters in all are indexed whole, once per set (a few tens of
milliseconds a megabyte); larger ones, which would take seconds, are indexed per report, on just the blocks
that its texts hold."""


def index_for(secrets: tuple[str, ...], texts: Iterable[str]) -> SliceIndex:
    """An index of ``secrets`` that finds every slice of them in ``texts``."""
    if sum(len(s) for s in secrets if len(s) >= SLICE) <= WHOLE_INDEX:
        return _index(secrets)
    data = "\0".join(texts).encode("latin-1", "replace")
    held: set[int] = set().union(*(_codes(data, offset) for offset in range(_BLOCK)))
    return SliceIndex(secrets, held)


_BLOCK = SLICE // 2
"""Every 12-character slice of a secret holds a whole 6-character block that starts at a multiple of 6 in the
secret, so indexing those blocks (one entry per 6 characters) finds every slice."""


def _words(data: bytes, start: int) -> bytearray:
    """The 6-byte blocks of ``data`` at ``start``, ``start + 6``, ``start + 12`` ..., each spread into an 8-byte
    word by slice assignment (no Python loop per block)."""
    count = max(0, (len(data) - start) // _BLOCK)
    words = bytearray(8 * count)
    for column in range(_BLOCK):
        words[column::8] = data[start + column : start + _BLOCK * count : _BLOCK]
    return words


def _codes(data: bytes, start: int) -> list[int]:
    """Integer codes of the 6-byte blocks of ``data`` at ``start``, ``start + 6``, ``start + 12`` ..."""
    return memoryview(_words(data, start)).cast("Q").tolist()


class SliceIndex:
    """The aligned 6-character blocks of the known secrets of 12 characters or more, each mapped to where it
    is (``start * len(long) + secret number``); secrets shorter than 12 characters are matched whole.

    With ``held`` (the codes of every 6-character block of the texts to mask), only the blocks among them are
    indexed: a set intersection over the secret's blocks, in C, instead of a dictionary entry for each."""

    def __init__(self, secrets: tuple[str, ...], held: set[int] | None = None) -> None:
        self.secrets = secrets
        self.partial = held is not None
        self.short = tuple(s for s in secrets if len(s) < SLICE)
        self.long = tuple(s for s in secrets if len(s) >= SLICE)
        self.angled = any("<" in s or ">" in s for s in self.long)
        self.by_code: dict[int, int] = {}
        self.by_block: dict[str, int] = {}
        count = len(self.long)
        for number, secret in enumerate(self.long):
            try:
                data = secret.encode("latin-1")
            except UnicodeEncodeError:
                # Rare (a non-Latin-1 password): index the blocks as strings, one step per block.
                for start in range(0, len(secret) - _BLOCK + 1, _BLOCK):
                    self.by_block[secret[start : start + _BLOCK]] = start * count + number
                continue
            words = _words(data, 0)
            if held is None:
                codes = memoryview(words).cast("Q").tolist()
                step = _BLOCK * count
                self.by_code.update(zip(codes, range(number, len(codes) * step, step), strict=True))
                continue
            hits = held.intersection(memoryview(words).cast("Q"))
            for code in hits:
                # Where the block first stands (aligned or not): a block that stands elsewhere too is settled
                # by _is_slice's search.
                start = data.find(code.to_bytes(8, "little")[:_BLOCK])
                self.by_code[code] = start * count + number
        self._found: dict[str, bool] = {}
        self._clean: set[bytes] = set()  # digests of texts found to hold no slice (see holds_any)

    CLEAN_LIMIT = 4096
    """Texts remembered as holding no slice, at most (then it starts again)."""

    def holds_any(self, texts: Mapping[str, bytes]) -> bool:
        """Whether any of ``texts`` (each with its :func:`digest`) holds a slice of a secret (or a whole short
        one). A text found to hold none is remembered by its digest, never as itself: a fleet's reports, mostly
        the same texts, and the one index of their identity's secrets, look through each text once."""
        fresh = {key: text for text, key in texts.items() if key not in self._clean}
        if not fresh:
            return False
        if self.spans("\n".join(fresh.values()), with_short=True):
            return True
        if len(self._clean) + len(fresh) > self.CLEAN_LIMIT:
            self._clean = set()
        self._clean.update(fresh)
        return False

    def _blocks(self, text: str) -> dict[int, int]:
        """Text positions whose 6 characters are an indexed block, mapped to the block's place."""
        found: dict[int, int] = {}
        if self.by_code:
            data = text.encode("latin-1", "replace")  # one byte per character: positions stay put
            for offset in range(_BLOCK):
                codes = _codes(data, offset)
                if self.by_code.keys().isdisjoint(codes):
                    continue
                for k, code in enumerate(codes):
                    place = self.by_code.get(code)
                    if place is not None:
                        found[offset + k * _BLOCK] = place
        if self.by_block:
            for position in range(len(text) - _BLOCK + 1):
                place = self.by_block.get(text[position : position + _BLOCK])
                if place is not None:
                    found.setdefault(position, place)
        return found

    def _is_slice(self, window: str, place: int, offset: int) -> bool:
        """Whether ``window`` (12 characters whose block at ``offset`` is the indexed block at ``place``) is a
        slice of a secret: checked at that place, then (a block may occur more than once) by a search."""
        secret = self.long[place % len(self.long)]
        start = place // len(self.long) - offset
        if start >= 0 and secret[start : start + SLICE] == window:
            return True
        known = self._found.get(window)
        if known is None:
            known = self._found[window] = any(window in s for s in self.long)
        return known

    def spans(self, text: str, with_short: bool) -> list[tuple[int, int]]:
        """Where ``text`` holds a slice of 12 characters of a secret (or a whole short secret), merged."""
        spans: list[tuple[int, int]] = []
        if with_short:
            for secret in self.short:
                at = text.find(secret)
                while at >= 0:
                    spans.append((at, at + len(secret)))
                    at = text.find(secret, at + 1)
        if self.long and len(text) >= SLICE:
            blocks = self._blocks(text)
            checked: set[int] = set()
            for position in sorted(blocks):
                for start in range(max(0, position - _BLOCK + 1), min(position, len(text) - SLICE) + 1):
                    if start in checked:
                        continue
                    checked.add(start)
                    if self._is_slice(text[start : start + SLICE], blocks[position], position - start):
                        spans.append((start, start + SLICE))
        return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts += [text[at:start], PLACEHOLDER]
        at = end
    parts.append(text[at:])
    return "".join(parts)


@functools.lru_cache(maxsize=4)
def _index(secrets: tuple[str, ...]) -> SliceIndex:
    """The index of one set of secrets, built once (O(total secret size)) and shared by every text."""
    return SliceIndex(secrets)


