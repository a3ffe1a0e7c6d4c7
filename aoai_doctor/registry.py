"""Finding checks (entry points and checks.toml ``module:Class`` names), picking them with
select/ignore, and ordering them by what they require.

:func:`load` imports every check, for a run. :func:`catalog` describes them for ``aoai-doctor checks``
and ``explain <ID>`` without importing the built-in ones: their metadata is read from ``catalog.json``,
which ``python -m aoai_doctor.docgen`` writes from the classes (and the tests fail when it is stale);
plugins, from other packages or checks.toml, are imported as in a run.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aoai_doctor.check import COMMON_CHECK_OPTIONS, ID_PATTERN, NAME_PATTERN, Check, doc_page
from aoai_doctor.config_files import ConfigError
from aoai_doctor.model import Stage
from aoai_doctor.record import record
from aoai_doctor.strict_toml import did_you_mean

if TYPE_CHECKING:
    from aoai_doctor.options import Options

GROUP = "aoai_doctor.checks"
CATALOG = Path(__file__).with_name("catalog.json")
"""The built-in checks' metadata, generated from their classes."""
REGENERATE = "python -m aoai_doctor.docgen"
"""The command that rewrites :data:`CATALOG` (and the docs pages)."""


@record
class LoadError:
    """A plugin that could not be loaded; the run reports it and goes on."""

    name: str
    """Entry-point or ``module:Class`` name."""
    problem: str


@record
class Registry:
    """All known checks, by id, in pipeline order."""

    checks: tuple[type[Check], ...]
    errors: tuple[LoadError, ...] = ()

    def by_id(self) -> dict[str, type[Check]]:
        """Checks keyed by id."""
        return {c.id: c for c in self.checks}


@record
class CheckInfo:
    """What is known about a check without running it: its class attributes and documentation page."""

    id: str
    name: str
    summary: str
    stage: Stage
    requires: tuple[str, ...]
    uses: tuple[str, ...]
    required: bool
    timeout: float
    options: Mapping[str, object]
    binds: Mapping[str, str]
    origin: str
    """``module:Class`` of the check class."""
    doc: str
    """The documentation page (:func:`aoai_doctor.check.doc_page`)."""

    @classmethod
    def of(cls, check: type[Check]) -> CheckInfo:
        """Read it from the class."""
        return cls(id=check.id, name=check.name, summary=check.summary, stage=Stage.of(check.id),
                   requires=tuple(check.requires), uses=tuple(check.uses), required=check.required,
                   timeout=check.timeout, options=dict(check.options), binds=dict(check.binds),
                   origin=_qualname(check), doc=doc_page(check))

    def to_json(self) -> dict[str, Any]:
        """The catalog entry."""
        return {"id": self.id, "name": self.name, "summary": self.summary, "stage": self.stage.name.lower(),
                "requires": list(self.requires), "uses": list(self.uses), "required": self.required,
                "timeout": self.timeout, "options": dict(self.options), "binds": dict(self.binds),
                "origin": self.origin, "doc": self.doc}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckInfo:
        """Read a catalog entry (see :meth:`to_json`)."""
        return cls(id=data["id"], name=data["name"], summary=data["summary"], stage=Stage[data["stage"].upper()],
                   requires=tuple(data["requires"]), uses=tuple(data["uses"]), required=data["required"],
                   timeout=data["timeout"], options=data["options"], binds=data["binds"], origin=data["origin"],
                   doc=data["doc"])


@record
class Catalog:
    """Every known check described, by id, in pipeline order (what :func:`load` would find)."""

    checks: tuple[CheckInfo, ...]
    errors: tuple[LoadError, ...] = ()

    def by_id(self) -> dict[str, CheckInfo]:
        """Checks keyed by id."""
        return {c.id: c for c in self.checks}


def load(local: Sequence[str] = (), base_dir: Path | None = None) -> Registry:
    """Load every check from the entry-point group plus ``module:Class`` names from checks.toml."""
    found, errors = _collect(local, base_dir, {})
    return Registry(tuple(c for c in found if isinstance(c, type)), errors)


def catalog(local: Sequence[str] = (), base_dir: Path | None = None) -> Catalog:
    """Describe the checks :func:`load` would find, importing only those missing from :data:`CATALOG`
    (plugins, and a built-in check added since the catalog was written)."""
    found, errors = _collect(local, base_dir, builtin_catalog())
    return Catalog(tuple(c if isinstance(c, CheckInfo) else CheckInfo.of(c) for c in found), errors)


def builtin_catalog() -> dict[str, CheckInfo]:
    """The entries of :data:`CATALOG` keyed by their entry point (``ID = module:Class``); empty when the
    file cannot be read, so that everything is imported instead."""
    try:
        data = json.loads(CATALOG.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    infos = (CheckInfo.from_json(entry) for entry in data["checks"])
    return {f"{info.id} = {info.origin}": info for info in infos}


def catalog_text(checks: Iterable[type[Check]]) -> str:
    """The text of :data:`CATALOG` for these checks."""
    return json.dumps({"generated": f"by {REGENERATE} from the check classes; do not edit",
                       "checks": [CheckInfo.of(c).to_json() for c in checks]}, indent=1, ensure_ascii=False) + "\n"


def _collect(local: Sequence[str], base_dir: Path | None, known: Mapping[str, CheckInfo]
             ) -> tuple[list[type[Check] | CheckInfo], tuple[LoadError, ...]]:
    """The checks in pipeline order, one per id, and what could not be loaded. An entry point found in
    ``known`` is described from there instead of imported."""
    found: list[type[Check] | CheckInfo] = []
    errors: list[LoadError] = []
    for ep in entry_points(group=GROUP):
        origin = f"{ep.name} = {ep.value}"
        info = known.get(origin)
        if info is not None:
            found.append(info)
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not stop the doctor
            errors.append(LoadError(origin, f"{type(exc).__name__}: {exc}"))
            continue
        claimed = getattr(obj, "id", None)
        if isinstance(obj, type) and issubclass(obj, Check) and isinstance(claimed, str) and claimed != ep.name:
            errors.append(LoadError(origin, f"the entry point is named {ep.name} but the class's id is {claimed}; "
                                    "name the entry point after the check id"))
            continue
        _accept(obj, origin, found, errors)
    for spec in local:
        obj_or_error = _import_local(spec, base_dir)
        if isinstance(obj_or_error, LoadError):
            errors.append(obj_or_error)
        else:
            _accept(obj_or_error, spec, found, errors)
    unique: dict[str, type[Check] | CheckInfo] = {}
    # A built-in check keeps its id whatever order the entry points come in; a plugin claiming it is refused.
    found.sort(key=lambda c: not _origin(c).startswith("aoai_doctor."))
    for check in found:
        if check.id in unique and _origin(unique[check.id]) != _origin(check):
            errors.append(LoadError(check.id, f"id {check.id} is claimed by both "
                                    f"{_origin(unique[check.id])} and {_origin(check)}"))
            continue
        unique[check.id] = check
    ordered = sorted(unique.values(), key=lambda c: (Stage.of(c.id), c.id))
    return ordered, tuple(errors)


def _origin(check: type[Check] | CheckInfo) -> str:
    return check.origin if isinstance(check, CheckInfo) else _qualname(check)


def _accept(obj: object, origin: str, found: list[type[Check] | CheckInfo], errors: list[LoadError]
            ) -> None:
    if not (isinstance(obj, type) and issubclass(obj, Check)):
        errors.append(LoadError(origin, "is not a subclass of aoai_doctor.check.Check"))
        return
    problem = validate(obj)
    if problem:
        errors.append(LoadError(origin, problem))
    else:
        found.append(obj)


def validate(check: type[Check]) -> str | None:
    """Why a check class cannot be used, or None."""
    check_id = getattr(check, "id", None)
    if not isinstance(check_id, str) or not ID_PATTERN.match(check_id):
        return f"id {check_id!r} is not a prefix of 2-8 capitals and three digits (like AOAI102)"
    name = getattr(check, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return f"name {name!r} is not kebab-case"
    if not isinstance(getattr(check, "summary", None), str):
        return "has no one-line summary"
    return None


def _import_local(spec: str, base_dir: Path | None) -> type[Check] | LoadError:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        return LoadError(spec, "expected 'module:Class'")
    if base_dir is not None and str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        return LoadError(spec, f"{type(exc).__name__}: {exc}")
    return obj  # type: ignore[no-any-return]


def _qualname(check: type[Check]) -> str:
    return f"{check.__module__}:{check.__qualname__}"


def matches(check_id: str, prefixes: Iterable[str]) -> bool:
    """Whether a check id is named by one of these ``--select`` prefixes (``ALL`` names every one)."""
    return any(p.upper() == "ALL" or check_id.startswith(p.upper()) for p in prefixes)


def select(registry: Registry, select: Iterable[str], ignore: Iterable[str]) -> tuple[type[Check], ...]:
    """The checks to run: those matching a ``select`` prefix (all when empty), plus whatever the chosen
    ones require or use, minus ``ignore`` prefixes (a check whose requirement is ignored is skipped
    with that reason). Unknown prefixes raise :class:`ConfigError`."""
    ids = [c.id for c in registry.checks]
    select, ignore = list(select), list(ignore)
    for prefix in (*select, *ignore):
        if prefix.upper() != "ALL" and not any(i.startswith(prefix.upper()) for i in ids):
            raise ConfigError("selection", f"no check id starts with '{prefix}'{did_you_mean(prefix, ids)}")
    chosen = {
        i for i in ids
        if (not select or any(p.upper() == "ALL" or i.startswith(p.upper()) for p in select))
        and not any(i.startswith(p.upper()) for p in ignore)
    }
    by_id = registry.by_id()
    ignored = {i for i in ids if any(i.startswith(p.upper()) for p in ignore)}
    pending = list(chosen)
    while pending:
        check = by_id[pending.pop()]
        for dep in (*check.requires, *check.uses):
            if dep in by_id and dep not in chosen and dep not in ignored:
                chosen.add(dep)
                pending.append(dep)
    return tuple(c for c in registry.checks if c.id in chosen)


def check_options(checks: Sequence[type[Check]], registry: Registry,
                  configured: Mapping[str, Mapping[str, object]], source: str,
                  run: Options | None = None) -> dict[str, dict[str, object]]:
    """Each check's options: declared defaults, overlaid with ``[checks.<ID>]``, overlaid with the run
    options the check binds (``Check.binds``), then settled by the check. Unknown ids, unknown options
    and values of the wrong type raise :class:`ConfigError`."""
    known = registry.by_id()
    for check_id in configured:
        if check_id not in known:
            raise ConfigError(source, f"unknown check id [checks.{check_id}]{did_you_mean(check_id, list(known))}")
    out: dict[str, dict[str, object]] = {}
    for check in checks:
        defaults: dict[str, object] = {
            **COMMON_CHECK_OPTIONS, "required": check.required, "timeout": check.timeout, **check.options
        }
        merged = dict(defaults)
        for key, value in configured.get(check.id, {}).items():
            if key not in defaults:
                raise ConfigError(source, f"unknown option '{key}' in [checks.{check.id}]"
                                  f"{did_you_mean(key, list(defaults))}")
            expected = type(defaults[key])
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
                raise ConfigError(source, f"[checks.{check.id}] {key} must be {expected.__name__}, "
                                  f"not {type(value).__name__}")
            merged[key] = value
        for key, field_name in check.binds.items():
            given = getattr(run, field_name, None) if run is not None else None
            if given is not None:
                merged[key] = given
        bound = merged.get("bound")
        if isinstance(bound, float) and float(merged["timeout"]) < bound + 10:  # type: ignore[arg-type]
            merged["timeout"] = bound + 10  # the runner's deadline must leave the bound room
        check.settle_options(merged)
        out[check.id] = merged
    return out
