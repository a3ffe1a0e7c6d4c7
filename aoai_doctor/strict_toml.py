"""One strict reader for the TOML files the doctor reads: ``checks.toml``, the knowledge base and the
stand-in's scenarios.

:func:`parse` and :func:`read` decode a document. :class:`Table` walks it with typed getters; each getter
takes its key out of the table and remembers it as known, so :meth:`Table.done` can reject whatever is
left over, with a "did you mean" hint. Every problem is a :class:`TomlError` whose ``str()`` is one line
naming the source; callers turn it into their own exception type.

This module imports nothing else from aoai_doctor and does no I/O beyond reading the file it is given.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal, Protocol, TypeVar, overload

__all__ = [
    "Readable",
    "Style",
    "Table",
    "TomlError",
    "TomlSyntaxError",
    "did_you_mean",
    "parse",
    "read",
]

E = TypeVar("E", bound=Enum)

_BARE_KEY = r"[A-Za-z0-9_-]+"


class TomlError(ValueError):
    """A TOML document is unreadable, malformed, or breaks its schema.

    ``str()`` is one line: ``<source>: <problem>``.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = _one_line(source)
        """The file, as the caller names it."""
        self.problem = _one_line(problem)
        """What is wrong and where in the file, without the source."""
        super().__init__(f"{self.source}: {self.problem}")


class TomlSyntaxError(TomlError):
    """The text is not TOML (or not UTF-8). ``problem`` is ``not valid TOML: <detail>``."""

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(source, f"not valid TOML: {detail}")
        self.detail = _one_line(detail)
        """The decoder's own message, with its line and column."""


class Readable(Protocol):
    """A file to read: a :class:`pathlib.Path` or an ``importlib.resources`` file."""

    def read_bytes(self) -> bytes:
        """The whole file."""
        ...


class Style(Enum):
    """How a :class:`Table`'s messages point at a key."""

    PATH = "path"
    """A dotted path, then the problem: ``apps[0].rpm: expected an integer, got a string``."""
    HEADER = "header"
    """The table's header, then the key: ``[run] select must be a list of strings, not an integer``.

    For flat files whose users know each table by its header, such as ``checks.toml``."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    import difflib  # loaded when a word is wrong, not by every run

    options = list(choices)
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(word.upper(), [c.upper() for c in options], n=1, cutoff=0.6)
        match = [c for c in options if match and c.upper() == match[0]]
    return f" (did you mean '{match[0]}'?)" if match else ""


def parse(text: str | bytes, *, source: str) -> dict[str, Any]:
    """Decode a TOML document; bytes must be UTF-8. Raises :class:`TomlSyntaxError`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TomlSyntaxError(source, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if sys.version_info >= (3, 11):  # loaded when a file is read, not by every run
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlSyntaxError(source, str(exc)) from None
    except RecursionError:
        raise TomlSyntaxError(source, "nested too deeply to be a configuration file") from None


def read(file: Readable, *, source: str) -> dict[str, Any]:
    """Read and decode a TOML file. Raises :class:`TomlError` (``cannot read: …``) or :class:`TomlSyntaxError`."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise TomlError(source, f"cannot read: {exc.strerror or exc}") from None
    return parse(data, source=source)


class Table:
    """Strict reader over one TOML table of a document.

    Each getter takes its key out of the table and remembers the key as known, whether or not the
    table has it; :meth:`done` then rejects the first key nobody read, with a hint drawn from the known
    keys. Getters raise :class:`TomlError` for a missing required key or a value of the wrong type.
    Nested tables and arrays of tables get their own readers, located by a dotted path (``where``)
    such as ``apps[0].federated[1]``.
    """

    __slots__ = ("_data", "_known", "_source", "_style", "_where")

    def __init__(self, data: Mapping[str, Any], *, source: str, where: str = "", style: Style = Style.PATH) -> None:
        self._data = dict(data)
        self._known: dict[str, None] = {}
        self._source = source
        self._where = where
        self._style = style

    @property
    def source(self) -> str:
        """The file, as the caller names it."""
        return self._source

    @property
    def where(self) -> str:
        """The dotted path of this table from the document's root; empty for the root."""
        return self._where

    # -- scalars --------------------------------------------------------------------------------------

    @overload
    def text(self, key: str, default: str, *, required: bool = False) -> str: ...
    @overload
    def text(self, key: str, default: None = None, *, required: Literal[True]) -> str: ...
    @overload
    def text(self, key: str, default: None = None, *, required: bool = False) -> str | None: ...
    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        """A string; ``default`` when absent (an error when ``required``)."""
        value = self._take(key, str, "a string", required=required)
        return default if value is _ABSENT else str(value)

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean; ``default`` when absent."""
        value = self._take(key, bool, "a boolean")
        return default if value is _ABSENT else bool(value)

    def integer(self, key: str, default: int, *, minimum: int | None = None) -> int:
        """An integer, at least ``minimum`` when given; ``default`` when absent."""
        value = self._take(key, int, "an integer")
        if value is _ABSENT:
            return default
        if minimum is not None and value < minimum:
            raise self._fail(_key(key), f"must be at least {minimum}")
        return int(value)

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str:
        """One of ``choices``; ``default`` when absent (required when ``default`` is None)."""
        value = self._take(key, str, "a string", required=default is None)
        if value is _ABSENT:
            return str(default)
        if value not in choices:
            raise self._unknown_value(key, value, choices)
        return str(value)

    def enum(self, key: str, cls: type[E], default: E | None = None) -> E:
        """A member of ``cls``, named by its value; ``default`` when absent (required when it is None)."""
        value = self._take(key, str, "a string", required=default is None)
        if value is _ABSENT:
            assert default is not None  # absent is only allowed with a default
            return default
        try:
            return cls(value)
        except ValueError:
            raise self._unknown_value(key, value, [str(member.value) for member in cls]) from None

    # -- arrays ---------------------------------------------------------------------------------------

    def strings(self, key: str, *, allow_single: bool = False) -> tuple[str, ...]:
        """A list of strings (a lone string too, as a list of one, when ``allow_single``); empty when absent."""
        return tuple(str(item) for item in self._array(key, str, "a string", "a list of strings", allow_single))

    def integers(self, key: str) -> tuple[int, ...]:
        """A list of integers; empty when absent."""
        return tuple(int(item) for item in self._array(key, int, "an integer", "a list of integers", False))

    # -- tables ---------------------------------------------------------------------------------------

    def table(self, key: str, *, required: bool = False) -> Table:
        """A reader over the sub-table ``key`` (empty when absent, unless ``required``)."""
        value = self._take(key, dict, "a table", required=required, table_valued=True)
        return self._child({} if value is _ABSENT else value, self._join(_key(key)))

    def tables(self, key: str, *, name_key: str | None = None) -> tuple[Table, ...]:
        """Readers over the array of tables ``key``; empty when absent.

        Each entry is located by its index (``apps[0]``) or, when ``name_key`` is given and the entry has
        that string key, by its name (``signature["aadsts-70011"]``).
        """
        value = self._take(key, list, "an array of tables", table_valued=True)
        if value is _ABSENT:
            return ()
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self._fail(f"{_key(key)}[{index}]", self._wrong("a table", item))
            name = item.get(name_key) if name_key else None
            label = json.dumps(name, ensure_ascii=False) if isinstance(name, str) else str(index)
            readers.append(self._child(item, self._join(f"{_key(key)}[{label}]")))
        return tuple(readers)

    # -- escape hatches -------------------------------------------------------------------------------

    def raw(self, key: str) -> Any:
        """The value as decoded, whatever its type; None when absent. The caller checks it."""
        self._known.setdefault(key)
        return self._data.pop(key, None)

    def unread_keys(self) -> tuple[str, ...]:
        """The keys nobody has read yet, in document order (for tables whose keys are names)."""
        return tuple(self._data)

    def rest(self) -> dict[str, Any]:
        """Every key nobody has read, with its value, now counted as read (someone else checks them)."""
        rest, self._data = self._data, {}
        return rest

    def error(self, key: str | None, problem: str) -> TomlError:
        """An error about ``key`` of this table (or the table itself, for None), for the caller to raise."""
        if key is None:
            if not self._where:
                return TomlError(self._source, problem)
            where = self._where if self._style is Style.PATH else f"[{self._where}]"
            return TomlError(self._source, f"{where}: {problem}")
        return TomlError(self._source, f"{self._locate(_key(key))}: {problem}")

    def done(self) -> None:
        """Raise on the first key nobody read."""
        for key in self._data:
            hint = did_you_mean(key, self._known)
            if self._style is Style.PATH:
                raise self._fail(_key(key), f"unknown key{hint}")
            table = f"[{self._where}]" if self._where else "the top level"
            raise TomlError(self._source, f"unknown key {key!r} in {table}{hint}")

    # -- internals ------------------------------------------------------------------------------------

    def _take(
        self,
        key: str,
        kind: type,
        expected: str,
        *,
        required: bool = False,
        table_valued: bool = False,
    ) -> Any:
        self._known.setdefault(key)
        if key not in self._data:
            if required:
                raise self._fail(_key(key), "is required", table_valued=table_valued)
            return _ABSENT
        value = self._data.pop(key)
        if not _is(value, kind):
            raise self._fail(_key(key), self._wrong(expected, value), table_valued=table_valued)
        return value

    def _array(self, key: str, kind: type, item: str, expected: str, allow_single: bool) -> list[Any]:
        value = self._take(key, object, expected)
        if value is _ABSENT:
            return []
        if allow_single and _is(value, kind):
            return [value]
        if not isinstance(value, list):
            raise self._fail(_key(key), self._wrong(expected, value))
        for index, element in enumerate(value):
            if not _is(element, kind):
                raise self._fail(f"{_key(key)}[{index}]", self._wrong(item, element))
        return value

    def _child(self, data: Mapping[str, Any], where: str) -> Table:
        return Table(data, source=self._source, where=where, style=self._style)

    def _join(self, suffix: str) -> str:
        return f"{self._where}.{suffix}" if self._where else suffix

    def _locate(self, suffix: str, *, table_valued: bool = False) -> str:
        if self._style is Style.PATH:
            return self._join(suffix)
        if table_valued:
            return f"[{self._join(suffix)}]"
        return f"[{self._where}] {suffix}" if self._where else suffix

    def _wrong(self, expected: str, value: object) -> str:
        if self._style is Style.PATH:
            return f"expected {expected}, got {_describe(value)}"
        return f"must be {expected}, not {_describe(value)}"

    def _fail(self, suffix: str, predicate: str, *, table_valued: bool = False) -> TomlError:
        place = self._locate(suffix, table_valued=table_valued)
        separator = ": " if self._style is Style.PATH else " "
        return TomlError(self._source, f"{place}{separator}{predicate}")

    def _unknown_value(self, key: str, value: str, choices: Sequence[str]) -> TomlError:
        listed = ", ".join(repr(choice) for choice in choices)
        return self.error(key, f"unknown value {value!r}{did_you_mean(value, choices)}; expected one of {listed}")


class _Absent:
    """The marker for a key the table does not have."""


_ABSENT = _Absent()


def _is(value: object, kind: type) -> bool:
    """``isinstance``, except that a boolean is not an integer."""
    if isinstance(value, bool) and kind is not bool and kind is not object:
        return False
    return isinstance(value, kind)


def _key(key: str) -> str:
    """A key as TOML would write it in a dotted key: bare when it can be, else quoted."""
    return key if re.fullmatch(_BARE_KEY, key) else json.dumps(key, ensure_ascii=False)


def _describe(value: object) -> str:
    """``a string``, ``an integer``, … for a decoded TOML value."""
    if isinstance(value, bool):
        return "a boolean"
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (str, "a string"),
    (int, "an integer"),
    (float, "a float"),
    (list, "a list"),
    (dict, "a table"),
    (dt.datetime, "a date-time"),  # before date: a datetime is a date
    (dt.date, "a date"),
    (dt.time, "a time"),
)


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
