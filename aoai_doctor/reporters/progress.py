"""Live progress on a terminal while checks are in flight (stderr only, one redrawn line)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Mapping
from typing import TextIO

from aoai_doctor.model import Stage
from aoai_doctor.sanitize import sanitize

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """Redraws ``⠋ Credentials: AOAI201 0.4/15s AOAI206 0.4/15s … 1.2s [5/12]`` until stopped: each running
    check with its time so far and its time limit."""

    def __init__(self, stream: TextIO, total: int, unicode: bool = True, limits: Mapping[str, float] | None = None,
                 width: int | None = None, heading: str | None = None) -> None:
        """``heading`` names what is running when it is not checks (a fleet's "Targets"); without it the
        stage of the first running check does."""
        self._stream = stream
        self._total = total
        self._limits = dict(limits or {})
        self._width = width or shutil.get_terminal_size((80, 24)).columns  # the terminal's, unless told
        self._frames = _SPINNER if unicode else "|/-\\"
        self._running: dict[str, float] = {}
        self._done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._t0 = time.monotonic()
        self._heading = heading

    def expect(self, total: int) -> None:
        """How many there are to do, once known (a fleet's deployments, once Resource Manager listed them)."""
        with self._lock:
            self._total = total

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._stream.write("\r\x1b[2K")
        self._stream.flush()

    def update(self, check_id: str, event: str) -> None:
        """Runner callback: a check started or finished."""
        with self._lock:
            if event == "start":
                self._running[check_id] = time.monotonic()
            else:
                self._running.pop(check_id, None)
                self._done += 1

    def _loop(self) -> None:
        frame = 0
        while not self._stop.wait(0.1):
            with self._lock:
                running = sorted(self._running.items())
                done, total = self._done, self._total
            now = time.monotonic()
            stage = self._heading or (Stage.of(running[0][0]).title if running else "Finishing")
            elapsed = now - self._t0
            names = " ".join(f"{cid} {now - since:.1f}/{self._limits[cid]:.0f}s" if cid in self._limits else cid
                             for cid, since in running[:3]) + (" …" if len(running) > 3 else "")
            line = f"{self._frames[frame % len(self._frames)]} {stage}: {names} {elapsed:.1f}s [{done}/{total}]"
            self._stream.write("\r\x1b[2K" + sanitize(line).replace("\n", " ").replace("\t", " ")[: self._width - 1])
            self._stream.flush()
            frame += 1
