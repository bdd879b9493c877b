"""Bodies of kd models and blocks from a list of steps: statements, chains
and the variables between them.

A `Step` is one call in the order it is written: a layer made and applied,
a bound (shared) instance applied, a merge helper, an operator, a block
call or a loop of block calls.  Consecutive steps where each reads only the
one tensor the previous gave become one chain (`x = x -> A -> B`); the
main path keeps the name `x`.
"""

from __future__ import annotations

import keyword
from ..records import field, record
from functools import lru_cache
from typing import Any, Optional

from .. import catalog as kcat
from ..check.auto_names import snake_case
from ..syntax import tree as n
from .graph import collect_refs, is_ref
from .values import KdDict, KdList, Obj

KD_KEYWORDS = frozenset(
    "model block output return for in if else import from and or not True False None".split())
_BUILTINS = frozenset("range len str int float min max abs Input compile ops keras layers".split())


@lru_cache(maxsize=1)
def global_names() -> frozenset:
    """Names a body may not bind without hiding something it may call."""
    cat = kcat.load()
    return frozenset(cat.layer_names()) | frozenset(cat.merge_helper_names()) | frozenset(
        cat.application_names()) | _BUILTINS | KD_KEYWORDS


def identifier(text: str, fallback: str = "t") -> str:
    """TEXT made into an identifier (`conv1/relu` -> `conv1_relu`)."""
    out = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_" for c in text).strip("_")
    if not out:
        return fallback
    return out if not out[0].isdigit() else f"{fallback}{out}"


class Namer:
    """Allocates the variable names of one body."""

    def __init__(self, taken=()):
        self.reserved = set(global_names()) | set(taken)
        self.used: set = set()

    def free(self, name: str) -> bool:
        return name.isascii() and name.isidentifier() and name not in self.reserved and name not in self.used \
            and not keyword.iskeyword(name) and name not in KD_KEYWORDS

    def take(self, name: str) -> str:
        self.used.add(name)
        return name

    def fresh(self, hint: str) -> str:
        base = identifier(hint).lower()
        if self.free(base):
            return self.take(base)
        i = 1
        while not self.free(f"{base}{i}"):
            i += 1
        return self.take(f"{base}{i}")


# ------------------------------------------------------------- literals


def literal(value) -> Any:
    """A value as a kd expression (an expression passes through)."""
    if isinstance(value, (n.Name, n.Constant, n.BinOp, n.Call, n.TupleExpr, n.ListExpr, n.Subscript, n.UnaryOp,
                          n.DictExpr, n.Attribute)):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return n.Constant(value)
    if isinstance(value, (int, float)):
        if value < 0 or (isinstance(value, float) and str(value).startswith("-")):
            return n.UnaryOp("-", n.Constant(-value))
        return n.Constant(value)
    if isinstance(value, KdDict):
        return n.DictExpr([n.DictEntry(n.Constant(k), literal(v)) for k, v in value])
    if isinstance(value, KdList):
        return n.ListExpr([literal(v) for v in value])
    if isinstance(value, tuple):
        return n.TupleExpr([literal(v) for v in value])
    if isinstance(value, Obj):
        return n.Call(n.Name(value.callee), [literal(a) for a in value.args],
                      [n.Keyword(k, literal(v)) for k, v in value.kwargs])
    raise TypeError(f"no kd literal for {value!r}")


# ---------------------------------------------------------------- steps


@record(eq=False)
class Step:
    """One call written in a body.

    `form`: "make" (`Callee(ctor)(inputs)`), "helper" (`add(a, b, ctor)`),
    "arith" (`a + b`), "apply" (`bound(inputs)`: a shared instance),
    "block" (`blk(x, ctor)`), "loop" (`for ... { x = blk(x, ctor) }`).
    `inputs`/`call_kwargs` hold tensor references (and constants);
    `name_kw` is the `name=` argument, kept apart so that an output's
    binding can name the layer instead.
    """

    form: str
    callee: str
    ctor_args: list = field(default_factory=list)  # expressions
    ctor_kwargs: list = field(default_factory=list)  # (key, expression)
    name_kw: Any = None  # expression, or None
    inputs: list = field(default_factory=list)
    call_kwargs: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)  # TensorRef
    multi: bool = False  # gives a tuple
    keras_name: Optional[str] = None  # the layer's Keras name
    annotation: Any = None  # shape expression for the result
    loop_targets: list = field(default_factory=list)  # for "loop": names
    loop_iterable: Any = None
    source: Any = None  # the Construct of the layer it makes
    values: dict = field(default_factory=dict)  # for "block": parameter -> value passed

    def ctor_call(self, first=None) -> n.Call:
        args = ([first] if first is not None else []) + list(self.ctor_args)
        keywords = [n.Keyword(k, v) for k, v in self.ctor_kwargs]
        if self.name_kw is not None:
            keywords.append(n.Keyword("name", self.name_kw))
        return n.Call(n.Name(self.callee), args, keywords)

    def tensor_inputs(self) -> list:
        return collect_refs([self.inputs, list(self.call_kwargs.values())])

    @property
    def chainable(self) -> bool:
        """Whether the step can follow another in a chain (it reads one
        tensor, as its only argument)."""
        if self.form == "block":
            return len(self.inputs) == 1 and is_ref(self.inputs[0])
        return self.form in ("make", "apply") and len(self.inputs) == 1 and is_ref(self.inputs[0]) \
            and not self.call_kwargs


# ---------------------------------------------------------------- bodies


@record
class Body:
    """What `write_body` needs: the steps, the variables that hold tensors
    on entry, the tensors the body gives (outputs or returns) and how."""

    steps: list
    entry: dict  # TensorRef -> variable name
    results: list  # TensorRef, in order
    namer: Namer
    is_block: bool = False
    result_names: dict = field(default_factory=dict)  # for models: TensorRef -> output name
    bound: dict = field(default_factory=dict)  # step id -> statements binding a shared instance first


def write_body(body: Body) -> list:
    """The statements of BODY."""
    groups = _groups(body)
    readers = _readers(body, groups)
    env: dict = dict(body.entry)
    pinned = set(body.entry.values()) if not body.is_block else set()  # a model's inputs keep their names
    stmts: list = []
    for gi, group in enumerate(groups):
        last = group[-1]
        for step in group:
            stmts += body.bound.get(id(step), ())
        if last.form == "loop":
            stmts += _loop(body, last, gi, env, readers, pinned)
            continue
        final = last.outputs[0] if len(last.outputs) == 1 else None
        if body.is_block and gi == len(groups) - 1 and body.results == [final]:
            stmts.append(n.Return([_group_expr(group, env)]))
            continue
        target = _target(body, group, gi, env, readers, pinned)
        if (final in body.result_names and body.result_names[final] == target and last.form in ("make", "helper")
                and isinstance(last.name_kw, n.Constant) and last.name_kw.value == target):
            last.name_kw = None  # the output's binding names the layer
        value = _group_expr(group, env)
        if last.multi:
            stmts.append(n.Assign([n.Name(target)], value))
            for i, ref in enumerate(last.outputs):
                env[ref] = n.Subscript(n.Name(target), n.Constant(i))
        else:
            stmts.append(n.Assign([n.Name(target)], value, last.annotation))
            env[final] = target
    if body.is_block:
        if not stmts or not isinstance(stmts[-1], n.Return):
            stmts.append(n.Return([_tensor(env, r) for r in body.results]))
    else:
        stmts += _outputs(body, env, stmts)
    return stmts


def _loop(body: Body, step: Step, gi: int, env: dict, readers: dict, pinned: set) -> list:
    """A loop of block calls: `for i in ... { x = blk(x, ...) }`, on a
    variable of its own (copied first when the input must stay)."""
    source = step.inputs[0]
    name = env.get(source)
    out: list = []
    if not (isinstance(name, str) and name not in pinned and readers.get(source, -1) <= gi):
        name = _main_name(body, env, readers, gi) or body.namer.fresh("branch")
        out.append(n.Assign([n.Name(name)], _tensor(env, source)))
    inner = n.Assign([n.Name(name)], step.ctor_call(n.Name(name)))
    out.append(n.For([n.Name(t) for t in step.loop_targets], step.loop_iterable, n.Body([inner]),
                     unpack=len(step.loop_targets) > 1))
    env[step.outputs[0]] = name
    return out


def _main_name(body: Body, env: dict, readers: dict, gi: int) -> Optional[str]:
    """`x`, when no tensor still to be read holds it."""
    if any(v == "x" and readers.get(r, -1) > gi for r, v in env.items()):
        return None
    body.namer.used.add("x")
    return "x"


def _outputs(body: Body, env: dict, stmts: list) -> list:
    names = [env[r] for r in body.results]
    last = stmts[-1] if stmts else None
    if (len(names) == 1 and isinstance(last, n.Assign) and len(last.targets) == 1 and last.annotation is None
            and isinstance(names[0], str) and last.targets[0].id == names[0]
            and body.result_names.get(body.results[0]) == names[0]):
        stmts.pop()
        return [n.Output([n.Name(names[0])], last.value)]
    return [n.Output([n.Name(v) if isinstance(v, str) else v for v in names])]


def _groups(body: Body) -> list:
    readers: dict = {}
    for step in body.steps:
        for ref in step.tensor_inputs():
            readers.setdefault(ref, []).append(step)
    results = set(body.results)
    groups: list = []
    for step in body.steps:
        if groups and _follows(groups[-1][-1], step, readers, results):
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def _follows(last: Step, step: Step, readers: dict, results: set) -> bool:
    if last.form == "loop" or step.form == "loop" or last.multi or last.annotation is not None:
        return False
    if len(last.outputs) != 1 or not step.chainable:
        return False
    out = last.outputs[0]
    return step.inputs[0] == out and readers.get(out) == [step] and out not in results


def _readers(body: Body, groups: list) -> dict:
    """Tensor -> index of the last group that reads it (results: past the end)."""
    last: dict = {}
    for gi, group in enumerate(groups):
        for step in group:
            for ref in step.tensor_inputs():
                last[ref] = gi
    for ref in body.results:
        last[ref] = len(groups)
    return last


def _target(body: Body, group: list, gi: int, env: dict, readers: dict, pinned: set) -> str:
    """The variable a group's result is bound to: the output's name, else
    the variable it read when nothing reads that afterwards, else `x`, else
    a fresh one."""
    final = group[-1].outputs[0]
    wanted = body.result_names.get(final)
    if wanted is not None:
        return body.namer.take(wanted) if body.namer.free(wanted) else body.namer.fresh(wanted)
    sources = group[0].tensor_inputs()
    reusable = [env[r] for r in sources if isinstance(env.get(r), str) and env[r] not in pinned
                and readers.get(r, -1) <= gi and not any(v == env[r] and readers.get(q, -1) > gi for q, v in env.items())]
    if "x" in reusable:
        return "x"  # the main path keeps its name
    if reusable and (len(sources) == 1 or "x" not in pinned and _main_name(body, env, readers, gi) is None):
        return reusable[0]
    name = env.get(sources[0]) if sources else None
    if name in pinned and len(body.entry) > 1:  # one branch per input: named after it
        return body.namer.fresh(f"{name}_{_snake(group[-1])}")
    main = _main_name(body, env, readers, gi) if "x" not in pinned else None
    if main is not None:
        return main
    last = group[-1]
    named = last.keras_name and last.name_kw is not None and last.form in ("make", "helper")
    return body.namer.fresh(last.keras_name if named and not body.is_block else "branch")


def _snake(step: Step) -> str:
    """What a step makes, in a variable's name: `lstm`, `conv2d`."""
    return snake_case(step.source.callee if step.source is not None else step.callee)


def _tensor(env: dict, ref) -> Any:
    value = env[ref]
    return n.Name(value) if isinstance(value, str) else value


def _argument(env: dict, value) -> Any:
    """A call argument: tensors by their variables, lists of them, constants."""
    if is_ref(value):
        return _tensor(env, value)
    if isinstance(value, list):
        return n.ListExpr([_argument(env, v) for v in value])
    if isinstance(value, dict):
        return n.DictExpr([n.DictEntry(n.Constant(k), _argument(env, v)) for k, v in value.items()])
    if isinstance(value, tuple):
        return n.TupleExpr([_argument(env, v) for v in value])
    return literal(value)


def _applied(step: Step, env: dict) -> Any:
    """STEP applied to its inputs, as one expression."""
    if step.form == "arith":
        operands = [_argument(env, v) for v in step.inputs]
        if step.callee == "neg":
            return n.UnaryOp("-", operands[0])
        return n.BinOp(step.callee, operands[0], operands[1])
    if step.form == "helper":
        tensors = step.inputs[0] if len(step.inputs) == 1 and isinstance(step.inputs[0], list) else step.inputs
        call = step.ctor_call()
        call.args = [_argument(env, t) for t in tensors] + call.args
        return call
    if step.form == "block":
        call = step.ctor_call()
        call.args = [_argument(env, t) for t in step.inputs] + call.args
        return call
    args = [_argument(env, v) for v in step.inputs]
    keywords = [n.Keyword(k, _argument(env, v)) for k, v in step.call_kwargs.items()]
    func = n.Name(step.callee) if step.form == "apply" else step.ctor_call()
    return n.Call(func, args, keywords)


def _chain_element(step: Step) -> Any:
    if step.form == "apply":
        return n.Name(step.callee)
    return step.ctor_call()


def _group_expr(group: list, env: dict) -> Any:
    if len(group) == 1:
        return _applied(group[0], env)
    first = group[0]
    if first.chainable:
        steps = [_argument(env, first.inputs[0]), _chain_element(first)]
    else:
        steps = [_applied(first, env)]
    return n.Chain(steps + [_chain_element(s) for s in group[1:]])
