"""The abstract interpreter: runs a model's body at check time.

It binds names with Python scoping, unrolls block calls, loops and
conditions, and builds the model's graph with every tensor's static type.
Errors are collected, not raised: a statement that fails binds its targets to
POISON, which silences the errors that would follow from it, and evaluation
goes on with the next statement.
"""

from __future__ import annotations

from typing import Optional

from .. import codes
from ..codes import is_warning
from ..diagnostics import Diagnostic, Reporter, SourceError, suggest
from ..limits import Limits
from ..semantics.layouts import layout_call
from ..semantics.naming import model_naming
from ..semantics.scope import (
    AppRef, BuiltinRef, CustomRef, DefRef, InputRef, LayerRef, MergeRef, OpRef, OpsRef,
    global_names, lost_statements, resolve_global, scope_of,
)
from ..syntax import tree as n
from . import constants as consts
from . import indexing, instances, model_checks, model_io, tensor_ops
from .auto_names import AutoNames, snake_case
from .compile_settings import evaluate_compile
from .frame import EMPTY_SCOPE, Frame, call_sites
from .graph import BlockCall, ModelGraph
from .layouts import evaluate_layout
from .values import POISON, Instance, Tensor, UnknownDim, kind_name, show


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class StopEvaluation(Exception):
    """A limit was hit: the model's evaluation stops."""


def _label(expr) -> str:
    """The kd name of an expression, for messages ("" when it has none)."""
    return expr.id if isinstance(expr, n.Name) else ""


def _op_calls():
    """kd 1.1's `ops.*` calls; loaded (with every op rule) when a file makes one."""
    from . import op_calls

    return op_calls


class Evaluator:
    """Evaluates the models of a program; see `check_program`."""

    def __init__(self, program, limits: Limits, reporter: Reporter, facts=None):
        self.program = program
        self.facts = facts  # a facts.Facts to record every value in (the editor), or None
        self.limits = limits
        self.reporter = reporter
        self.steps = 0
        self.active: list = []  # definitions being run, for recursion detection
        self.names = AutoNames()
        self.error_events = 0  # errors met, repeats included: a model with any is incomplete
        self.layer_count = 0
        self.current_loop: Optional[n.For] = None
        self.warned_classes: set = set()
        # (layer class, constant arguments) -> the arguments bound and checked
        # (check/instances.construct): models repeat the same layers.
        self.bindings: dict = {}
        # (binding, input types, call arguments) -> a shape rule's (outputs, weights)
        self.shape_results: dict = {}
        self.annotating = False  # evaluating the value of an annotated statement
        if facts is not None:
            # Shadow the hot methods only when recording: checking from the
            # command line pays nothing for the editor's facts.
            self.eval = self._eval_recording
            self.chain_step = self._chain_step_recording

    # ------------------------------------------------------------ reporting

    def report(self, filename: str, code: str, message: str, span: n.Span, hint=None, related=()) -> None:
        if not is_warning(code):
            self.error_events += 1
        self.reporter.add_once(Diagnostic(code, message, filename, span, hint, tuple(related)))

    def report_error(self, frame: Frame, err: SourceError) -> None:
        self.report(frame.file.display, err.code, err.message, err.span, err.hint, err.related + call_sites(frame))

    def warn(self, frame: Frame, code: str, message: str, span: n.Span, hint=None) -> None:
        self.report(frame.file.display, code, message, span, hint, call_sites(frame))

    def auto_name(self, cls: str) -> str:
        """The name Keras would give the next unnamed instance of CLS."""
        return self.names.next(snake_case(cls))

    def step(self, span: n.Span) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            where = self.current_loop.span if self.current_loop is not None else span
            raise SourceError(
                codes.LOOP_TOO_LONG,
                f"evaluation stopped after {self.limits.max_steps:,} steps"
                + (" in this loop" if self.current_loop is not None else ""),
                where,
                "make the loops shorter (or raise the limit with --max-steps)",
            )

    # -------------------------------------------------------------- models

    def evaluate_model(self, file, model: n.ModelDef, params: dict, input_shapes=None) -> ModelGraph:
        """Run MODEL's body with PARAMS and return its graph."""
        graph = ModelGraph(model.name, dict(params))
        frame = Frame(file, model, scope_of(file, model), graph, dict(params), model_naming(file, model), input_shapes)
        errors_before = self.error_events
        self.record_params(file, model.params or [], params)
        self.active.append(model)
        try:
            self.run_body(frame, model.body)
        except _Return:  # `return` in a model is reported statically
            pass
        finally:
            self.active.pop()
            graph.complete = self.error_events == errors_before
        model_checks.finish_model(self, frame)
        return graph

    # ----------------------------------------------------------- statements

    def run_body(self, frame: Frame, body: list) -> None:
        for stmt in body:
            self.run_statement(frame, stmt)

    def run_statement(self, frame: Frame, stmt) -> None:
        self.step(stmt.span)
        try:
            self._statement_handlers[type(stmt)](self, frame, stmt)
        except SourceError as err:
            self.report_error(frame, err)
            self.poison(frame, stmt)
            if err.code in (codes.LOOP_TOO_LONG, codes.GRAPH_TOO_LARGE):
                raise StopEvaluation() from None
            if isinstance(stmt, n.Return):
                raise _Return(POISON) from None  # it did return; its value failed

    def poison(self, frame: Frame, stmt) -> None:
        """Bind every name STMT would bind to POISON."""
        from ..semantics.scope import bindings

        for name in bindings([stmt]):
            frame.env[name.id] = POISON

    def _assign(self, frame: Frame, stmt: n.Assign) -> None:
        value = self.eval_annotated(frame, stmt.value, stmt.annotation)
        if stmt.annotation is not None:
            value = model_io.annotate(self, frame, value, stmt.annotation, stmt.targets[0])
        self.bind_targets(frame, stmt.targets, value, stmt.unpack, stmt.span)

    def eval_annotated(self, frame: Frame, value, annotation):
        """Evaluate a statement's VALUE; while it has an ANNOTATION, a layer
        whose output kdsl cannot infer is not warned about: the annotation
        is what gives its shape (KD902's hint)."""
        outer, self.annotating = self.annotating, annotation is not None
        try:
            return self.eval(frame, value)
        finally:
            self.annotating = outer

    def bind_targets(self, frame: Frame, targets: list, value, unpack: bool, span: n.Span) -> None:
        if not unpack:
            self.bind(frame, targets[0], value)
            return
        if value is POISON:
            for t in targets:
                frame.env[t.id] = POISON
            return
        if not isinstance(value, (tuple, list, range)):
            raise SourceError(codes.OUT_OF_RANGE, f"cannot unpack {kind_name(value)} ({show(value)}) into {len(targets)} names", span)
        if len(value) != len(targets):
            raise SourceError(codes.OUT_OF_RANGE, f"expected {len(targets)} values to unpack, received {len(value)}: {show(value)}", span)
        for target, item in zip(targets, value):  # a range is not listed: its length was checked
            self.bind(frame, target, item)

    def bind(self, frame: Frame, target: n.Name, value) -> None:
        if _is_ref(value):
            raise SourceError(codes.WRONG_KIND, f"`{target.id}` cannot hold {_ref_kind(value)}; call it instead", target.span)
        if isinstance(value, Tensor) and not value.label:
            value.label = target.id
        if isinstance(value, Instance) and value.bound_to is None:
            value.bound_to = target.id
        frame.env[target.id] = value
        if self.facts is not None:
            self.facts.record(frame.file.display, target, value)

    def _set_trainable(self, frame: Frame, stmt: n.SetTrainable) -> None:
        target = self.eval(frame, stmt.target)
        flag = self.eval(frame, stmt.value)
        if target is POISON or flag is POISON:
            return
        if not isinstance(target, Instance) or target.kind == "op":
            raise SourceError(codes.WRONG_KIND, f"`.trainable` needs a layer or model instance; `{stmt.target.id}` is {kind_name(target)}", stmt.target.span)
        if not isinstance(flag, bool):
            raise SourceError(codes.WRONG_KIND, f"`.trainable` takes True or False; received {show(flag)}", stmt.value.span)
        target.trainable = flag
        target.touched = True

    def _output(self, frame: Frame, stmt: n.Output) -> None:
        if stmt.value is not None:
            value = self.eval_annotated(frame, stmt.value, stmt.annotation)
            if stmt.annotation is not None:
                value = model_io.annotate(self, frame, value, stmt.annotation, stmt.names[0])
            self.bind(frame, stmt.names[0], value)
        decisions = frame.naming.outputs.get(id(stmt), []) if frame.naming else []
        for name_node, (name, identity) in zip(stmt.names, decisions):
            value = self.eval(frame, name_node)
            model_io.add_output(self, frame, name_node, name, value, identity)

    def _return(self, frame: Frame, stmt: n.Return) -> None:
        values = [self.eval(frame, v) for v in stmt.values]
        raise _Return(values[0] if len(values) == 1 else tuple(values))

    def _for(self, frame: Frame, stmt: n.For) -> None:
        iterable = self.eval(frame, stmt.iterable)
        if iterable is POISON:
            self.poison(frame, stmt)
            return
        items = self._loop_items(iterable, stmt)
        outer, self.current_loop = self.current_loop, stmt
        try:
            for item in items:
                self.step(stmt.span)
                self.bind_targets(frame, stmt.targets, item, stmt.unpack, stmt.span)
                self.run_body(frame, stmt.body)
        finally:
            self.current_loop = outer

    def _loop_items(self, iterable, stmt: n.For):
        if isinstance(iterable, UnknownDim):
            raise consts_error(consts.unknown_dim_error(iterable, "a loop"), stmt.iterable.span)
        if isinstance(iterable, dict):
            iterable = list(iterable)
        if not isinstance(iterable, (tuple, list, str, range)):
            raise SourceError(codes.WRONG_KIND, f"`for` needs a tuple, list, range or string; received {kind_name(iterable)} ({show(iterable)})", stmt.iterable.span)
        if len(iterable) > self.limits.max_iterations:
            raise SourceError(
                codes.LOOP_TOO_LONG,
                f"this loop would run {len(iterable):,} times (limit {self.limits.max_iterations:,})",
                stmt.span,
                "raise the limit with --max-iterations",
            )
        return iterable

    def _if(self, frame: Frame, stmt: n.If) -> None:
        for test, body in stmt.branches:
            value = self.eval(frame, test)
            if value is POISON:
                self.poison(frame, stmt)
                return
            if self.truth(value, test.span):
                self.run_body(frame, body)
                return
        if stmt.orelse is not None:
            self.run_body(frame, stmt.orelse)

    def truth(self, value, span: n.Span, what: str = "a condition") -> bool:
        if isinstance(value, (Tensor, Instance)):
            raise SourceError(codes.WRONG_KIND, f"{what} needs a constant; received {kind_name(value)} ({show(value)})", span)
        try:
            return consts.truth(value, what)
        except consts.ConstError as err:
            raise consts_error(err, span) from None

    def _expr_stmt(self, frame: Frame, stmt: n.ExprStmt) -> None:
        call = layout_call(stmt)
        if call is not None:
            evaluate_layout(self, frame, stmt, call)
            return
        value = self.eval(frame, stmt.value)
        if value is not POISON:
            self.warn(frame, codes.VALUE_DROPPED, f"the value of this expression ({kind_name(value)}) is not used", stmt.span,
                      "bind it to a name, return it or output it")

    def _compile(self, frame: Frame, stmt: n.CompileStmt) -> None:
        evaluate_compile(self, frame, stmt)

    _statement_handlers = {
        n.Assign: _assign,
        n.SetTrainable: _set_trainable,
        n.Output: _output,
        n.Return: _return,
        n.For: _for,
        n.If: _if,
        n.ExprStmt: _expr_stmt,
        n.CompileStmt: _compile,
    }

    # ---------------------------------------------------------- expressions

    def eval(self, frame: Frame, expr):
        return self._expr_handlers[type(expr)](self, frame, expr)

    def _eval_recording(self, frame: Frame, expr):
        value = self._expr_handlers[type(expr)](self, frame, expr)
        self.facts.record(frame.file.display, expr, value)
        return value

    def _name(self, frame: Frame, expr: n.Name):
        name = expr.id
        if frame.scope.is_local(name):
            try:
                return frame.env[name]
            except KeyError:
                if name in frame.scope.broken:
                    return POISON  # bound by a statement lost to a syntax error
                raise SourceError(codes.USED_BEFORE_BOUND, f"`{name}` is used before it is bound", expr.span,
                                f"`{name}` is bound later in this body, so it is local everywhere in it") from None
        ref = resolve_global(frame.file, name)
        if ref is None and frame.file.lenient:
            return POISON  # perhaps defined by what did not load (reported there)
        if ref is None:
            hint = suggest(name, [*frame.env, *frame.scope.names], global_names(frame.file))
            raise SourceError(codes.UNDEFINED_NAME, f"`{name}` is not defined", expr.span, hint)
        return ref

    def _constant(self, frame: Frame, expr: n.Constant):
        return expr.value

    def _tuple(self, frame: Frame, expr: n.TupleExpr):
        return self._sized(tuple(self.eval(frame, item) for item in expr.items), expr.span)

    def _list(self, frame: Frame, expr: n.ListExpr):
        return self._sized([self.eval(frame, item) for item in expr.items], expr.span)

    def _sized(self, value, span: n.Span):
        """VALUE, once its size and nesting are within the limits: a loop
        that wraps a list in a list again and again is nesting too."""
        return self._const(lambda: consts.measure(value, self.limits) and value, span)

    def _dict(self, frame: Frame, expr: n.DictExpr):
        out = {}
        for entry in expr.entries:
            key = self.eval(frame, entry.key)
            try:
                consts.require_constant(key, "a dict key")
                consts.measure(key, self.limits)
                hash(key)
            except consts.ConstError as err:
                raise consts_error(err, entry.key.span) from None
            except TypeError:
                raise SourceError(codes.INVALID_CONSTANT_OPERATION, f"a dict key must be a string or number; received {show(key)}", entry.key.span) from None
            out[key] = self.eval(frame, entry.value)
        return self._sized(out, expr.span)

    def _unary(self, frame: Frame, expr: n.UnaryOp):
        operand = self.eval(frame, expr.operand)
        if operand is POISON:
            return POISON
        if isinstance(operand, Tensor) and expr.op != "not":
            return tensor_ops.tensor_op(self, frame, "neg" if expr.op == "-" else "pos", operand, None, expr.span)
        if isinstance(operand, Tensor):
            raise SourceError(codes.WRONG_KIND, f"`not` needs a constant; received {show(operand)}", expr.span)
        return self._const(lambda: consts.unary(expr.op, operand), expr.span)

    def _binop(self, frame: Frame, expr: n.BinOp):
        # `a + b + c + ...` nests to the left: walk down the spine without
        # recursion (a flat chain is not nesting), then apply upwards.
        spine = []
        while isinstance(expr, n.BinOp):
            spine.append(expr)
            expr = expr.left
        value = self.eval(frame, expr)
        for node in reversed(spine):
            value = self._apply_binop(frame, node, value, self.eval(frame, node.right))
        return value

    def _apply_binop(self, frame: Frame, expr: n.BinOp, left, right):
        if left is POISON or right is POISON:
            return POISON
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return tensor_ops.tensor_op(self, frame, expr.op, left, right, expr.span)
        return self._const(lambda: consts.binary(expr.op, left, right, self.limits), expr.span)

    def _boolop(self, frame: Frame, expr: n.BoolOp):
        value = None
        for index, item in enumerate(expr.values):
            value = self.eval(frame, item)
            if value is POISON or index == len(expr.values) - 1:
                return value  # as in Python, the last operand is not tested
            truth = self.truth(value, item.span, f"`{expr.op}`")
            if (expr.op == "or") == truth:
                return value
        return value

    def _compare(self, frame: Frame, expr: n.Compare):
        left = self.eval(frame, expr.left)
        for op, right_expr in zip(expr.ops, expr.comparators):
            right = self.eval(frame, right_expr)
            if left is POISON or right is POISON:
                return POISON
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                tensor = left if isinstance(left, Tensor) else right
                raise SourceError(codes.WRONG_KIND, f"`{op}` compares constants; received a tensor ({show(tensor)})", expr.span,
                                  "compare tensors elementwise with ops.greater, ops.less, ops.equal, ... (`ops.greater(x, 0.5)`)")
            if not self._const(lambda: consts.compare(op, left, right), expr.span):
                return False
            left = right
        return True

    def _ifexp(self, frame: Frame, expr: n.IfExp):
        test = self.eval(frame, expr.test)
        if test is POISON:
            return POISON
        return self.eval(frame, expr.body if self.truth(test, expr.test.span) else expr.orelse)

    def _subscript(self, frame: Frame, expr: n.Subscript):
        value = self.eval(frame, expr.value)
        index = self.eval(frame, expr.index)  # a slice, `...` or a tuple of keys (kd 1.1) included
        if value is POISON or indexing.has_poison(index):
            return POISON
        if isinstance(value, Tensor):
            return indexing.subscript_tensor(self, frame, value, index, expr)
        if isinstance(index, slice):
            return self._const(lambda: consts.slice_of(value, index.start, index.stop, index.step), expr.span)
        return self._const(lambda: consts.subscript(value, index), expr.span)

    def _slice(self, frame: Frame, expr: n.Slice):
        return indexing.slice_value(self, frame, expr)

    def _ellipsis(self, frame: Frame, expr: n.EllipsisExpr):
        return Ellipsis

    def _attribute(self, frame: Frame, expr: n.Attribute):
        value = self.eval(frame, expr.value)
        if value is POISON:
            return POISON
        if isinstance(value, OpsRef):
            return _op_calls().op_ref(expr)
        if expr.attr == "shape" and isinstance(value, Tensor):
            return model_io.shape_of(value, _label(expr.value) or value.label or "tensor", expr.span)
        if expr.attr == "shape":
            raise SourceError(codes.WRONG_KIND, f"`.shape` needs a tensor; received {kind_name(value)} ({show(value)})", expr.span)
        raise SourceError(codes.UNKNOWN_ATTRIBUTE, f"kd knows no attribute `{expr.attr}` here", expr.attr_span,
                        "only `x.shape` (and `NAME.trainable = ...` as a statement) are available")

    def _chain(self, frame: Frame, expr: n.Chain):
        value = self.eval(frame, expr.steps[0])
        name = _label(expr.steps[0])
        for step in expr.steps[1:]:
            if value is POISON:
                return POISON
            if not isinstance(value, Tensor):
                raise SourceError(codes.WRONG_KIND, f"each step of a chain must give one tensor; this gives {kind_name(value)} ({show(value)})",
                                step.span)
            value = self.chain_step(frame, step, value, name)
            name = ""
        return value

    def chain_step(self, frame: Frame, step, value, name: str = ""):
        """Apply one chain STEP to VALUE (named NAME in the source, if it has
        a name): a block call gets it as first argument."""
        if isinstance(step, n.Call) and isinstance(step.func, n.Name) and not frame.scope.is_local(step.func.id):
            ref = resolve_global(frame.file, step.func.id)
            if isinstance(ref, DefRef) and not ref.is_model:
                return self.call_block(frame, ref, step, chained=value)
        callee = self.eval(frame, step)
        if callee is POISON:
            return POISON
        if isinstance(callee, Instance):
            return instances.apply(self, frame, callee, [value], {}, step.span, (name,))
        what = _ref_kind(callee) if _is_ref(callee) else kind_name(callee)
        hint = None
        if isinstance(callee, (LayerRef, AppRef, CustomRef)) and isinstance(step, n.Name):
            hint = f"write `{step.id}(...)` to construct the layer"
        elif isinstance(callee, OpRef):
            hint = f"call it on the tensor: `ops.{callee.name}(x, ...)`"
        raise SourceError(codes.WRONG_KIND, f"a chain step must be a layer, a model or a block call; this is {what}", step.span, hint)

    def _chain_step_recording(self, frame: Frame, step, value, name: str = ""):
        result = Evaluator.chain_step(self, frame, step, value, name)
        self.facts.record_output(frame.file.display, step, result)
        return result

    def _const(self, compute, span: n.Span):
        try:
            return compute()
        except consts.ConstError as err:
            raise consts_error(err, span) from None

    # ---------------------------------------------------------------- calls

    def _call(self, frame: Frame, expr: n.Call):
        func = expr.func
        if isinstance(func, n.Name) and not frame.scope.is_local(func.id):
            ref = self._name(frame, func)
            if ref is POISON:
                return POISON
            return self._call_ref(frame, ref, expr)
        callee = self.eval(frame, func)
        if callee is POISON:
            return POISON
        if _is_ref(callee):
            return self._call_ref(frame, callee, expr)
        if isinstance(callee, Instance):
            args, kwargs = self.eval_arguments(frame, expr)
            if _poisoned(args, kwargs):
                return POISON
            names = tuple(_label(a) for a in expr.args)
            return instances.apply(self, frame, callee, args, kwargs, expr.span, names)
        raise SourceError(codes.WRONG_KIND, f"{kind_name(callee)} cannot be called ({show(callee)})", func.span,
                        "only layers, models, blocks and builtins can be called")

    def _call_ref(self, frame: Frame, ref, expr: n.Call):
        if isinstance(ref, DefRef):
            if ref.is_model:
                return instances.construct_model(self, frame, ref, expr)
            return self.call_block(frame, ref, expr)
        if isinstance(ref, BuiltinRef):
            args, kwargs = self.eval_arguments(frame, expr)
            if kwargs:
                raise SourceError(codes.INVALID_CONSTANT_OPERATION, f"`{ref.name}` takes no keyword arguments", expr.keywords[0].span)
            if _poisoned(args, {}):
                return POISON
            return self._const(lambda: consts.call_builtin(ref.name, args, self.limits), expr.span)
        if isinstance(ref, InputRef):
            return model_io.make_input(self, frame, expr)
        if isinstance(ref, MergeRef):
            return instances.merge(self, frame, ref, expr)
        if isinstance(ref, OpRef):
            return _op_calls().call_op(self, frame, ref, expr)
        if isinstance(ref, OpsRef):
            raise SourceError(codes.WRONG_KIND, "`ops` is the namespace of keras.ops, not a function", expr.func.span,
                              "call one of its functions: `ops.mean(x, axis=1)`")
        return instances.construct(self, frame, ref, expr)

    def eval_arguments(self, frame: Frame, expr: n.Call):
        args = [self.eval(frame, a) for a in expr.args]
        kwargs = {k.name: self.eval(frame, k.value) for k in expr.keywords}
        return args, kwargs

    # --------------------------------------------------------------- blocks

    def call_block(self, frame: Frame, ref: DefRef, expr: n.Call, chained=None):
        """Run a block with the call's arguments; CHAINED is the value a chain fills in first."""
        block = ref.definition
        if block in self.active:
            raise SourceError(codes.RECURSION, f"block `{block.name}` calls itself (recursion is not allowed)", expr.span)
        if len(self.active) > self.limits.max_depth:
            raise SourceError(codes.TOO_DEEP, f"block calls nested more than {self.limits.max_depth} deep", expr.span,
                            "raise the limit with --max-depth")
        args, kwargs = self.eval_arguments(frame, expr)
        if chained is not None:
            args = [chained, *args]
        if _poisoned(args, kwargs):
            return POISON
        env = self.bind_params(ref, block.params, args, kwargs, expr, f"block `{block.name}`")
        self.record_params(ref.file, block.params, env)
        inner = Frame(ref.file, block, scope_of(ref.file, block), frame.graph, env, caller=frame, call_span=expr.span,
                      block_call=_block_call(frame, block, expr))
        self.active.append(block)
        try:
            self.run_body(inner, block.body)
        except _Return as ret:
            return ret.value
        finally:
            self.active.pop()
        if lost_statements(ref.file, block):
            return POISON  # its return may have been lost to a syntax error
        raise SourceError(codes.NO_RETURN_VALUE, f"block `{block.name}` ended without returning a value", expr.span,
                        "end the block with `return VALUE`")

    def bind_params(self, ref: DefRef, params: list, args: list, kwargs: dict, expr: n.Call, what: str) -> dict:
        """Match call arguments to a block's or model's parameters."""
        names = [p.name for p in params]
        if len(args) > len(names):
            raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"{what} takes {len(names)} arguments; received {len(args)}", expr.span)
        env = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"{what} has no parameter `{key}`", _keyword_span(expr, key), suggest(key, names))
            if key in env:
                raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"{what} received `{key}` twice", _keyword_span(expr, key))
            env[key] = value
        for param in params:
            if param.name not in env:
                if param.default is None:
                    raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"{what} needs a value for `{param.name}`", expr.span)
                env[param.name] = self.default_value(ref.file, param)
        return env

    def record_params(self, file, params: list, env: dict) -> None:
        """Record the value each parameter was bound to (the editor's facts)."""
        if self.facts is not None:
            for param in params:
                if param.name in env:
                    self.facts.record(file.display, param, env[param.name])

    def default_value(self, file, param: n.Param):
        """A parameter's default, evaluated with file-level names only."""
        frame = Frame(file, None, EMPTY_SCOPE, ModelGraph("", {}))
        value = self.eval(frame, param.default)
        if isinstance(value, Tensor):
            # The generated function would compute it when the module is imported.
            raise SourceError(codes.WRONG_KIND, f"the default of `{param.name}` is {kind_name(value)}; a default is a constant",
                              param.default.span, f"compute the tensor in the body: `{param.name}=None`, then an `if`")
        return value

    _expr_handlers = {
        n.Name: _name,
        n.Constant: _constant,
        n.TupleExpr: _tuple,
        n.ListExpr: _list,
        n.DictExpr: _dict,
        n.UnaryOp: _unary,
        n.BinOp: _binop,
        n.BoolOp: _boolop,
        n.Compare: _compare,
        n.IfExp: _ifexp,
        n.Subscript: _subscript,
        n.Slice: _slice,
        n.EllipsisExpr: _ellipsis,
        n.Attribute: _attribute,
        n.Chain: _chain,
        n.Call: _call,
    }


def _block_call(frame: Frame, block: n.BlockDef, expr: n.Call) -> BlockCall:
    """Record a call of BLOCK in the model's graph, titled as written."""
    text = " ".join(frame.file.module.source[expr.span.start:expr.span.end].split())
    call = BlockCall(len(frame.graph.block_calls), block.name, text, frame.block_call, expr.span, frame.file.display)
    frame.graph.block_calls.append(call)
    return call


def _keyword_span(expr: n.Call, key: str) -> n.Span:
    for k in expr.keywords:
        if k.name == key:
            return k.name_span
    return expr.span


def _poisoned(args, kwargs) -> bool:
    return any(a is POISON for a in args) or any(v is POISON for v in kwargs.values())


def _is_ref(value) -> bool:
    return isinstance(value, (DefRef, LayerRef, MergeRef, AppRef, CustomRef, BuiltinRef, InputRef, OpsRef, OpRef))


def _ref_kind(ref) -> str:
    if isinstance(ref, DefRef):
        return f"the {'model' if ref.is_model else 'block'} `{ref.definition.name}`"
    if isinstance(ref, (LayerRef, CustomRef)):
        return f"the layer class `{ref.bound if isinstance(ref, CustomRef) else ref.name}`"
    if isinstance(ref, AppRef):
        return f"the application `{ref.name}`"
    if isinstance(ref, MergeRef):
        return f"the merge helper `{ref.name}`"
    if isinstance(ref, InputRef):
        return "`Input`"
    if isinstance(ref, OpsRef):
        return "the namespace `ops`"
    if isinstance(ref, OpRef):
        return f"the op `ops.{ref.name}`"
    return f"the builtin `{ref.name}`"


def consts_error(err: consts.ConstError, span: n.Span) -> SourceError:
    return SourceError(err.code, err.message, span, err.hint)


def _is_constant(value) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_is_constant(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def evaluate_constant(expr):
    """The value of a constant expression outside any file (a --param value).
    Raises SourceError when it is not a constant kd can compute."""
    from ..limits import DEFAULT_LIMITS
    from ..semantics.program import Program, SourceFile

    file = SourceFile(n.Module([]), None, "<command line>")
    ev = Evaluator(Program(file, [file]), DEFAULT_LIMITS, Reporter())
    frame = Frame(file, None, EMPTY_SCOPE, ModelGraph("", {}))
    value = ev.eval(frame, expr)
    if isinstance(value, range):
        value = tuple(ev._sized(value, expr.span))  # within --max-sequence before it is listed
    if not _is_constant(value):
        raise SourceError(codes.WRONG_KIND, f"a parameter value must be a constant; received {kind_name(value)}", expr.span)
    return value
