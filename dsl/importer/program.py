"""An imported graph as a kd program: one `model` per (nested) model, the
`from` lines of custom classes, the blocks folding found."""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from ..syntax import tree as n
from .applications import application_construct
from .constructs import Construct, construct
from .emit import Body, Namer, identifier, literal, write_body
from .graph import Graph
from .order import emission_order
from .plan import plan_steps
from .problems import ImportProblem


@record
class ModelPlan:
    """One kd model of the program, and the graph calls it makes, in the
    order the checker will evaluate them (for verification)."""

    kd_name: str
    graph: Graph
    calls: list
    constructs: dict


@record
class Program:
    module: n.Module
    models: list  # ModelPlan, the imported model last
    docs: dict = field(default_factory=dict)


@record
class Options:
    flat: bool = False
    explicit: dict = field(default_factory=dict)  # kd model name -> names kd must write


def build_program(graph: Graph, model_name: Optional[str], options: Options, fold=None) -> Program:
    """The kd program for GRAPH.  FOLD, when given, turns a model's flat
    steps into blocks and loops (`fold(steps, graph, builder, namer) -> (steps, blocks, docs)`)."""
    builder = _Builder(options, fold)
    if model_name is not None and not Namer().free(model_name):
        raise ImportProblem(f"the model's name must be an identifier that names nothing else in kd (a keyword, "
                            f"a Keras layer or application); received {model_name!r}")
    top = model_name or identifier(graph.name, "model")
    if not Namer().free(top):
        top = f"{top}_model"  # `MobileNetV3Small` is also the application's name
    builder.model(graph, top, frozen=False)
    items = builder.imports() + builder.blocks + builder.defs
    return Program(n.Module(items), builder.plans, builder.docs)


class _Builder:
    def __init__(self, options: Options, fold):
        self.options = options
        self.fold = fold
        self.defs: list = []
        self.blocks: list = []
        self.plans: list = []
        self.docs: dict = {}
        self.taken: set = set()  # file-level names: models, blocks, imported classes
        self.from_lines: dict = {}  # module -> [class]

    def unique(self, hint: str) -> str:
        base = identifier(hint, "m")
        name, i = base, 1
        while name in self.taken or not Namer().free(name):
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name

    def model(self, graph: Graph, kd_name: str, frozen: bool) -> None:
        self.taken.add(kd_name)
        constructs, model_names = {}, {}
        for layer in graph.layers.values():
            application = application_construct(layer) if layer.is_model else None
            if application is not None:
                constructs[layer.name] = application
            elif layer.is_model:
                model_names[layer.name] = self.unique(layer.name)
                self.model(layer.sub, model_names[layer.name], frozen=not layer.sub.trainable)
                constructs[layer.name] = Construct("model", model_names[layer.name], name=layer.name,
                                                   trainable=layer.sub.trainable)
            else:
                made = construct(layer)
                if frozen:
                    made.trainable = True  # the model's own `.trainable = False` freezes it
                if made.from_import:
                    self._import(*made.from_import)
                constructs[layer.name] = made
        _check_outputs(graph, constructs)
        explicit = self.options.explicit.get(kd_name, set())
        automatic = {name for name, c in constructs.items() if c.auto and name not in explicit}
        order = emission_order(graph, automatic)
        namer = Namer(self.taken | self._imported_names())
        entry, inputs = self._inputs(graph, constructs, namer)
        planned = plan_steps(graph, order, constructs, model_names, explicit, namer)
        steps = planned.steps
        if self.fold is not None and not self.options.flat:
            steps, blocks, docs = self.fold(steps, graph, self, namer)
            self.blocks += blocks
            self.docs.update(docs)
        results = list(graph.outputs)
        result_names = {ref: ref[0] for ref in results}
        body = Body(steps, entry, results, namer, result_names=result_names, bound=planned.bound)
        stmts = inputs + write_body(body)
        self.defs.append(n.ModelDef(kd_name, None, n.Body(stmts)))
        self.plans.append(ModelPlan(kd_name, graph, planned.calls, constructs))

    def _inputs(self, graph: Graph, constructs: dict, namer: Namer) -> tuple:
        entry, stmts = {}, []
        for ref in graph.inputs:
            made = constructs[ref[0]]
            kwargs = [n.Keyword(k, literal(v)) for k, v in made.kwargs]
            if namer.free(ref[0]) and ref[0] != "x":
                variable = namer.take(ref[0])
            else:
                variable = namer.fresh(ref[0] if ref[0] != "x" else "inputs")
                kwargs.append(n.Keyword("name", n.Constant(ref[0])))
            stmts.append(n.Assign([n.Name(variable)], n.Call(n.Name("Input"), [], kwargs)))
            entry[ref] = variable
        return entry, stmts

    def _import(self, module: str, cls: str) -> None:
        names = self.from_lines.setdefault(module, [])
        if cls not in names:
            names.append(cls)
            self.taken.add(cls)

    def _imported_names(self) -> set:
        return {c for names in self.from_lines.values() for c in names}

    def imports(self) -> list:
        return [n.FromImport(module, [n.ImportedName(c) for c in names]) for module, names in self.from_lines.items()]


def _check_outputs(graph: Graph, constructs: dict) -> None:
    """kd names an output after the layer made where it is bound; an output
    that no such layer makes would need a layer Keras's model does not have."""
    seen = set()
    for ref in graph.outputs:
        call = graph.call(ref)
        layer = call.layer
        why = None
        if layer.is_input:
            why = "it is an input of the model"
        elif layer.shared:
            why = f"it is made by a layer called {len(layer.calls)} times"
        elif call.n_outputs > 1:
            why = "its layer gives several tensors"
        elif constructs[layer.name].kind == "arith":
            why = "it is made by an operator, which kd cannot name"
        elif layer.name in seen:
            why = "another output is the same tensor"
        seen.add(layer.name)
        if why:
            raise ImportProblem(f"the model's output is this layer's, and {why}; kd names each output after a layer "
                                "made for it (wrap it in an Identity layer and save the model again)", layer.name)
