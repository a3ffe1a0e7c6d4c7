"""Loading checks, selecting them by id prefix, and validating their options."""

from __future__ import annotations

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
