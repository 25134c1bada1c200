"""Frozen record classes, for the figures every fetch builds: `@record` reads like
`@dataclass(frozen=True)` (mypy treats it as one, through `dataclass_transform`), without its
cost at import.

Why not dataclasses: they write each class's methods as source code and compile it, and pull
in `inspect`; over the twenty-odd classes of a fetch that was about half of a fresh answer's
import time (README, "Performance"). Here the methods are shared functions that read the
class's field list, made once from its annotations; no code is generated.

What a record has: an `__init__` taking the fields in order (positionally or by name, with
class-level defaults or `field(default_factory=...)`), `__eq__` and `__hash__` over the
fields, a dataclass-style `__repr__`, immutability, and `replace(record, **changes)`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
    C = TypeVar("C", bound=type)
else:

    def dataclass_transform(**_kwargs: object) -> object:
        return lambda function: function


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is made anew for each record (a list, a dict, another record)."""
    return _Factory(default_factory)  # type: ignore[return-value]


_MISSING = object()


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    names: tuple[str, ...] = cls.__record_fields__
    if len(args) > len(names):
        raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, {len(args)} given")
    values = dict(zip(names, args, strict=False))
    for name, value in kwargs.items():
        if name not in cls.__record_index__:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
        if name in values:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        values[name] = value
    if len(values) < len(names):
        defaults: dict[str, Any] = cls.__record_defaults__
        for name in names:
            if name not in values:
                default = defaults.get(name, _MISSING)
                if default is _MISSING:
                    raise TypeError(f"{cls.__name__}() missing argument {name!r}")
                values[name] = default.make() if isinstance(default, _Factory) else default
    self.__dict__.update(values)


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(self.__dict__[name] for name in type(self).__record_fields__)


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash((type(self), _values(self)))


def _repr(self: Any) -> str:
    cls = type(self)
    inner = ", ".join(f"{name}={self.__dict__[name]!r}" for name in cls.__record_fields__)
    return f"{cls.__qualname__}({inner})"


def _frozen(self: Any, name: str, value: object) -> None:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")


def _no_delete(self: Any, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: C) -> C:
    """Make `cls` a frozen record of its annotated fields (in the order written)."""
    # The class's own annotations, in the order written (not inherited ones: records do not
    # extend each other); their values are strings here, and only the names are needed.
    names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
    defaults = {}
    for name in names:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
            delattr(cls, name)  # the instance holds the value; no class attribute to shadow
    seen_default = False
    for name in names:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one")
    members: dict[str, object] = {
        "__record_fields__": names,
        "__record_index__": frozenset(names),
        "__record_defaults__": defaults,
        "__init__": _init,
        "__eq__": _eq,
        "__hash__": _hash,
        "__repr__": _repr,
        "__setattr__": _frozen,
        "__delattr__": _no_delete,
    }
    for name, member in members.items():
        setattr(cls, name, member)
    return cls


def fields(obj: object) -> tuple[str, ...]:
    names: tuple[str, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    return names


def is_record(obj: object) -> bool:
    return hasattr(type(obj), "__record_fields__")


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record with some fields changed (dataclasses.replace, for records)."""
    cls = type(obj)
    values = {name: obj.__dict__[name] for name in cls.__record_fields__}  # type: ignore[attr-defined]
    for name in changes:
        if name not in values:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    values.update(changes)
    return cls(**values)
