"""``@record``: a frozen, slotted dataclass that is cheap to create.

``@dataclass(frozen=True, slots=True)`` writes six methods of each class as Python source and compiles them
when the class is created: about 3.7 M instructions a class, which was half of what importing the doctor
cost. A record is the same dataclass (``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass``
see it as one) made with nothing to compile up front: ``__repr__``, ``__eq__``, ``__hash__`` and the frozen
``__setattr__`` and ``__delattr__`` are functions shared by every record, and ``__init__`` is one function
that reads the class's fields (one or two microseconds more a call; a run makes a few hundred records).

Supported: fields with a default or a ``default_factory``, and ``field(repr=..., compare=..., hash=...)``.
Anything else a dataclass can do (``__post_init__``, ``InitVar``, ``init=False`` fields, ``kw_only``, a
``__repr__`` or ``__eq__`` of the class's own) is refused when the class is defined, not silently ignored.
Unlike a frozen dataclass without slots, a record has no ``__dict__`` and cannot be weakly referenced; unlike
a dataclass on Python 3.13 and later, it compares its fields as one tuple (so a value, NaN too, is equal to
itself, as on 3.12 and before).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import sys
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast

T = TypeVar("T")

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - the decorator only informs type checkers

    def dataclass_transform(**_: object) -> Callable[[T], T]:
        return lambda decorated: decorated


_INITVAR = getattr(dataclasses, "_FIELD_INITVAR", None)
"""How dataclasses marks an ``InitVar`` pseudo-field (``Field._field_type``; the same on 3.10 to 3.13)."""

_SHARED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__getstate__",
           "__setstate__")
"""What every record has from this module; a class that writes its own is refused, not overridden."""


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, slotted dataclass whose methods are shared."""
    own = [name for name in _SHARED if name in vars(cls)]
    if own or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__}: a record has no {(own or ['__post_init__'])[0]} of its own; "
                        "use a dataclass")
    # Its fields read, nothing compiled or added; frozen as its dataclass bases must be (another record, or a
    # frozen dataclass: a mutable one is refused, as a frozen dataclass refuses it).
    frozen = any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])
    dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=frozen)
    fields = dataclasses.fields(cast(Any, cls))
    for f in fields:
        if not f.init or f.kw_only is True:
            raise TypeError(f"{cls.__qualname__}.{f.name}: a record's fields are all positional __init__ arguments")
    for name, f in vars(cls)["__dataclass_fields__"].items():  # fields() leaves out ClassVar and InitVar
        if getattr(f, "_field_type", None) is _INITVAR:
            raise TypeError(f"{cls.__qualname__}.{name}: a record has no InitVar; use a dataclass")
    _check_order(cls, fields)
    names = tuple(f.name for f in fields)
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    inherited = {slot for base in cls.__mro__[1:-1] for slot in _slots(base)}
    # What dataclasses and dataclass subclasses read: a frozen dataclass with its methods (the copy made
    # above says none, as asked of it).
    params = copy.copy(vars(cls)["__dataclass_params__"])
    for flag in ("init", "repr", "eq", "frozen", "slots"):
        if hasattr(params, flag):  # (slots: Python 3.12 and later)
            setattr(params, flag, True)
    # The class made again with slots (as dataclass(slots=True) does) and the shared methods in it from the
    # start: each set on a made class would have the interpreter update its type slots.
    namespace = {key: value for key, value in vars(cls).items()
                 if key not in names and key not in ("__dict__", "__weakref__")}
    namespace.update({
        "__slots__": tuple(name for name in names if name not in inherited),
        "__dataclass_params__": params,
        "_record_names": names,
        "_record_shown": tuple(f.name for f in fields if f.repr),
        "_record_compared": _key(compared),
        "_record_hashed": _key(hashed),
        "__repr__": _repr, "__eq__": _eq, "__hash__": _hash, "__setattr__": _setattr, "__delattr__": _delattr,
        "__getstate__": _getstate, "__setstate__": _setstate, "__init__": _init(cls.__qualname__, fields),
    })
    metaclass: Any = type(cls)
    made: type[T] = metaclass(cls.__name__, cls.__bases__, namespace)
    made.__qualname__ = cls.__qualname__
    return made


@functools.cache
def field_names(cls: type, init_only: bool = False) -> tuple[str, ...]:
    """The field names of a dataclass, record or not (only those ``__init__`` takes, with ``init_only``), read
    once a class: ``dataclasses.fields`` builds them anew on each call, and the report walks ask per value."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init or not init_only)


def _slots(cls: type) -> tuple[str, ...]:
    slots = vars(cls).get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _check_order(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    defaulted = ""
    for f in fields:
        if _has_default(f):
            defaulted = f.name
        elif defaulted:
            raise TypeError(f"{cls.__qualname__}: field {f.name!r} without a default follows {defaulted!r}")


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _key(names: tuple[str, ...]) -> Callable[[Any], Any] | None:
    """What reads the values an instance is compared or hashed by (an ``attrgetter``, which unlike a Python
    function does not become a method when kept on the class); None when there are none."""
    return attrgetter(*names) if names else None


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_shown)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self._record_compared
    return key is None or (key(self),) == (key(other),)  # as tuples: a value is equal to itself, NaN too


def _hash(self: Any) -> int:
    key = self._record_hashed
    return hash(() if key is None else key(self))


def _setattr(self: Any, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in self._record_names]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(self._record_names, state, strict=True):
        object.__setattr__(self, name, value)


def _init(owner: str, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """The ``__init__`` of a frozen dataclass, as one function rather than source compiled for each class:
    arguments by position, then by name, then each missing field's default (or a fresh one from its
    factory), each set with ``object.__setattr__``."""
    names = tuple(f.name for f in fields)
    places = {name: n for n, name in enumerate(names)}
    defaults: dict[str, tuple[Any, bool]] = {  # name: (the default, or its factory; whether a factory)
        f.name: (f.default, False) if f.default_factory is dataclasses.MISSING else (f.default_factory, True)
        for f in fields if _has_default(f)}
    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given > len(names):
            raise TypeError(f"{owner}() takes {len(names)} positional argument{'s' * (len(names) != 1)} but "
                            f"{given} {'was' if given == 1 else 'were'} given")
        for key in kwargs:
            if key not in places:
                raise TypeError(f"{owner}() got an unexpected keyword argument {key!r}")
            if places[key] < given:
                raise TypeError(f"{owner}() got multiple values for argument {key!r}")
        for name, value in zip(names, args, strict=False):  # names beyond the arguments: below
            setter(self, name, value)
        for name in names[given:]:
            if name in kwargs:
                value = kwargs[name]
            elif name in defaults:
                value, is_factory = defaults[name]
                if is_factory:
                    value = value()
            else:
                raise TypeError(f"{owner}() missing required argument: {name!r}")
            setter(self, name, value)

    __init__.__qualname__ = f"{owner}.__init__"
    return __init__
