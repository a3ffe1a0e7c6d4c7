"""``@record``: behaves as the frozen, slotted dataclass it replaces."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
from dataclasses import InitVar as Later
from dataclasses import field

import pytest

from aoai_doctor.record import record


@record
class Point:
    """Two coordinates and a label."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False)
    secret: str = field(default="", repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    """The same fields as a plain frozen dataclass, to compare against."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False)
    secret: str = field(default="", repr=False)


@record
class Empty:
    """No fields at all."""


def test_is_a_dataclass_that_the_dataclasses_module_understands() -> None:
    p = Point(1, tags=("a",))
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags", "notes", "secret"]
    assert dataclasses.asdict(p) == {"x": 1, "y": 0, "tags": ("a",), "notes": [], "secret": ""}
    assert dataclasses.replace(p, y=5) == Point(1, 5, ("a",))
    assert Point.__match_args__ == ("x", "y", "tags", "notes", "secret")
    assert vars(Point)["__slots__"] == ("x", "y", "tags", "notes", "secret")


def test_repr_eq_and_hash_match_the_dataclass() -> None:
    for args, kwargs in (((1,), {}), ((1, 2, ("a", "b")), {"secret": "s3cret"}), ((3,), {"notes": ["n"]})):
        mine, theirs = Point(*args, **kwargs), Reference(*args, **kwargs)
        assert repr(mine) == repr(theirs).replace("Reference", "Point")
        assert "s3cret" not in repr(mine)
    assert Point(1, notes=["a"]) == Point(1, notes=["b"])  # notes is compare=False
    assert hash(Point(1, notes=["a"])) == hash(Point(1, notes=["b"]))
    assert Point(1) != Point(2)
    assert Point(1) != Reference(1)  # type: ignore[comparison-overlap]  # another class is never equal
    assert len({Point(1), Point(1), Point(2)}) == 2
    assert Empty() == Empty()
    assert hash(Empty()) == hash(Empty())
    assert repr(Empty()) == "Empty()"


def test_frozen() -> None:
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]


def test_default_factory_makes_a_new_value_each_time() -> None:
    a, b = Point(1), Point(1)
    assert a.notes == [] and a.notes is not b.notes
    given = ["kept"]
    assert Point(1, notes=given).notes is given


def test_init_arguments_are_checked_like_a_dataclass() -> None:
    with pytest.raises(TypeError, match=r"missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'z'"):
        Point(1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"multiple values for argument 'x'"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"takes 5 positional arguments but 6 were given"):
        Point(1, 2, (), [], "", "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"takes 0 positional arguments but 1 was given"):
        Empty(1)  # type: ignore[call-arg]
    assert Point(y=2, x=1) == Point(1, 2)


def test_a_value_is_equal_to_itself_as_in_a_dataclass() -> None:
    @record
    class One:
        """A single field."""

        value: float

    nan = float("nan")
    assert One(nan) == One(nan)
    if sys.version_info < (3, 13):  # 3.13's dataclasses compare field by field
        assert Reference(nan) == Reference(nan)  # type: ignore[arg-type]
    assert One(1.0) != One(2.0)


def test_a_record_extends_a_record() -> None:
    @record
    class Labelled(Point):
        """Point's fields, then its own."""

        label: str = ""

    labelled = Labelled(1, 2, label="a")
    assert (labelled.x, labelled.y, labelled.label) == (1, 2, "a")
    assert [f.name for f in dataclasses.fields(Labelled)] == ["x", "y", "tags", "notes", "secret", "label"]
    assert labelled == Labelled(1, 2, label="a") and labelled != Labelled(1, 2, label="b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        labelled.label = "b"  # type: ignore[misc]

    @dataclasses.dataclass
    class Mutable:
        a: int = 0

    with pytest.raises(TypeError, match="frozen"):

        @record
        class OnMutable(Mutable):  # type: ignore[misc]
            b: int = 0


def test_dataclass_tools_see_a_frozen_dataclass() -> None:
    params = Point.__dataclass_params__  # type: ignore[attr-defined]
    assert (params.init, params.repr, params.eq, params.frozen) == (True, True, True, True)

    @dataclasses.dataclass(frozen=True)
    class Labelled(Point):
        """A frozen dataclass may extend a record, as it may a frozen dataclass."""

        label: str = ""

    labelled = Labelled(1, label="a")
    assert (labelled.x, labelled.label) == (1, "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        labelled.label = "b"  # type: ignore[misc]


def test_copy_and_pickle_round_trip() -> None:
    p = Point(1, 2, ("a",), ["n"], "s")
    for clone in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert clone == p and clone.notes == ["n"] and clone.secret == "s"


def test_refuses_what_it_does_not_do() -> None:
    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class WithPostInit:
            a: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="positional"):

        @record
        class WithHidden:
            a: int = field(init=False, default=0)

    with pytest.raises(TypeError, match="__repr__"):

        @record
        class OwnRepr:
            a: int

            def __repr__(self) -> str:
                return "mine"

    class Base:
        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class Inherited(Base):
            a: int

    with pytest.raises(TypeError, match="InitVar"):

        @record
        class WithInitVar:
            a: int
            b: dataclasses.InitVar[int]

    with pytest.raises(TypeError, match="InitVar"):

        @record
        class WithAliasedInitVar:
            a: int
            b: Later[int]  # dataclasses.InitVar under another name

    with pytest.raises(TypeError, match="without a default"):

        @record
        class OutOfOrder:
            a: int = 0
            b: int  # type: ignore[misc]
