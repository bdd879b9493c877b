"""The code generator: a kd program -> the text of a Keras 3 Python module.

Structure-preserving: each block becomes a Python function, each model a
`build_NAME` (and `compile_NAME`) function, loops stay loops and `if`s stay
`if`s.  Expressions are translated into Python `ast` nodes and printed with
`ast.unparse`, so every identifier is a checked Python name and every
literal is quoted by Python itself.  This module prepares data; the Jinja
template in templates/ lays it out; `dsl.pyformat` runs black on the result.
"""

from __future__ import annotations

import ast
from ..records import field, record
from typing import Optional

from .. import codes, ops_catalog
from ..diagnostics import Diagnostic, KdError
from ..namespaces import compile_namespace_of, namespace_of
from ..semantics.layouts import layout_call, model_layout
from ..semantics.naming import input_statements, model_naming
from ..semantics.scope import (
    BUILTINS, AppRef, BuiltinRef, CustomRef, DefRef, InputRef, LayerRef, MergeRef, OpsRef, bindings,
    called_definitions, resolve_global, scope_of,
)
from ..syntax import tree as n
from .pynames import MODULE_RESERVED, Namespace, is_identifier

_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "//": ast.FloorDiv, "%": ast.Mod, "**": ast.Pow}
# The keras.ops function each tensor operator calls (KerasTensor.__sub__ is ops.subtract, ...).
_OPS_FOR = {"+": "add", "-": "subtract", "*": "multiply", "/": "true_divide"}
_CMPOPS = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


@record
class Line:
    indent: int
    text: str


@record
class PyFunction:
    signature: str
    docstring: Optional[str]
    body: list  # of Line


@record
class ModuleData:
    """What the module template lays out."""

    header: str
    imports: list  # lines such as "from my.layers import Gated"
    functions: list  # PyFunction
    custom_objects: str  # the CUSTOM_OBJECTS dict literal


# ------------------------------------------------------------------- helpers


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def attr(*parts: str) -> ast.expr:
    node: ast.expr = name(parts[0])
    for part in parts[1:]:
        node = ast.Attribute(value=node, attr=part, ctx=ast.Load())
    return node


def const(value) -> ast.Constant:
    return ast.Constant(value=value)


def unparse(node: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(node))


class _Order:
    """Where the generated Python would construct layers in another order
    than kd does.  Keras numbers automatic names (`dense`, `dense_1`) in the
    order objects are constructed, so the module must construct them in kd's
    order: `x -> A -> B` as `B()(A()(x))` would construct B first."""

    def __init__(self, file, scope):
        self.file, self.scope = file, scope

    def may_construct(self, e) -> bool:
        """Whether evaluating E may construct a layer or an operation
        (anything that takes an automatic name)."""
        return any(isinstance(node, (n.Call, n.Chain)) or (isinstance(node, (n.BinOp, n.UnaryOp, n.Subscript)) and _has_name(node))
                   for node in n.walk(e))

    def constructs_first(self, step) -> bool:
        """Whether chain STEP, written inline as `STEP(value)`, constructs
        something before the value is evaluated (a layer or model
        constructor; not a block call, which evaluates its arguments first,
        nor a bound instance)."""
        if not isinstance(step, n.Call):
            return False
        if isinstance(step.func, n.Name) and not self.scope.is_local(step.func.id):
            ref = resolve_global(self.file, step.func.id)
            return not (isinstance(ref, DefRef) and not ref.is_model)
        return True

    def chain_misorders(self, chain: n.Chain) -> bool:
        """Whether CHAIN written inline constructs out of kd's order: inline,
        the outermost step is constructed first."""
        source, steps = chain.steps[0], chain.steps[1:]
        constructing = int(self.may_construct(source)) + sum(self.constructs_first(s) for s in steps)
        return constructing > 1

    def lazy_constructs(self, e, ordering: bool = False) -> bool:
        """Whether E is a conditional expression or and/or that must become
        `if` statements: an operand holds a chain that cannot stay inline,
        or, when ORDERING (the statement already moves parts of itself into
        earlier statements), an operand constructs anything."""
        if ordering:
            return any(self.may_construct(op) for op in _lazy_operands(e))
        return any(self.chain_misorders(node) for op in _lazy_operands(e) for node in n.walk(op)
                   if isinstance(node, n.Chain))

    def moves(self, e) -> bool:
        """Whether E, as an operand, is moved (wholly or in part) into
        statements before the one that uses it."""
        return isinstance(e, n.Chain) or self.lazy_constructs(e) or self.hoists(e)

    def hoists(self, e) -> bool:
        """Whether translating E moves part of it into statements before it:
        a chain nested below its root, or a conditional that becomes `if`
        statements.  Then the calls before that part are hoisted too (see
        `_keep_order`).  Operands of a conditional that stays inline are lazy
        and hoist nothing."""
        stack = list(e.steps) if isinstance(e, n.Chain) else [e]
        while stack:
            node = stack.pop()
            if (node is not e and isinstance(node, n.Chain)) or self.lazy_constructs(node):
                return True
            if isinstance(node, n.IfExp):
                stack.append(node.test)
            elif isinstance(node, n.BoolOp):
                stack.append(node.values[0])
            else:
                stack.extend(n.children(node))
        return False


def _has_name(e) -> bool:
    return any(isinstance(node, n.Name) for node in n.walk(e))


def _lazy_operands(e) -> list:
    """The operands of a conditional expression or and/or that run only
    when chosen ([] for other nodes)."""
    if isinstance(e, n.IfExp):
        return [e.body, e.orelse]
    if isinstance(e, n.BoolOp):
        return e.values[1:]
    return []


def _is_none(e) -> bool:
    return isinstance(e, n.Constant) and e.value is None


def docstring_literal(text: str) -> str:
    """A triple-quoted docstring holding TEXT exactly, that cannot close
    itself early: backslashes and unprintable characters are escaped, and so
    is every quote that would make a run of three, or stand at either end.
    """
    out = []
    run = 0  # unescaped quotes just before this point
    for ch in text:
        if ch == '"':
            if run == 2:
                out.append('\\"')
                run = 0
            else:
                out.append(ch)
                run += 1
            continue
        run = 0
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\t" or ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    # A quote at either end would touch the triple quotes, and black pads
    # such a docstring with a space (changing it): write it as `\x22`.
    if out and out[-1] in ('"', '\\"'):
        out[-1] = "\\x22"
    if out and out[0] == '"':
        out[0] = "\\x22"
    literal = '"""' + "".join(out) + '"""'
    if ast.literal_eval(literal) != text:  # the escaping must be total
        raise AssertionError(f"docstring escaping failed for {text!r}")
    return literal


def header_path(path: str) -> str:
    """A path shown in the header comment, with anything that could end the
    comment line (newlines, control characters) escaped."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}" for ch in path)


# ------------------------------------------------------------ module naming


@record
class _Names:
    """Python names of everything at the module's top level."""

    module: Namespace
    defs: dict = field(default_factory=dict)  # id(def) -> python name (block) or build name (model)
    compile_fns: dict = field(default_factory=dict)  # id(model) -> compile function name
    layout_fns: dict = field(default_factory=dict)  # id(model) -> layout_map function name
    params: dict = field(default_factory=dict)  # id(def) -> {kd param: python name}
    customs: dict = field(default_factory=dict)  # (module, name) -> python name


def _emitted_definitions(program) -> list:
    """The (file, definition) pairs the module holds: the main file's, those
    of files it imports directly, and whatever those reach; imported first."""
    wanted = []
    seen = set()

    def add(file, definition):
        if id(definition) in seen:
            return
        seen.add(id(definition))
        wanted.append((file, definition))
        for ref in called_definitions(file, definition):
            add(ref.file, ref.definition)

    for imported in program.main.imports:
        for definition in imported.module.definitions:
            add(imported, definition)
    for definition in program.main.module.definitions:
        add(program.main, definition)
    order = {id(f): i for i, f in enumerate(program.files)}
    position = {id(d): i for f in program.files for i, d in enumerate(f.module.definitions)}
    return sorted(wanted, key=lambda fd: (order[id(fd[0])], position[id(fd[1])]))


def _custom_imports(emitted, names: _Names) -> list:
    """One import line per (module, name) used by any emitted file."""
    lines = []
    files = []
    for file, _ in emitted:
        if file not in files:
            files.append(file)
    for file in files:
        for item in file.module.items:
            if not isinstance(item, n.FromImport):
                continue
            _check_module_path(file, item)
            for imported in item.names:
                key = (item.module, imported.name)
                if key in names.customs:
                    continue
                py = names.module.claim(imported.bound)
                names.customs[key] = py
                alias = "" if py == imported.name else f" as {py}"
                lines.append(f"from {item.module} import {imported.name}{alias}")
    return lines


def _check_module_path(file, item: n.FromImport) -> None:
    bad = [part for part in item.module.split(".") if not is_identifier(part)]
    bad += [i.name for i in item.names if not is_identifier(i.name)]
    if bad:
        raise KdError([Diagnostic(codes.INVALID_MODULE_NAME, f"`{bad[0]}` is a Python keyword, so `from {item.module} import ...` cannot be written in Python",
                                  file.display, item.span)])


def _module_names(program, emitted) -> _Names:
    # kd's builtins are reserved so a kd name never hides one the module calls.
    names = _Names(Namespace(MODULE_RESERVED | set(BUILTINS), module_level=True))
    main_first = sorted(emitted, key=lambda fd: fd[0] is not program.main)
    for file, definition in main_first:
        if isinstance(definition, n.ModelDef):
            names.defs[id(definition)] = names.module.claim(f"build_{definition.name}")
    for file, definition in main_first:
        if isinstance(definition, n.BlockDef):
            names.defs[id(definition)] = names.module.claim(definition.name)
    for file, definition in main_first:
        if isinstance(definition, n.ModelDef) and _compile_stmt(definition) is not None:
            names.compile_fns[id(definition)] = names.module.claim(f"compile_{definition.name}")
    for file, definition in main_first:
        if isinstance(definition, n.ModelDef) and model_layout(definition) is not None:
            names.layout_fns[id(definition)] = names.module.claim(f"layout_map_{definition.name}")
    return names


def _parameter_names(names: _Names, emitted) -> None:
    """The Python names of every function's parameters, for keyword calls."""
    for _, definition in emitted:
        reserved = ("name",) if isinstance(definition, n.ModelDef) else ()
        names.params[id(definition)] = _function_namespace(names, definition, reserved)[1]


def _function_namespace(names: _Names, definition, extra_reserved=()):
    """A function's namespace with its parameters claimed first, so every
    function and every caller agree on the parameters' Python names."""
    ns = names.module.child()
    for reserved in extra_reserved:
        ns.reserve(reserved)
    params = {p.name: ns.claim(p.name) for p in definition.params or []}
    return ns, params


def _compile_stmt(model: n.ModelDef) -> Optional[n.CompileStmt]:
    return next((s for s in model.body if isinstance(s, n.CompileStmt)), None)


# ---------------------------------------------------------------- functions


class _FunctionEmitter:
    """Emits one block or model body as lines of Python."""

    def __init__(self, names: _Names, file, definition, extra_reserved=()):
        self.names = names
        self.file = file
        self.definition = definition
        self.scope = scope_of(file, definition)
        self.order = _Order(file, self.scope)
        self.ns, params = _function_namespace(names, definition, extra_reserved)
        # kd local name -> Python name; the module's names stay usable.
        self.local = dict(params)
        for bound in bindings(definition.body):
            if bound.id not in self.local:
                self.local[bound.id] = self.ns.claim(bound.id)
        self.naming = model_naming(file, definition) if isinstance(definition, n.ModelDef) else None
        self.lines: list = []
        self.indent = 1
        self.hoist_root, self.hoist_calls = None, False  # see rooted()
        self.outputs: list = []  # Python expressions of the model's outputs, in order
        self.input_captures: dict = {}  # id(Input statement) -> name kept for keras.Model(inputs=...)

    # -- lines

    def emit(self, text: str) -> None:
        self.lines.append(Line(self.indent, text))

    def fresh(self, base: str) -> str:
        return self.ns.temporary(base)

    # -- expressions

    def expr(self, e, namespace: Optional[str] = None, hoist: bool = True) -> ast.expr:
        """Translate a kd expression; NAMESPACE resolves bare class calls in a
        keras module (initializers, losses, ...)."""
        method = getattr(self, f"_x_{type(e).__name__}")
        return method(e, namespace, hoist)

    def _x_Name(self, e: n.Name, namespace, hoist):
        if self.scope.is_local(e.id):
            return name(self.local[e.id])
        return self._global(e.id)

    def _global(self, kd_name: str) -> ast.expr:
        ref = resolve_global(self.file, kd_name)
        if isinstance(ref, DefRef):
            return name(self.names.defs[id(ref.definition)])
        if isinstance(ref, CustomRef):
            return name(self.names.customs[(ref.module, ref.name)])
        if isinstance(ref, InputRef):
            return attr("keras", "Input")
        if isinstance(ref, (LayerRef, MergeRef)):
            return attr("layers", ref.name)
        if isinstance(ref, AppRef):
            return attr("keras", "applications", ref.name)
        if isinstance(ref, BuiltinRef):
            return name(ref.name)
        if isinstance(ref, OpsRef):
            return attr("keras", "ops")
        raise AssertionError(f"unresolved name {kd_name!r} reached the code generator")

    def _x_Constant(self, e, namespace, hoist):
        return const(e.value)

    def _x_TupleExpr(self, e, namespace, hoist):
        return ast.Tuple([self.expr(i, namespace, hoist) for i in e.items], ast.Load())

    def _x_ListExpr(self, e, namespace, hoist):
        return ast.List([self.expr(i, namespace, hoist) for i in e.items], ast.Load())

    def _x_DictExpr(self, e, namespace, hoist):
        keys = [self.expr(entry.key, None, hoist) for entry in e.entries]
        values = [self.expr(entry.value, namespace, hoist) for entry in e.entries]
        return ast.Dict(keys, values)

    def _x_UnaryOp(self, e, namespace, hoist):
        op = {"not": ast.Not, "-": ast.USub, "+": ast.UAdd}[e.op]()
        return ast.UnaryOp(op, self.expr(e.operand, None, hoist))

    def _x_BinOp(self, e, namespace, hoist):
        left, right = self.expr(e.left, None, hoist), self.expr(e.right, None, hoist)
        if e.op in _OPS_FOR and self._makes_ops_value(e.left) and _has_name(e.right):
            # `ops.ones((16,)) - x`: on JAX and PyTorch the left operand is a
            # backend array whose operator refuses a KerasTensor (TensorFlow's
            # gives way to the KerasTensor's reflected operator); the keras.ops
            # function takes both, and adds the same node as the operator would.
            node = ast.Call(attr("keras", "ops", _OPS_FOR[e.op]), [left, right], [])
        else:
            node = ast.BinOp(left, _BINOPS[e.op](), right)
        return self._keep_order(e, node, hoist) if _has_name(e) else node

    def _makes_ops_value(self, e) -> bool:
        """Whether E calls a constant maker of keras.ops (`ops.ones`, `ops.arange`:
        the ops that add no node and return a backend array)."""
        for node in n.walk(e):
            if isinstance(node, n.Attribute) and isinstance(node.value, n.Name) and \
                    not self.scope.is_local(node.value.id) and isinstance(resolve_global(self.file, node.value.id), OpsRef):
                info = ops_catalog.op(node.attr)
                if info is not None and info.makes_node is False:
                    return True
        return False

    def _x_BoolOp(self, e, namespace, hoist):
        if hoist and self.order.lazy_constructs(e, self.hoist_calls):
            temp = self.fresh("t")
            self._lowered(e, namespace, [temp])
            return name(temp)
        op = ast.And() if e.op == "and" else ast.Or()
        return ast.BoolOp(op, [self.expr(v, None, False) for v in e.values])

    def _x_Compare(self, e, namespace, hoist):
        # `== None` reads as `is None` in Python (the same for kd's constants).
        ops = [
            (ast.Is() if o == "==" else ast.IsNot()) if o in ("==", "!=") and _is_none(c) else _CMPOPS[o]()
            for o, c in zip(e.ops, e.comparators)
        ]
        return ast.Compare(self.expr(e.left, None, hoist), ops, [self.expr(c, None, hoist) for c in e.comparators])

    def _lowered(self, e, namespace, targets: list) -> None:
        """Emit a conditional expression or and/or whose operands construct
        layers as `if` statements assigning TARGETS (Python names), so each
        operand constructs in a statement of its own, only when it runs."""
        if isinstance(e, n.IfExp):
            self.emit(f"if {self.statement_expr(e.test)}:")
            self.nested_value(e.body, namespace, targets)
            self.emit("else:")
            self.nested_value(e.orelse, namespace, targets)
            return
        first, rest = e.values[0], e.values[1:]
        self.value_into(first, namespace, targets)
        test = targets[0] if e.op == "and" else f"not {targets[0]}"
        self.emit(f"if {test}:")
        remaining = rest[0] if len(rest) == 1 else n.BoolOp(e.op, rest, e.span)
        self.nested_value(remaining, namespace, targets)

    def nested_value(self, e, namespace, targets: list) -> None:
        self.indent += 1
        self.value_into(e, namespace, targets)
        self.indent -= 1

    def value_into(self, e, namespace, targets: list) -> None:
        """Emit statements that compute E into TARGETS."""
        if isinstance(e, n.Chain):
            self.chain_into(e, targets)
        elif self.order.lazy_constructs(e, self.hoist_calls):
            self._lowered(e, namespace, targets)
        else:
            self.emit(f"{', '.join(targets)} = {self.statement_expr(e, namespace)}")

    def _x_IfExp(self, e, namespace, hoist):
        if hoist and self.order.lazy_constructs(e, self.hoist_calls):
            temp = self.fresh("t")
            self._lowered(e, namespace, [temp])
            return name(temp)
        return ast.IfExp(self.expr(e.test, None, hoist), self.expr(e.body, namespace, False),
                         self.expr(e.orelse, namespace, False))

    def _x_Subscript(self, e, namespace, hoist):
        # The same subscript in Python: `x[:, 0]` is Subscript(x, Tuple([Slice(), 0])) there too.
        node = ast.Subscript(self.expr(e.value, None, hoist), self.expr(e.index, None, hoist), ast.Load())
        return self._keep_order(e, node, hoist) if _has_name(e) else node

    def _x_Slice(self, e, namespace, hoist):
        return ast.Slice(*[None if p is None else self.expr(p, None, hoist) for p in (e.lower, e.upper, e.step)])

    def _x_EllipsisExpr(self, e, namespace, hoist):
        return const(Ellipsis)

    def _x_Attribute(self, e, namespace, hoist):
        if isinstance(e.value, n.Name) and not self.scope.is_local(e.value.id) and \
                isinstance(resolve_global(self.file, e.value.id), OpsRef):
            info = ops_catalog.op(e.attr)
            if info is None or not info.has_rule or not is_identifier(e.attr):
                raise AssertionError(f"unchecked op ops.{e.attr} reached the code generator")
            return attr("keras", "ops", e.attr)
        return ast.Attribute(self.expr(e.value, None, hoist), e.attr, ast.Load())

    def _x_Chain(self, e, namespace, hoist):
        if not hoist:
            value = self.expr(e.steps[0], None, False)
            for step in e.steps[1:]:
                value = self.apply_step(step, value, False)
            return value
        temp = self.fresh("t")
        self.chain_into(e, [temp])
        return name(temp)

    def _x_Call(self, e: n.Call, namespace, hoist):
        func = e.func
        if isinstance(func, n.Name) and not self.scope.is_local(func.id):
            if namespace is not None:
                return self._namespaced_call(e, namespace, hoist)
            ref = resolve_global(self.file, func.id)
            node = self._global_call(e, ref, hoist)
            if isinstance(ref, BuiltinRef):
                return node
        else:
            # The constructor of `Dense(3)(x)` goes with its application, unless
            # its arguments hoist parts of themselves: then it is hoisted first,
            # so it is constructed before them, as kd evaluates it.
            keep = hoist and (not isinstance(func, n.Call) or any(self.order.moves(a) for a in e.args)
                              or any(self.order.moves(k.value) for k in e.keywords))
            node = self.call(self.expr(func, None, keep), e, hoist)
        return self._keep_order(e, node, hoist)

    def _keep_order(self, e: n.Call, node: ast.expr, hoist: bool) -> ast.expr:
        """In an expression that hoists a chain into temporaries, calls that
        build layers are hoisted too, so Python builds the layers in the
        order kd does (which gives them the same automatic names)."""
        if not (hoist and self.hoist_calls) or e is self.hoist_root:
            return node
        temp = self.fresh("t")
        self.emit(f"{temp} = {unparse(node)}")
        return name(temp)

    def _namespaced_call(self, e: n.Call, namespace: str, hoist):
        return self.call(attr("keras", namespace, e.func.id), e, hoist)

    def _global_call(self, e: n.Call, ref, hoist, first: Optional[ast.expr] = None):
        if isinstance(ref, DefRef):
            params = self.names.params.get(id(ref.definition), {})
            return self.call(name(self.names.defs[id(ref.definition)]), e, hoist, first=first, rename=params)
        if isinstance(ref, MergeRef):
            # One argument is the list of tensors itself (`concatenate(branches)`);
            # several are the tensors, which Keras takes as one list.
            args = [self.expr(a, None, hoist) for a in e.args]
            listed = args[0] if len(args) == 1 else ast.List(args, ast.Load())
            return ast.Call(attr("layers", ref.name), [listed], self.keywords(e, hoist))
        return self.call(self._global(e.func.id), e, hoist)

    def keywords(self, e: n.Call, hoist, rename=None) -> list:
        out = []
        for k in e.keywords:
            key = (rename or {}).get(k.name, k.name)
            out.append(ast.keyword(key, self.expr(k.value, namespace_of(k.name), hoist)))
        implicit = self.naming.implicit.get(id(e)) if self.naming else None
        if implicit is not None:
            out.append(ast.keyword("name", const(implicit)))
        return out

    def call(self, func: ast.expr, e: n.Call, hoist, first=None, rename=None) -> ast.Call:
        args = [self.expr(a, None, hoist) for a in e.args]
        if first is not None:
            args.insert(0, first)
        return ast.Call(func, args, self.keywords(e, hoist, rename))

    # -- chains

    def apply_step(self, step, value: ast.expr, hoist: bool) -> ast.expr:
        """One chain step applied to VALUE: a block call takes it first."""
        if isinstance(step, n.Call) and isinstance(step.func, n.Name) and not self.scope.is_local(step.func.id):
            ref = resolve_global(self.file, step.func.id)
            if isinstance(ref, DefRef) and not ref.is_model:
                return self._global_call(step, ref, hoist, first=value)
        return ast.Call(self.expr(step, None, hoist), [value], [])

    def chain_into(self, chain: n.Chain, targets: list) -> None:
        """Emit CHAIN one statement a step, ending in TARGETS (Python names).
        Intermediate results rebind the target when that keeps the meaning,
        else go through a temporary."""
        steps = chain.steps
        # A source that constructs layers gets a statement of its own when
        # the first step would construct before it (`B()(A()(x))`: see _Order).
        own_statement = self.order.may_construct(steps[0]) and len(steps) > 1 and self.order.constructs_first(steps[1])
        read_later = steps[1:] if own_statement else steps[2:]
        later_names = {node.id for step in read_later for node in n.walk(step) if isinstance(node, n.Name)}
        target_kd = [k for k, v in self.local.items() if v in targets]
        single = len(targets) == 1
        via = targets[0] if single and not (set(target_kd) & later_names) else self.fresh("t")
        value = self.rooted(steps[0], lambda: self.expr(steps[0]))
        if own_statement:
            self.emit(f"{via} = {unparse(value)}")
            value = name(via)
        for index, step in enumerate(steps[1:], start=1):
            last = index == len(steps) - 1
            call = self.rooted(step, lambda: self.apply_step(step, value, True))
            lhs = ", ".join(targets) if last else via
            self.emit(f"{lhs} = {unparse(call)}")
            value = name(via)

    def statement_expr(self, e, namespace=None) -> str:
        """Translate E for the current statement; chains nested in it (and,
        to keep the order, the calls before them) go into temporaries in
        statements emitted before it."""
        return unparse(self.rooted(e, lambda: self.expr(e, namespace)))

    def rooted(self, root, translate):
        """Run TRANSLATE with ROOT as the expression whose calls may be hoisted."""
        saved = self.hoist_root, self.hoist_calls
        self.hoist_root, self.hoist_calls = root, self.order.hoists(root)
        try:
            return translate()
        finally:
            self.hoist_root, self.hoist_calls = saved

    # -- statements

    def body(self, stmts: list) -> None:
        if not stmts:
            self.emit("pass")
        for stmt in stmts:
            getattr(self, f"_s_{type(stmt).__name__}")(stmt)

    def assign(self, targets: list, value) -> None:
        self.value_into(value, None, [self.local[t.id] for t in targets])

    def _s_Assign(self, s: n.Assign):
        if isinstance(s.value, n.Name) and len(s.targets) == 1 and s.value.id == s.targets[0].id:
            return  # `x: (None, 8) = x` only annotates
        self.assign(s.targets, s.value)
        if id(s) in self.input_captures:
            self.emit(f"{self.input_captures[id(s)]} = {self.local[s.targets[0].id]}")

    def _s_SetTrainable(self, s: n.SetTrainable):
        self.emit(f"{self.local[s.target.id]}.trainable = {self.statement_expr(s.value)}")

    def _s_Output(self, s: n.Output):
        if s.value is not None:
            self.assign(s.names, s.value)
        decisions = self.naming.outputs.get(id(s), [])
        rebound = self.naming.rebound_after.get(id(s), set())
        for node, (out_name, identity) in zip(s.names, decisions):
            py = self.local.get(node.id) or unparse(self._global(node.id))
            if identity:
                temp = self.fresh(f"{node.id}_output")
                self.emit(f"{temp} = layers.Identity(name={out_name!r})({py})")
                self.outputs.append(temp)
            elif out_name in rebound:
                temp = self.fresh(f"{node.id}_output")
                self.emit(f"{temp} = {py}")
                self.outputs.append(temp)
            else:
                self.outputs.append(py)

    def _s_Return(self, s: n.Return):
        (value,) = s.values if len(s.values) == 1 else (None,)
        if isinstance(value, n.Chain) and self._source_reusable(value):
            # Nothing runs after a return, so the chain can rebind its source.
            target = self.local[value.steps[0].id]
            self.chain_into(value, [target])
            self.emit(f"return {target}")
            return
        values = [self.statement_expr(v) for v in s.values]
        self.emit(f"return {', '.join(values)}")

    def _source_reusable(self, chain: n.Chain) -> bool:
        source = chain.steps[0]
        if not isinstance(source, n.Name) or not self.scope.is_local(source.id):
            return False
        later = {node.id for step in chain.steps[2:] for node in n.walk(step) if isinstance(node, n.Name)}
        return source.id not in later

    def _s_For(self, s: n.For):
        targets = ", ".join(self.local[t.id] for t in s.targets)
        self.emit(f"for {targets} in {self.statement_expr(s.iterable)}:")
        self.nested(s.body)

    def _s_If(self, s: n.If):
        for index, (test, body) in enumerate(s.branches):
            keyword = "if" if index == 0 else "elif"
            self.emit(f"{keyword} {self.statement_expr(test)}:")
            self.nested(body)
        if s.orelse is not None:
            self.emit("else:")
            self.nested(s.orelse)

    def nested(self, stmts: list) -> None:
        self.indent += 1
        self.body(stmts)
        self.indent -= 1

    def _s_ExprStmt(self, s: n.ExprStmt):
        if layout_call(s) is not None:
            return  # the layout goes into layout_map_NAME
        self.emit(self.statement_expr(s.value))

    def _s_CompileStmt(self, s: n.CompileStmt):
        pass  # compile settings go into compile_NAME

    # -- signatures

    def param_list(self) -> list:
        out = []
        for param in self.definition.params or []:
            py = self.local[param.name]
            if param.default is None:
                out.append(py)
            else:
                out.append(f"{py}={unparse(self.expr(param.default, None, False))}")
        return out


def _emit_block(names: _Names, file, block: n.BlockDef) -> PyFunction:
    fe = _FunctionEmitter(names, file, block)
    fe.body(block.body)
    signature = f"def {names.defs[id(block)]}({', '.join(fe.param_list())}):"
    return PyFunction(signature, docstring_literal(block.doc) if block.doc else None, fe.lines)


def _input_captures(fe: _FunctionEmitter, model: n.ModelDef) -> dict:
    """Input bindings rebound later need a copy for keras.Model(inputs=...)."""
    counts: dict = {}
    for bound in bindings(model.body):
        counts[bound.id] = counts.get(bound.id, 0) + 1
    captures = {}
    for stmt in input_statements(fe.file, model):
        if counts.get(stmt.targets[0].id, 0) > 1:
            captures[id(stmt)] = fe.fresh(f"{stmt.targets[0].id}_input")
    return captures


def _model_inputs(fe: _FunctionEmitter, model: n.ModelDef) -> list:
    return [fe.input_captures.get(id(stmt)) or fe.local[stmt.targets[0].id] for stmt in input_statements(fe.file, model)]


def _listed(items: list) -> str:
    return items[0] if len(items) == 1 else f"[{', '.join(items)}]"


def _emit_model(names: _Names, file, model: n.ModelDef) -> list:
    fe = _FunctionEmitter(names, file, model, extra_reserved=("name",))
    fe.input_captures = _input_captures(fe, model)
    fe.body(model.body)
    inputs = _model_inputs(fe, model)
    fe.emit(f"return keras.Model(inputs={_listed(inputs)}, outputs={_listed(fe.outputs)}, name=name)")
    params = fe.param_list()
    params_text = ", ".join(params + ["*", f"name={model.name!r}"])
    signature = f"def {names.defs[id(model)]}({params_text}) -> keras.Model:"
    functions = [PyFunction(signature, docstring_literal(model.doc) if model.doc else None, fe.lines)]
    stmt = _compile_stmt(model)
    if stmt is not None:
        functions.append(_emit_compile(names, file, model, stmt))
    layout = model_layout(model)
    if layout is not None:
        functions.append(_emit_layout_map(names, file, model, layout_call(layout)))
    return functions


def _emit_compile(names: _Names, file, model: n.ModelDef, stmt: n.CompileStmt) -> PyFunction:
    fe = _FunctionEmitter(names, file, model, extra_reserved=("model",))
    keywords = [ast.keyword(k.name, fe.expr(k.value, compile_namespace_of(k.name), False)) for k in stmt.keywords]
    call = ast.Call(attr("model", "compile"), [], keywords)
    lines = [Line(1, unparse(call)), Line(1, "return model")]
    params = ", ".join(["model", *fe.param_list()])
    doc = docstring_literal(f"Compile a model built by {names.defs[id(model)]} with the settings of `{model.name}`.")
    return PyFunction(f"def {names.compile_fns[id(model)]}({params}) -> keras.Model:", doc, lines)


def _emit_layout_map(names: _Names, file, model: n.ModelDef, call: n.Call) -> PyFunction:
    """`layout_map_NAME(mesh, PARAM=DEFAULT, ...)`: the model's layout as a
    keras.distribution.LayoutMap on MESH, which must have the axes and
    sizes the layout was checked for."""
    fe = _FunctionEmitter(names, file, model, extra_reserved=("mesh",))
    function = names.layout_fns[id(model)]
    expected, received, layout_map = fe.ns.claim("expected"), fe.ns.claim("received"), fe.ns.claim("layout_map")
    mesh = next(k.value for k in call.keywords if k.name == "mesh")
    message = ast.JoinedStr([
        const(f"{function}: kdsl checked the layout of {model.name} for the mesh "),
        ast.FormattedValue(name(expected), -1), const("; received "), ast.FormattedValue(name(received), -1),
    ])
    lines = [
        f"{expected} = {unparse(fe.expr(mesh, None, False))}",
        f"{received} = dict(zip(mesh.axis_names, mesh.shape))",
        f"if {received} != {expected}:",
        f"    raise ValueError({unparse(message)})",
        f"{layout_map} = keras.distribution.LayoutMap(mesh)",
    ]
    for entry in call.args[0].entries:
        target = ast.Subscript(name(layout_map), fe.expr(entry.key, None, False), ast.Store())
        lines.append(unparse(ast.Assign([target], fe.expr(entry.value, None, False))))
    lines.append(f"return {layout_map}")
    params = ", ".join(["mesh", *fe.param_list()])
    doc = docstring_literal(f"The keras.distribution.LayoutMap of `{model.name}` on MESH, a DeviceMesh with the axes\n"
                            "    and sizes of its layout(mesh=...), for which kdsl checked the layout.\n    ")
    body = [Line(1 + (len(text) - len(text.lstrip())) // 4, text.lstrip()) for text in lines]
    return PyFunction(f"def {function}({params}) -> keras.distribution.LayoutMap:", doc, body)


def module_data(program, header: str) -> ModuleData:
    """Everything the module template needs for PROGRAM."""
    emitted = _emitted_definitions(program)
    names = _module_names(program, emitted)
    imports = _custom_imports(emitted, names)
    _parameter_names(names, emitted)
    functions: list = []
    for file, definition in emitted:
        if isinstance(definition, n.BlockDef):
            functions.append(_emit_block(names, file, definition))
        else:
            functions.extend(_emit_model(names, file, definition))
    customs = ", ".join(f"{orig!r}: {py}" for (_, orig), py in names.customs.items())
    return ModuleData(header, imports, functions, "{" + customs + "}")
