"""The configuration files: ``checks.toml`` (with its ``[[targets]]`` tables), a file given with ``--targets``
and the samples-style ``config.json``, parsed and checked; and :class:`ConfigError`, which every configuration
source raises. :mod:`aoai_doctor.config` resolves a target from them and the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from aoai_doctor import strict_toml
from aoai_doctor.record import record
from aoai_doctor.strict_toml import did_you_mean

AUTH_MODES = ("entra", "api-key")
DEPLOYMENT_KINDS = ("chat", "completion", "embedding", "responses")

# The Azure OpenAI samples' config.json keys, and what each one means here.
CONFIG_JSON_KEYS: Mapping[str, str] = {
    "OPENAI_API_BASE": "endpoint",
    "OPENAI_API_VERSION": "api_version",
    "COMPLETIONS_MODEL": "deployment:completion",
    "CHAT_MODEL": "deployment:chat",
    "CHATGPT_MODEL": "deployment:chat",
    "EMBEDDING_MODEL": "deployment:embedding",
    "OPENAI_API_KEY": "api_key",
    "OPENAI_API_TYPE": "api_type",
}

TARGET_KEYS = ("endpoint", "deployment", "deployment_kind", "api_version", "auth", "scope", "expected_tenant")
FLEET_KEYS = (*TARGET_KEYS, "deployments")
"""Keys of a ``[[targets]]`` table: a target's keys, with ``deployments`` (a list) instead of one ``deployment``."""


class ConfigError(Exception):
    """A configuration source is malformed. ``str()`` is a one-line message naming the source."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@record
class ChecksFile:
    """The parsed ``checks.toml``."""

    path: Path | None
    target: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    check_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    local_checks: tuple[str, ...] = ()
    targets: tuple[FleetEntry, ...] = ()
    """The ``[[targets]]`` tables: a fleet to check in one run."""

    @property
    def label(self) -> str:
        """How messages name the file."""
        return self.path.name if self.path else "checks.toml"


@record
class FleetEntry:
    """One ``[[targets]]`` table: the values it gives (what it leaves out comes from the usual places) and the
    deployments it names, each checked as a target of its own."""

    values: Mapping[str, str]
    deployments: tuple[str, ...]
    source: str
    """Where it stands, as settings name their source: ``checks.toml:targets[2]``."""


def _fleet_entries(root: strict_toml.Table, label: str) -> tuple[FleetEntry, ...]:
    """The ``[[targets]]`` tables of a file; raises :class:`strict_toml.TomlError`."""
    entries = []
    for index, table in enumerate(root.tables("targets")):
        values = {key: value for key in TARGET_KEYS if key != "deployment" and (value := table.text(key)) is not None}
        one = table.text("deployment")
        listed = "deployments" in table.unread_keys()
        many = table.strings("deployments")
        if listed and not many:
            raise table.error("deployments", "is empty: name at least one deployment, or leave the key out")
        if one is not None and many:
            raise table.error("deployments", "give deployment or deployments, not both")
        if values.get("deployment_kind", "chat") not in DEPLOYMENT_KINDS:
            raise table.error("deployment_kind", f"must be one of {', '.join(DEPLOYMENT_KINDS)}")
        if values.get("auth", "entra") not in AUTH_MODES:
            raise table.error("auth", f"must be one of {', '.join(AUTH_MODES)}")
        table.done()
        entries.append(FleetEntry(values, (one,) if one is not None else many, f"{label}:targets[{index}]"))
    return tuple(entries)


def fleet_entries(tables: tuple[Mapping[str, object], ...], source: str) -> tuple[FleetEntry, ...]:
    """Target tables given as data (the library's ``diagnose(targets=[...])``), read as ``[[targets]]``."""
    try:
        return _fleet_entries(strict_toml.Table({"targets": list(tables)}, source=source), source)
    except strict_toml.TomlError as exc:
        raise ConfigError(exc.source, exc.problem) from None


def load_targets_file(path: Path) -> tuple[FleetEntry, ...]:
    """The ``[[targets]]`` tables of the file named by ``--targets`` (nothing else may be in it)."""
    if not path.is_file():
        raise ConfigError(str(path), "file not found")
    try:
        root = strict_toml.Table(strict_toml.read(path, source=path.name), source=path.name,
                                 style=strict_toml.Style.HEADER)
        entries = _fleet_entries(root, path.name)
        root.done()
    except strict_toml.TomlError as exc:
        raise ConfigError(exc.source, exc.problem) from None
    if not entries:
        raise ConfigError(path.name, "no [[targets]] tables: each names an endpoint and its deployments")
    return entries


@record
class ConfigJson:
    """The parsed samples-style ``config.json``."""

    path: Path
    values: Mapping[str, str]


def _unknown_key(source: str, key: str, where: str, known: tuple[str, ...] | list[str]) -> ConfigError:
    return ConfigError(source, f"unknown key '{key}' in {where}{did_you_mean(key, known)}")


def load_checks_file(path: Path | None, explicit: bool) -> ChecksFile:
    """Read ``checks.toml``. A missing file is fine unless it was named explicitly."""
    if path is None or not path.exists():
        if explicit and path is not None:
            raise ConfigError(str(path), "file not found")
        return ChecksFile(None)
    try:
        return _checks_file(path, strict_toml.read(path, source=path.name))
    except strict_toml.TomlError as exc:
        raise ConfigError(exc.source, exc.problem) from None


def _checks_file(path: Path, data: Mapping[str, Any]) -> ChecksFile:
    """Validate decoded ``checks.toml``; raises :class:`strict_toml.TomlError`."""
    root = strict_toml.Table(data, source=path.name, style=strict_toml.Style.HEADER)
    target_table = root.table("target")
    target = {key: value for key in TARGET_KEYS if (value := target_table.text(key)) is not None}
    target_table.done()
    run = root.table("run")
    select = run.strings("select", allow_single=True)
    ignore = run.strings("ignore", allow_single=True)
    run.done()
    plugins = root.table("plugins")
    local_checks = plugins.strings("checks", allow_single=True)
    plugins.done()
    checks = root.table("checks")
    options = {check_id: checks.table(check_id).rest() for check_id in checks.unread_keys()}
    targets = _fleet_entries(root, path.name)
    root.done()
    return ChecksFile(
        path=path,
        target=target,
        select=select,
        ignore=ignore,
        check_options=options,
        local_checks=local_checks,
        targets=targets,
    )


def load_config_json(path: Path) -> ConfigJson:
    """Read a samples-style ``config.json``; every key must be one the samples use."""
    label = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(label, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ConfigError(label, "nested too deeply to be a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(label, f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(label, f"expected a JSON object, found {type(data).__name__}")
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in CONFIG_JSON_KEYS:
            raise _unknown_key(label, key, "the object", tuple(CONFIG_JSON_KEYS))
        if not isinstance(value, str):
            raise ConfigError(label, f"{key} must be a string, not {type(value).__name__}")
        values[key] = value
    return ConfigJson(path, values)


def find_default(name: str, cwd: Path | None = None) -> Path | None:
    """``./<name>`` when it exists."""
    candidate = (cwd or Path(os.getcwd())) / name
    return candidate if candidate.is_file() else None
