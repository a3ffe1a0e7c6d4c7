"""Reading the ``.env`` files apps keep their settings in, as the app's own ``load_dotenv()`` reads them.

python-dotenv parses (it is what most samples load ``.env`` with, so the doctor reads the same values
the app gets, quotes, ``export`` prefixes, multi-line values and ``${VAR}`` expansion included). Nothing
here touches ``os.environ``: values are returned, never exported. :func:`load_app_environment` decides
which files to read and in what order, and merges them under the real environment.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from aoai_doctor.model import Setting
from aoai_doctor.record import record
from aoai_doctor.redaction import SECRET_VARS
from aoai_doctor.services.environment import IDENTITY_VARS
from aoai_doctor.strict_toml import did_you_mean

MAX_BYTES = 1024 * 1024
"""The largest ``.env`` file read: settings files are a few kilobytes."""

AZD_ENV_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A name azd accepts for an environment (letters, digits, '-', '_', '.'); also keeps paths out."""


class EnvFileError(Exception):
    """A file cannot be read as a ``.env`` file. ``str()`` names the problem, never a value."""

    def __init__(self, problem: str, label: str = "") -> None:
        super().__init__(problem)
        self.label = label


@record
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
    scope = ChainMap(dict(environ), values)  # python-dotenv's own order without override: the environment wins
    for binding in parse_stream(io.StringIO(text)):
        text_of = binding.original.string
        # python-dotenv counts a binding from the blank lines before it; the report names the line itself
        line = binding.original.line + text_of[:len(text_of) - len(text_of.lstrip())].count("\n")
        if binding.error:
            skipped.append(line)
            continue
        if binding.key is None or binding.value is None:
            continue
        values[binding.key] = "".join(atom.resolve(scope) for atom in parse_variables(binding.value))
        lines[binding.key] = line
    return EnvFile(label, values, lines, tuple(skipped))


@record
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
        if not re.match(AZD_ENV_NAME, named):
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
    if not isinstance(default, str) or not re.match(AZD_ENV_NAME, default):
        return AzdEnvironment(None, ".azure/config.json names no defaultEnvironment", available)
    return AzdEnvironment(default, ".azure/config.json defaultEnvironment", available)


@record
class AppEnvironment:
    """The environment the app's process would see: the real environment over the ``.env`` files it
    loads (``load_dotenv()`` never overrides a variable that is already set). The run diagnoses this
    mapping, so the credential checks see an ``AZURE_CLIENT_ID`` kept in ``.env`` as the app's
    ``DefaultAzureCredential`` does."""

    environ: Mapping[str, str]
    origins: Mapping[str, str] = field(default_factory=dict)
    """For each variable that came from a file: where, as ``.env:3``."""
    files: tuple[str, ...] = ()
    """The files read, highest precedence first."""
    notices: tuple[Setting, ...] = ()
    """Files present but not read, lines python-dotenv skips; see :attr:`Target.notices`."""
    secrets: tuple[str, ...] = ()
    """Secret values from the files (keys, client secrets, passwords), for redaction."""

    def label(self, name: str) -> str:
        """Where variable ``name`` came from: ``.env:3 NAME`` or ``env NAME``."""
        origin = self.origins.get(name)
        return f"{origin} {name}" if origin else f"env {name}"


DOTENV_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.tmpl")
_SECRET_NAME = r"(?i)KEY|SECRET|PASSWORD|PASSWD|TOKEN|CONNECTION_STRING|\bSAS\b|_SAS_"
_NOT_SECRET_NAME = r"(?i)(ENDPOINT|URL|URI|HOST|HEADER|FILE|PATH|NAME|VERSION|SCOPE)$"


def load_app_environment(env_files: tuple[Path, ...] | list[Path], read_cwd: bool, environ: Mapping[str, str],
                         cwd: Path | None = None) -> AppEnvironment:
    """Read the ``.env`` files and merge them under ``environ``. ``env_files`` (``--env-file``, a later
    file over an earlier one) replace the defaults; without them and with ``read_cwd``: azd's
    ``.azure/<env>/.env`` (the environment from ``AZURE_ENV_NAME`` or ``.azure/config.json``) over
    ``./.env``, as azd's templates load them (azure-search-openai-demo ``load_azd_env.py``). A named
    file that cannot be read raises :class:`EnvFileError`; a default one becomes a notice."""

    if not env_files and not read_cwd:
        return AppEnvironment(environ)
    folder = cwd or Path(os.getcwd())
    notices: list[Setting] = []
    found_files: list[EnvFile] = []  # lowest precedence first
    merged: dict[str, str] = {}

    def load(path: Path, label: str, explicit: bool) -> None:
        try:
            found = read(path, label, {**merged, **environ})
        except EnvFileError as exc:
            if explicit:
                raise EnvFileError(str(exc), label) from None
            notices.append(Setting(f"found {label} but did not read it: it {exc}", label))
            return
        found_files.append(found)
        merged.update(found.values)

    defaults = [".env", *(f".azure/{p.parent.name}/.env" for p in sorted(folder.glob(".azure/*/.env")))]
    if env_files:
        for path in env_files:
            load(path, str(path), explicit=True)
        given = {Path(p).resolve() for p in env_files}
        unread = [d for d in defaults if (folder / d).is_file() and (folder / d).resolve() not in given]
        if unread:
            notices.append(Setting(f"found {', '.join(unread)} but did not read it: --env-file names the files "
                                   "to read (add --env-file for each one the app loads)", "--env-file"))
    elif read_cwd:
        if (folder / ".env").exists():
            load(folder / ".env", ".env", explicit=False)
        azd = azd_environment(folder, environ)
        if azd.name is not None:
            label = f".azure/{azd.name}/.env"
            if (folder / label).exists():
                load(folder / label, label, explicit=False)
            elif (folder / ".azure").is_dir():
                notices.append(Setting(f"{azd.chosen_by} names the azd environment '{azd.name}', but {label} does "
                                       f"not exist{did_you_mean(azd.name, azd.available)}", azd.chosen_by))
        elif azd.available:
            names = ", ".join(f".azure/{n}/.env" for n in azd.available)
            notices.append(Setting(f"found {names} but did not read it: no azd environment is selected "
                                   f"({azd.chosen_by}); run azd env select {azd.available[0]}, or set "
                                   "AZURE_ENV_NAME", ".azure"))
        variants = sorted(p.name for p in folder.glob(".env.*") if p.is_file())
        if variants:
            why = ", ".join(f"{n} (a template)" if n.lower() in DOTENV_TEMPLATES else n for n in variants[:5])
            notices.append(Setting(f"found {why} but did not read it: load_dotenv() reads .env; name a file the app "
                                   "loads with --env-file", "."))
    for found in found_files:
        if found.skipped:
            lines = ", ".join(str(n) for n in found.skipped[:5])
            notices.append(Setting(f"{found.label} line{'s' * (len(found.skipped) > 1)} {lines}: not NAME=value, so "
                                   "python-dotenv skips it, and so does the app's load_dotenv()", found.label))
    origins: dict[str, str] = {}
    for found in found_files:
        for name in found.values:
            origins[name] = f"{found.label}:{found.lines[name]}"
    for name in environ:
        origins.pop(name, None)
    credential_vars = [n for n in IDENTITY_VARS if n in origins]
    if credential_vars:
        notices.append(Setting(f"{', '.join(credential_vars)} come from a file: the app's credential sees them only "
                               "if load_dotenv() runs before the credential is created",
                               origins[credential_vars[0]]))
    secrets = tuple(value for found in found_files for name, value in found.values.items()
                    if name in origins and (name in SECRET_VARS or (re.search(_SECRET_NAME, name)
                                                                     and not re.search(_NOT_SECRET_NAME, name))))
    return AppEnvironment({**merged, **environ}, origins, tuple(f.label for f in reversed(found_files)), tuple(notices),
                          secrets)
