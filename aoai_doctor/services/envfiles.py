"""Reading the ``.env`` files apps keep their settings in, as the app's own ``load_dotenv()`` reads them.

python-dotenv parses (it is what most samples load ``.env`` with, so the doctor reads the same values
the app gets, quotes, ``export`` prefixes, multi-line values and ``${VAR}`` expansion included). Nothing
here touches ``os.environ``: values are returned, never exported. Which files to read, and in what
order, is :mod:`aoai_doctor.config`'s business; this module only finds azd's environment and reads files.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 1024 * 1024
"""The largest ``.env`` file read: settings files are a few kilobytes."""

AZD_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""A name azd accepts for an environment (letters, digits, '-', '_', '.'); also keeps paths out."""


class EnvFileError(Exception):
    """A file cannot be read as a ``.env`` file. ``str()`` names the problem, never a value."""


@dataclass(frozen=True, slots=True)
class EnvFile:
    """One ``.env`` file as python-dotenv reads it."""

    label: str
    """How the report names the file: ``.env``, ``.azure/dev/.env``, or the path as given."""
    values: Mapping[str, str]
    """Each variable's value after ``${VAR}`` expansion; a bare ``NAME`` line (no ``=``) is left out, as
    ``load_dotenv()`` leaves it unset."""
    lines: Mapping[str, int]
    """The line each variable is set on (its last assignment: python-dotenv keeps the last)."""
    skipped: tuple[int, ...] = ()
    """Lines python-dotenv could not parse and skips (the app's ``load_dotenv()`` skips them too)."""


def read(path: Path, label: str, environ: Mapping[str, str]) -> EnvFile:
    """Read ``path`` as ``load_dotenv()`` would, expanding ``${VAR}`` against earlier lines and
    ``environ`` (the real environment wins, as with ``override=False``). Raises :class:`EnvFileError`."""
    from dotenv.parser import parse_stream
    from dotenv.variables import parse_variables

    try:
        if not path.is_file():
            raise EnvFileError("not a file" if path.exists() else "file not found")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise EnvFileError(f"is {size} bytes; a settings file is far smaller (at most {MAX_BYTES})")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EnvFileError(f"is not UTF-8 text (byte {exc.start + 1})") from None
    except OSError as exc:
        raise EnvFileError(f"cannot read: {exc.strerror or exc}") from None
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    skipped: list[int] = []
    for binding in parse_stream(io.StringIO(text)):
        text_of = binding.original.string
        # python-dotenv counts a binding from the blank lines before it; the report names the line itself
        line = binding.original.line + text_of[:len(text_of) - len(text_of.lstrip())].count("\n")
        if binding.error:
            skipped.append(line)
            continue
        if binding.key is None or binding.value is None:
            continue
        scope = {**values, **environ}  # python-dotenv's own order without override: the environment wins
        values[binding.key] = "".join(atom.resolve(scope) for atom in parse_variables(binding.value))
        lines[binding.key] = line
    return EnvFile(label, values, lines, tuple(skipped))


@dataclass(frozen=True, slots=True)
class AzdEnvironment:
    """The azd environment a folder selects, and how it was chosen."""

    name: str | None
    """None: no environment selected."""
    chosen_by: str
    """``AZURE_ENV_NAME`` or ``.azure/config.json defaultEnvironment``; why none, when ``name`` is None."""
    available: tuple[str, ...] = ()
    """Environments under ``.azure/`` that have a ``.env`` file."""


def azd_environment(cwd: Path, environ: Mapping[str, str]) -> AzdEnvironment:
    """The azd environment for ``cwd``: ``AZURE_ENV_NAME``, else ``.azure/config.json``'s
    ``defaultEnvironment`` (what ``azd env select`` writes). Never raises."""
    azure = cwd / ".azure"
    try:
        available = tuple(sorted(p.parent.name for p in azure.glob("*/.env") if p.is_file()))
    except OSError:
        available = ()
    named = environ.get("AZURE_ENV_NAME", "").strip()
    if named:
        if not AZD_ENV_NAME.match(named):
            return AzdEnvironment(None, "AZURE_ENV_NAME is not an azd environment name", available)
        return AzdEnvironment(named, "AZURE_ENV_NAME", available)
    config = azure / "config.json"
    if not config.is_file():
        return AzdEnvironment(None, "no AZURE_ENV_NAME and no .azure/config.json", available)
    try:
        if config.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        data = json.loads(config.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return AzdEnvironment(None, ".azure/config.json is not readable JSON", available)
    default = data.get("defaultEnvironment") if isinstance(data, dict) else None
    if not isinstance(default, str) or not AZD_ENV_NAME.match(default):
        return AzdEnvironment(None, ".azure/config.json names no defaultEnvironment", available)
    return AzdEnvironment(default, ".azure/config.json defaultEnvironment", available)
