"""dsl.records: the dataclass subset kdsl's nodes and values are made with."""

from __future__ import annotations

import pytest

from dsl.records import FrozenInstanceError, field, fields, record, replace


def test_a_record_takes_its_fields_with_defaults_and_factories():
    @record
    class Point:
        x: int
        y: int = 2
        tags: list = field(default_factory=list)

    a, b = Point(1), Point(1, y=3, tags=["t"])
    assert (a.x, a.y, a.tags, b.y, b.tags) == (1, 2, [], 3, ["t"])
    assert Point(1).tags is not a.tags  # a new list each time
    assert a == Point(1) and a != b and repr(a) == "test_a_record_takes_its_fields_with_defaults_and_factories.<locals>.Point(x=1, y=2, tags=[])"
    with pytest.raises(TypeError):
        Point()  # x has no default
    with pytest.raises(TypeError):
        Point(1, z=3)


def test_the_first_instance_compiles_the_init_once_and_later_ones_use_it():
    @record
    class Pair:
        a: int
        b: int = 0

    first = Pair.__init__
    assert Pair(1).b == 0
    compiled = Pair.__init__
    assert compiled is not first and compiled.__qualname__.endswith("Pair.__init__")
    assert Pair(2, 3).b == 3 and Pair.__init__ is compiled


def test_frozen_slots_and_hash():
    @record(frozen=True, slots=True)
    class Dim:
        size: int
        name: str = "d"

    d = Dim(3)
    assert hash(d) == hash(Dim(3)) and {d: 1}[Dim(3)] == 1
    with pytest.raises(FrozenInstanceError):
        d.size = 4
    assert not hasattr(d, "__dict__")
    assert replace(d, size=5) == Dim(5) and d.size == 3


def test_a_frozen_record_stores_its_slots_and_inherited_ones_and_the_rest():
    """A frozen __init__ stores slots through their setters, other fields
    through object.__setattr__; every kind ends up set, and still frozen."""

    @record(frozen=True, slots=True)
    class Base:
        a: int
        b: int = 2

    @record(frozen=True)
    class Child(Base):  # its own field in __dict__, the inherited ones in slots
        c: list = field(default_factory=list)

        def __post_init__(self):
            object.__setattr__(self, "seen", (self.a, self.b, tuple(self.c)))

    made = Child(1, c=[3])
    assert (made.a, made.b, made.c, made.seen) == (1, 2, [3], (1, 2, (3,)))
    assert "c" in made.__dict__ and "a" not in made.__dict__
    assert Child(5).b == 2 and Base(7, 8) == Base(7, 8) and Base(7, 8) != Base(7, 9)
    for name in ("a", "c"):
        with pytest.raises(FrozenInstanceError):
            setattr(made, name, 0)


def test_inheritance_post_init_and_a_plain_subclass_built_first():
    @record
    class Base:
        a: int
        seen: list = field(default_factory=list, compare=False)

        def __post_init__(self):
            self.seen.append("post")

    @record
    class Child(Base):
        b: int = 1

    class Plain(Base):  # not a record: it inherits Base's __init__
        pass

    p = Plain(7)  # the first build of Base goes through a subclass
    assert (p.a, p.seen) == (7, ["post"]) and isinstance(p, Base)
    c = Child(1, b=2)
    assert (c.a, c.b, c.seen) == (1, 2, ["post"])
    assert [f.name for f in fields(Child)] == ["a", "seen", "b"]
    assert Base(1, seen=["x"]) == Base(1)  # `seen` is not compared
