"""Records: the subset of `dataclasses` kdsl uses, made cheap to define.

Python 3.11's `@dataclass` compiles several methods per class with a
separate `exec` each, and `slots=True` builds the class twice; with some 80
records on the way to `kdsl check`, that was a third of its start-up.  A
`@record` class gets the same generated `__init__` (as fast to call as a
dataclass's, compiled when the first instance is built), and generic
`__repr__`, `__eq__` and `__hash__` shared by all records.  Supported: defaults, `field(default_factory=...)` (and
`compare=False`, `repr=False`), `eq`, `frozen`, `slots`, `__post_init__`,
inheritance from another record, `fields()` and `replace()`.
"""

from __future__ import annotations

from types import MemberDescriptorType

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    """One field of a record."""

    __slots__ = ("name", "default", "default_factory", "compare", "repr")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare=True, repr=True, hash=None):
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default=_MISSING, default_factory=_MISSING, compare: bool = True, hash=None, repr: bool = True) -> Field:
    """A field with a default factory, or left out of comparisons or of repr."""
    return Field(default, default_factory, compare, repr, hash)


def fields(cls_or_record) -> tuple:
    """The fields of a record class (or of a record), in order."""
    return cls_or_record.__record_fields__


def replace(obj, **changes):
    """A copy of the record OBJ with CHANGES."""
    values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}
    values.update(changes)
    return type(obj)(**values)


def _repr(self) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__ if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _key(self) -> tuple:
    return tuple(getattr(self, name) for name in self.__record_compared__)


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self) -> int:
    return hash(_key(self))


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _own_fields(cls) -> list:
    own = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.startswith("ClassVar"):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        own.append(spec)
    return own


def _slot_setter(cls, name: str):
    """The `__set__` of NAME's slot on CLS (or a base), or None when NAME
    is not a slot: a frozen record's __init__ stores through it, in two
    thirds of the time `object.__setattr__` takes to find the slot by name."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            return found.__set__ if isinstance(found, MemberDescriptorType) else None
    return None


def _init_source(all_fields: list, frozen: bool, post_init: bool, cls=None) -> tuple:
    """The source of __init__ and the names it needs (CLS, the record class,
    gives a frozen one its slots' setters)."""
    params, body, env = [], [], {"_MISSING": _MISSING}
    for f in all_fields:
        if f.default_factory is not _MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            value = f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}"
        elif f.default is not _MISSING:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
            value = f.name
        else:
            params.append(f.name)
            value = f.name
        setter = _slot_setter(cls, f.name) if frozen and cls is not None else None
        if setter is not None:
            env[f"_set_{f.name}"] = setter
            body.append(f"    _set_{f.name}(self, {value})")
        else:
            body.append(f"    _set(self, {f.name!r}, {value})" if frozen else f"    self.{f.name} = {value}")
    if post_init:
        body.append("    self.__post_init__()")
    env["_set"] = object.__setattr__
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    return source, env


def _first_init(made_class: list, all_fields: list, frozen: bool, post_init: bool):
    """A record's first __init__: it compiles the real one (one small
    function, as dataclasses makes), puts it on the class and calls it.
    Compiling costs about 40 us a record, and a run uses about half of
    the records it imports, so each is compiled when first built."""

    def __init__(self, *args, **kwargs):
        cls = made_class[0]
        source, env = _init_source(all_fields, frozen, post_init, cls)
        exec(source, env)
        real = env["__init__"]
        real.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = real
        real(self, *args, **kwargs)

    return __init__


def record(cls=None, /, *, eq: bool = True, frozen: bool = False, slots: bool = False):
    """Make CLS a record (as `@dataclass(eq=..., frozen=..., slots=...)` would)."""

    def wrap(cls):
        inherited = []
        for base in reversed(cls.__mro__[1:]):
            inherited.extend(getattr(base, "__record_own__", ()))
        own = _own_fields(cls)
        names = {f.name for f in own}
        all_fields = [f for f in inherited if f.name not in names] + own
        made_class: list = []  # the class, once made: the first __init__ call replaces itself on it
        namespace = {k: v for k, v in cls.__dict__.items() if k not in names and k not in ("__dict__", "__weakref__")}
        if slots:
            namespace["__slots__"] = tuple(f.name for f in own)
        namespace.update(__init__=_first_init(made_class, all_fields, frozen, hasattr(cls, "__post_init__")),
                         __record_fields__=tuple(all_fields), __record_own__=tuple(own),
                         __record_compared__=tuple(f.name for f in all_fields if f.compare),
                         __match_args__=tuple(f.name for f in all_fields))
        namespace["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
        if "__repr__" not in cls.__dict__:
            namespace["__repr__"] = _repr
        if eq and "__eq__" not in cls.__dict__:
            namespace["__eq__"] = _eq
            namespace["__hash__"] = _hash if frozen else None
        if frozen:
            namespace["__setattr__"] = _frozen_setattr
            namespace["__delattr__"] = _frozen_setattr
        made = type(cls)(cls.__name__, cls.__bases__, namespace)
        made.__qualname__ = cls.__qualname__
        made_class.append(made)
        return made

    return wrap if cls is None else wrap(cls)
