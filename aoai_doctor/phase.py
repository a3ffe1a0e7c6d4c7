"""What each check is doing right now, so a run that hits its deadline can say where each one was.

A check's thread (and the services it calls) write a short phase ("asking AzureCliCredential for a token",
"TLS handshake with r.openai.azure.com:443"); the runner reads the phase of a check it gives up on. One
dictionary keyed by thread name, written and read under a lock: no I/O, nothing to configure.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()
_NOW: dict[str, str] = {}


def enter(text: str) -> None:
    """This thread is now doing ``text``."""
    with _LOCK:
        _NOW[threading.current_thread().name] = text


@contextlib.contextmanager
def doing(text: str) -> Iterator[None]:
    """``text`` for the block, then back to what the thread was doing before."""
    name = threading.current_thread().name
    with _LOCK:
        before = _NOW.get(name)
        _NOW[name] = text
    try:
        yield
    finally:
        with _LOCK:
            if before is None:
                _NOW.pop(name, None)
            else:
                _NOW[name] = before


def of(thread_name: str) -> str | None:
    """What the thread of that name was last doing."""
    with _LOCK:
        return _NOW.get(thread_name)
