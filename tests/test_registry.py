"""Loading checks, selecting them by id prefix, and validating their options."""

from __future__ import annotations

from pathlib import Path

import pytest

from aoai_doctor import registry
from aoai_doctor.check import Check
from aoai_doctor.config import ConfigError

BUILTIN = ("AOAI101", "AOAI102", "AOAI103", "AOAI104")


def test_builtins_load_through_the_entry_point_group_in_pipeline_order() -> None:
    reg = registry.load()
    ids = [c.id for c in reg.checks]
    assert [i for i in ids if i.startswith("AOAI")][: len(BUILTIN)] == list(BUILTIN)
    assert not reg.errors


def test_select_and_ignore_by_prefix() -> None:
    reg = registry.load()
    assert [c.id for c in registry.select(reg, ["AOAI1"], [])] == list(BUILTIN)
    assert [c.id for c in registry.select(reg, ["aoai10"], ["AOAI103"])] == ["AOAI101", "AOAI102", "AOAI104"]
    assert [c.id for c in registry.select(reg, ["AOAI102"], [])] == ["AOAI102"]


def test_unknown_prefix_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"no check id starts with 'AOAI1022' \(did you mean 'AOAI102'\?\)"):
        registry.select(registry.load(), ["AOAI1022"], [])


def test_selecting_a_check_pulls_in_what_it_requires() -> None:
    class Child(Check):
        id = "TEST901"
        name = "child"
        summary = "needs AOAI102"
        requires = ("AOAI102",)

    reg = registry.Registry((*registry.load().checks, Child))
    assert [c.id for c in registry.select(reg, ["TEST9"], [])] == ["AOAI102", "TEST901"]
    # an ignored requirement stays out (the runner then skips the dependant, saying why)
    assert [c.id for c in registry.select(reg, ["TEST9"], ["AOAI102"])] == ["TEST901"]


def test_options_are_validated() -> None:
    reg = registry.load()
    opts = registry.check_options(reg.checks, reg, {"AOAI104": {"required": False, "timeout": 3}}, "checks.toml")
    assert opts["AOAI104"] == {"required": False, "timeout": 3.0}
    with pytest.raises(ConfigError, match=r"unknown check id \[checks.AOAI105\] \(did you mean"):
        registry.check_options(reg.checks, reg, {"AOAI105": {}}, "checks.toml")
    unknown = r"unknown option 'requird' in \[checks.AOAI104\] \(did you mean 'required'\?\)"
    with pytest.raises(ConfigError, match=unknown):
        registry.check_options(reg.checks, reg, {"AOAI104": {"requird": False}}, "checks.toml")
    with pytest.raises(ConfigError, match=r"\[checks.AOAI104\] required must be bool, not str"):
        registry.check_options(reg.checks, reg, {"AOAI104": {"required": "no"}}, "checks.toml")


@pytest.mark.parametrize(("attrs", "problem"), [
    ({"id": "X1", "name": "ok-name", "summary": "s"}, "is not a prefix"),
    ({"id": "TEST101", "name": "Not_Kebab", "summary": "s"}, "not kebab-case"),
    ({"id": "TEST101", "name": "fine"}, "no one-line summary"),
])
def test_invalid_check_classes_are_refused(attrs: dict[str, str], problem: str) -> None:
    cls = type("Bad", (Check,), attrs)
    assert problem in (registry.validate(cls) or "")


def test_local_module_class_from_checks_toml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "teamchecks.py").write_text(
        "from aoai_doctor.check import Check, Outcome, ok\n"
        "class Mine(Check):\n    id = 'TEAM101'\n    name = 'team-rule'\n    summary = 'a one-off rule'\n"
        "    def run(self, ctx):\n        return Outcome((ok('team rule holds'),))\n"
    )
    reg = registry.load(["teamchecks:Mine", "teamchecks:Missing", "nomodule"], tmp_path)
    assert "TEAM101" in reg.by_id()
    assert [e.name for e in reg.errors] == ["teamchecks:Missing", "nomodule"]


def test_catalog_describes_every_check_as_its_class_does() -> None:
    """`checks` and `explain <ID>` read catalog.json instead of importing the checks: what they read must be
    what the classes say (id, name, stage, requires, options, documentation page...)."""
    from_classes = [registry.CheckInfo.of(c) for c in registry.load().checks]
    from_catalog = list(registry.catalog().checks)
    assert [c.id for c in from_catalog] == [c.id for c in from_classes]
    for stored, actual in zip(from_catalog, from_classes, strict=True):
        assert stored == actual, f"{registry.CATALOG.name} is stale for {actual.id}: run {registry.REGENERATE}"


def test_catalog_file_is_the_generated_one() -> None:
    from aoai_doctor import docgen

    text = registry.catalog_text(docgen.builtin_checks())
    assert registry.CATALOG.read_text(encoding="utf-8") == text, f"run {registry.REGENERATE}"
    assert {info.id for info in registry.builtin_catalog().values()} == {c.id for c in docgen.builtin_checks()}


def test_without_the_catalog_every_check_is_imported_instead(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(registry, "CATALOG", tmp_path / "missing.json")
    assert registry.builtin_catalog() == {}
    assert registry.catalog().checks == tuple(registry.CheckInfo.of(c) for c in registry.load().checks)


def test_catalog_entry_is_used_only_for_the_entry_point_it_was_made_from(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A catalog entry whose class moved (another ``module:Class``) or was retired is not used: the installed
    entry point is imported, so a stale catalog never invents or misplaces a check."""
    import json

    data = json.loads(registry.CATALOG.read_text(encoding="utf-8"))
    moved = next(e for e in data["checks"] if e["id"] == "AOAI102")
    moved["origin"] = "aoai_doctor.checks.elsewhere:EndpointFormat"
    moved["summary"] = "stale"
    data["checks"].append({**moved, "id": "AOAI199", "name": "retired", "origin": "aoai_doctor.gone:Retired"})
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(registry, "CATALOG", path)
    infos = registry.catalog().by_id()
    assert "AOAI199" not in infos
    assert infos["AOAI102"].origin == "aoai_doctor.checks.target:EndpointFormat" and infos["AOAI102"].summary != "stale"


def test_catalog_lists_local_checks_from_checks_toml(tmp_path: Path) -> None:
    (tmp_path / "teamcatalog.py").write_text(
        "from aoai_doctor.check import Check, Outcome, ok\n"
        "class Mine(Check):\n    '''## What it detects\n    A team rule.\n    '''\n"
        "    id = 'TEAM102'\n    name = 'team-rule'\n    summary = 'a one-off rule'\n    requires = ('AOAI102',)\n"
        "    def run(self, ctx):\n        return Outcome((ok('team rule holds'),))\n"
    )
    cat = registry.catalog(["teamcatalog:Mine", "teamcatalog:Missing"], tmp_path)
    mine = cat.by_id()["TEAM102"]
    assert (mine.name, mine.stage.name, mine.requires, mine.origin) == (
        "team-rule", "PLUGIN", ("AOAI102",), "teamcatalog:Mine")
    assert "A team rule." in mine.doc
    assert [c.id for c in cat.checks][-1] == "TEAM102"
    assert [e.name for e in cat.errors] == ["teamcatalog:Missing"]
