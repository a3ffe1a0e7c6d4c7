"""The house rules of the package layout: no import cycles, no check module importing another, module
names that mean one thing, modules small enough to read."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "aoai_doctor"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The package modules a module imports, anywhere in it (lazy imports inside functions included)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from a import b" imports the module a.b when there is one, else the name b of module a.
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        for name in names:
            if name in known:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) - {name} for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_check_module_imports_another() -> None:
    """Checks share facts through aoai_doctor.facts; a subpackage (checks/credentials/) may share its own
    private helpers."""
    offenders = []
    for name, targets in graph().items():
        if not name.startswith("aoai_doctor.checks."):
            continue
        home = name.rsplit(".", 1)[0] if (PACKAGE.parent / name.replace(".", "/")).with_suffix(".py").exists() else name
        for target in targets:
            if target.startswith("aoai_doctor.checks.") and not target.startswith(home + "."):
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_module_names_mean_one_thing() -> None:
    stems = Counter(p.stem for p in PACKAGE.rglob("*.py") if p.stem != "__init__")
    twice = sorted(stem for stem, n in stems.items() if n > 1)
    assert len(twice) <= 2, twice


def test_modules_are_small_enough_to_read() -> None:
    big = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if "standin" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}


def test_check_ids_lead_to_their_module_in_one_hop() -> None:
    """Every built-in check id appears, as ``id = "AOAI…"``, in the module its entry point names."""
    from aoai_doctor import registry

    for check in registry.load().checks:
        if not check.__module__.startswith("aoai_doctor."):
            continue
        source = (PACKAGE.parent / check.__module__.replace(".", "/")).with_suffix(".py")
        assert f'id = "{check.id}"' in source.read_text(encoding="utf-8"), check.id
