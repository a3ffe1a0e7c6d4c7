"""The strict TOML reader, on plain values."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aoai_doctor import strict_toml
from aoai_doctor.strict_toml import Style, Table, TomlError, TomlSyntaxError, did_you_mean


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


def doc(text: str, style: Style = Style.PATH) -> Table:
    return Table(strict_toml.parse(text, source="t.toml"), source="t.toml", style=style)


def message(action: Callable[[], Any]) -> str:
    with pytest.raises(TomlError) as caught:
        action()
    text = str(caught.value)
    assert "\n" not in text
    return text


# -- decoding -------------------------------------------------------------------------------------------


def test_parse_reads_text_and_utf8_bytes() -> None:
    assert strict_toml.parse('a = "é"\n', source="t.toml") == {"a": "é"}
    assert strict_toml.parse('a = "é"\n'.encode(), source="t.toml") == {"a": "é"}


def test_bad_toml_names_source_and_position() -> None:
    with pytest.raises(TomlSyntaxError) as caught:
        strict_toml.parse("[table\n", source="t.toml")
    err = caught.value
    assert err.source == "t.toml"
    assert err.problem.startswith("not valid TOML: ") and "line 1" in err.detail
    assert str(err) == f"t.toml: not valid TOML: {err.detail}"
    assert "\n" not in str(err)


def test_bytes_that_are_not_utf8_are_not_toml() -> None:
    with pytest.raises(TomlSyntaxError, match=r"t\.toml: not valid TOML: not UTF-8 \(invalid start byte at byte 5\)"):
        strict_toml.parse(b'a = "\xff"\n', source="t.toml")


def test_read_decodes_a_file(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[t]\nn = 1\n", encoding="utf-8")
    assert strict_toml.read(path, source="x.toml") == {"t": {"n": 1}}


@pytest.mark.parametrize("make", [lambda p: p / "absent.toml", lambda p: p])
def test_unreadable_file(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    with pytest.raises(TomlError) as caught:
        strict_toml.read(make(tmp_path), source="x.toml")
    assert not isinstance(caught.value, TomlSyntaxError)
    assert caught.value.source == "x.toml" and caught.value.problem.startswith("cannot read: ")


# -- unknown keys ---------------------------------------------------------------------------------------


def test_unknown_key_with_hint_in_a_nested_table() -> None:
    apps = doc('[[apps]]\nname = "a"\n[[apps.federated]]\nsubject = "s"\n[[apps.federated]]\nsubjct = "s"\n')
    app = apps.tables("apps")[0]
    assert app.text("name") == "a"
    first, second = app.tables("federated")
    assert second.where == "apps[0].federated[1]"
    assert first.text("subject") == "s"
    first.done()
    second.text("subject")
    assert message(second.done) == "t.toml: apps[0].federated[1].subjct: unknown key (did you mean 'subject'?)"


def test_unknown_key_without_a_close_match_has_no_hint() -> None:
    table = doc("zzz = 1\n")
    table.text("name")
    assert message(table.done) == "t.toml: zzz: unknown key"


def test_keys_that_are_not_bare_are_quoted_in_paths() -> None:
    table = doc('[t]\n"two words" = 1\n').table("t")
    assert message(table.done) == 't.toml: t."two words": unknown key'


def test_header_style_names_the_table() -> None:
    root = doc('tagret = 1\n[target]\nendpont = "x"\n', Style.HEADER)
    target = root.table("target")
    target.text("endpoint")
    assert message(target.done) == "t.toml: unknown key 'endpont' in [target] (did you mean 'endpoint'?)"
    assert message(root.done) == "t.toml: unknown key 'tagret' in the top level (did you mean 'target'?)"


def test_done_passes_when_every_key_was_read() -> None:
    table = doc('a = "x"\nb = true\n')
    assert (table.text("a"), table.flag("b")) == ("x", True)
    table.done()


# -- types ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "read", "expected"),
    [
        ('n = "3"\n', lambda t: t.integer("n", 0), "t.toml: n: expected an integer, got a string"),
        ("n = true\n", lambda t: t.integer("n", 0), "t.toml: n: expected an integer, got a boolean"),
        ("s = 3\n", lambda t: t.text("s"), "t.toml: s: expected a string, got an integer"),
        ('b = "yes"\n', lambda t: t.flag("b"), "t.toml: b: expected a boolean, got a string"),
        ("d = 2024-01-02\n", lambda t: t.text("d"), "t.toml: d: expected a string, got a date"),
        ('l = "x"\n', lambda t: t.strings("l"), "t.toml: l: expected a list of strings, got a string"),
        ('l = ["x", 2]\n', lambda t: t.strings("l"), "t.toml: l[1]: expected a string, got an integer"),
        ("l = [1, 2.5]\n", lambda t: t.integers("l"), "t.toml: l[1]: expected an integer, got a float"),
        ("t = 1\n", lambda t: t.table("t"), "t.toml: t: expected a table, got an integer"),
        ("t = [1]\n", lambda t: t.tables("t"), "t.toml: t[0]: expected a table, got an integer"),
        ("n = -1\n", lambda t: t.integer("n", 0, minimum=0), "t.toml: n: must be at least 0"),
    ],
)
def test_wrong_types_in_path_style(text: str, read: Callable[[Table], Any], expected: str) -> None:
    assert message(lambda: read(doc(text))) == expected


@pytest.mark.parametrize(
    ("text", "read", "expected"),
    [
        ("[target]\napi_version = 2024\n", lambda t: t.table("target").text("api_version"),
         "t.toml: [target] api_version must be a string, not an integer"),
        ("[run]\nselect = 3\n", lambda t: t.table("run").strings("select", allow_single=True),
         "t.toml: [run] select must be a list of strings, not an integer"),
        ("target = 3\n", lambda t: t.table("target"), "t.toml: [target] must be a table, not an integer"),
        ("[checks]\nA = 3\n", lambda t: t.table("checks").table("A"),
         "t.toml: [checks.A] must be a table, not an integer"),
        ("top = 1\n", lambda t: t.text("top"), "t.toml: top must be a string, not an integer"),
        ("", lambda t: t.table("target").text("x", required=True), "t.toml: [target] x is required"),
    ],
)
def test_wrong_types_in_header_style(text: str, read: Callable[[Table], Any], expected: str) -> None:
    assert message(lambda: read(doc(text, Style.HEADER))) == expected


def test_absent_keys_give_defaults() -> None:
    table = doc("")
    assert table.text("s") is None and table.text("s2", "d") == "d"
    assert table.flag("b") is False and table.flag("b2", True) is True
    assert table.integer("n", 7) == 7
    assert table.strings("l") == () and table.integers("i") == ()
    assert table.enum("c", Colour, Colour.RED) is Colour.RED
    assert table.choice("k", ("a", "b"), "a") == "a"
    assert table.tables("many") == ()
    assert table.table("one").unread_keys() == ()
    assert table.raw("r") is None
    table.done()


def test_required_keys() -> None:
    table = doc("[resource]\n")
    assert message(lambda: table.text("name", required=True)) == "t.toml: name: is required"
    assert message(lambda: table.table("client", required=True)) == "t.toml: client: is required"
    assert message(lambda: table.enum("kind", Colour)) == "t.toml: kind: is required"
    assert message(lambda: table.table("resource").choice("mode", ("a", "b"))) == "t.toml: resource.mode: is required"


def test_values_read() -> None:
    table = doc('s = "x"\nn = 3\nl = ["a"]\ni = [200, 401]\nc = "green"\nk = "b"\none = "single"\n')
    assert table.text("s", required=True) == "x"
    assert table.integer("n", 0, minimum=1) == 3
    assert table.strings("l") == ("a",)
    assert table.integers("i") == (200, 401)
    assert table.enum("c", Colour) is Colour.GREEN
    assert table.choice("k", ("a", "b")) == "b"
    assert table.strings("one", allow_single=True) == ("single",)
    table.done()


def test_unknown_enum_or_choice_value_lists_the_choices_with_a_hint() -> None:
    assert message(lambda: doc('c = "gren"\n').enum("c", Colour)) == (
        "t.toml: c: unknown value 'gren' (did you mean 'green'?); expected one of 'red', 'green'"
    )
    assert message(lambda: doc('k = "zz"\n').choice("k", ("valid", "expired"))) == (
        "t.toml: k: unknown value 'zz'; expected one of 'valid', 'expired'"
    )


# -- tables ---------------------------------------------------------------------------------------------


def test_entries_located_by_name() -> None:
    entries = doc('[[signature]]\nid = "aadsts-1"\n[[signature]]\nno_id = 1\n').tables("signature", name_key="id")
    assert [e.where for e in entries] == ['signature["aadsts-1"]', "signature[1]"]
    problem = str(entries[0].error("cause", "unknown cause 'x'"))
    assert problem == """t.toml: signature["aadsts-1"].cause: unknown cause 'x'"""


def test_keys_and_rest_for_tables_keyed_by_name() -> None:
    checks = doc("[checks.A]\nx = 1\n[checks.B]\n").table("checks")
    assert checks.unread_keys() == ("A", "B")
    assert {name: checks.table(name).rest() for name in checks.unread_keys()} == {"A": {"x": 1}, "B": {}}
    assert checks.unread_keys() == ()
    checks.done()


def test_raw_hands_back_any_value_and_counts_as_read() -> None:
    table = doc("when = 2024-01-02T03:04:05Z\n")
    assert table.raw("when").year == 2024
    table.done()


def test_errors_about_a_table_itself() -> None:
    root = doc("[t]\n")
    assert str(root.error(None, "empty document")) == "t.toml: empty document"
    assert str(root.table("t").error(None, "no match condition")) == "t.toml: t: no match condition"
    header = doc("[t]\n", Style.HEADER)
    assert str(header.table("t").error(None, "no match condition")) == "t.toml: [t]: no match condition"
    assert str(header.table("u").error("k", "bad")) == "t.toml: [u] k: bad"


def test_messages_stay_on_one_line() -> None:
    err = TomlError("t.toml", "first\nsecond")
    assert str(err) == "t.toml: first second" and err.problem == "first second"


# -- did you mean ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("endpont", ("endpoint", "deployment"), " (did you mean 'endpoint'?)"),
        ("aoai101", ["AOAI101", "AOAI102"], " (did you mean 'AOAI101'?)"),
        ("zzz", ("endpoint",), ""),
        ("x", (), ""),
    ],
)
def test_did_you_mean(word: str, choices: tuple[str, ...] | list[str], expected: str) -> None:
    assert did_you_mean(word, choices) == expected


def test_config_still_exports_did_you_mean() -> None:
    from aoai_doctor import config

    assert config.did_you_mean is did_you_mean
