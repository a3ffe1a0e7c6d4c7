"""Text from outside made safe to print: no terminal control sequences, no control characters.

Every string in a report may have come from outside the process (a server's body or headers, a tool's
output, a file, an exception's message). Before any reporter writes it, :func:`sanitize` removes:

- escape sequences, 7-bit and 8-bit (ECMA-48): CSI (``ESC [`` or ``\\x9b`` … final byte), OSC
  (``ESC ]`` or ``\\x9d`` … ``BEL`` or ST, which sets a window title or writes a hyperlink), DCS, SOS,
  PM and APC strings (``ESC P``/``X``/``^``/``_`` … ST), and every other ``ESC`` + one character;
- then every C0 control but tab and newline, DEL and every C1 control (U+0080–U+009F).

Carriage returns become newlines (a bare ``\\r`` would let a line overwrite what was printed before it).
What is left is the visible text. A format that cannot carry newlines or tabs handles them itself.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aoai_doctor.record import field_names

# A control string (OSC, DCS, SOS, PM, APC) runs to BEL or ST (ESC \ or 0x9c); an unterminated one to the end.
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_OTHER = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_SEQUENCE = re.compile(f"{_STRING}|{_CSI}|{_OTHER}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

T = TypeVar("T")


def sanitize(text: str) -> str:
    """``text`` without escape sequences or control characters (tab and newline kept, CR made a newline)."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def sanitize_all(value: T) -> T:
    """``value`` with :func:`sanitize` applied to every string in it: dataclasses (such as a report),
    mappings (keys too), lists and tuples; enums and other values are kept as they are. What holds
    nothing to remove is returned as it is (the same object), so a clean report costs one walk."""
    return _walk(value)  # type: ignore[no-any-return]


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        clean = sanitize(value)
        return value if clean == value else clean
    if isinstance(value, (enum.Enum, int, float, type(None))):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in field_names(type(value), init_only=True):
            old = getattr(value, name)
            new = _walk(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    # A dict, list or tuple with nothing to clean is kept; any other mapping or sequence becomes a dict, a
    # tuple or a list as before, whatever it holds (its type must not depend on its content).
    if isinstance(value, Mapping):
        items = [(_walk(k), _walk(v)) for k, v in value.items()]
        if type(value) is dict and all(nk is k and nv is v for (nk, nv), (k, v) in zip(items, value.items(),
                                                                                        strict=True)):
            return value
        return dict(items)
    if isinstance(value, (tuple, list)):
        walked = [_walk(v) for v in value]
        if type(value) in (tuple, list) and all(new is old for new, old in zip(walked, value, strict=True)):
            return value
        return tuple(walked) if isinstance(value, tuple) else walked
    return value

