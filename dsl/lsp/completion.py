"""Completion and signature help: layer classes and applications with their
signatures, keyword arguments of the call being written, enumerated string
values, names in scope, blocks and models, and `ops.` functions."""

from __future__ import annotations

from typing import Optional

from lsprotocol import types as lsp

from .. import catalog as kcat
from .. import ops_catalog
from ..semantics.scope import BUILTINS, scope_of
from ..session.symbols import enclosing_definition
from ..syntax import tree as n
from .context import CallContext, CursorContext

KEYWORDS = ("model", "block", "for", "in", "if", "else", "return", "output", "import", "from", "as",
            "compile", "and", "or", "not", "True", "False", "None")
COMPILE_VALUES = {"optimizer": "optimizers", "loss": "losses", "metrics": "metrics", "weighted_metrics": "metrics"}


def _signature_text(name: str, params) -> str:
    shown = []
    for p in params:
        if p.required:
            shown.append(p.name)
        else:
            shown.append(f"{p.name}={_default(p.default)}")
    return f"{name}({', '.join(shown)})"


def _default(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    text = repr(value)
    return text if len(text) <= 24 else "..."


def _item(label: str, kind, detail: str = "", insert: Optional[str] = None, doc: str = "") -> lsp.CompletionItem:
    return lsp.CompletionItem(label=label, kind=kind, detail=detail or None, insert_text=insert,
                              documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc) if doc else None)


def _definition_of(analysis, file, name: str):
    found = file.definition(name) if file is not None else None
    return found[1] if found is not None else None


def _callee_params(analysis, file, callee: str) -> Optional[list]:
    """(name, required, default text) of the parameters of CALLEE, or None."""
    cat = kcat.load()
    if callee.startswith("ops."):
        info = ops_catalog.op(callee[4:])
        return [(p.name, p.required, _default(p.default)) for p in info.params] if info else None
    if callee == "compile":
        return [(p.name, p.required, _default(p.default)) for p in cat.compile_params()]
    if callee == "Input":
        return [(p.name, p.required, _default(p.default)) for p in cat.input_params()]
    info = cat.layer(callee) or cat.application(callee)
    if info is not None:
        return [(p.name, p.required, _default(p.default)) for p in info.signature.params]
    definition = _definition_of(analysis, file, callee)
    if definition is not None:
        source = _source_of(analysis, definition)
        return [(p.name, p.default is None, source[p.span.start:p.span.end].split("=", 1)[-1] if p.default is not None else "")
                for p in definition.params or []]
    return None


def _source_of(analysis, definition) -> str:
    for file in analysis.files:
        if definition in file.module.definitions:
            return file.module.source
    return ""


def _enum_values(call: Optional[CallContext], keyword: str) -> list:
    cat = kcat.load()
    if call is not None and call.callee == "compile" and keyword in COMPILE_VALUES:
        return sorted(cat.identifiers(COMPILE_VALUES[keyword]))
    if call is not None and cat.layer(call.callee) is not None:
        allowed = cat.allowed_values(call.callee, keyword)
        if allowed:
            return sorted(v for v in allowed if isinstance(v, str))
    if keyword == "activation":
        return sorted(cat.activations())
    return []


def _keyword_items(analysis, file, call: CallContext) -> list:
    params = _callee_params(analysis, file, call.callee) or []
    return [_item(f"{name}=", lsp.CompletionItemKind.Property, f"{call.callee}: {name}" + ("" if required else f" = {default}"),
                  f"{name}=") for name, required, default in params if name not in call.keywords]


def _name_items(analysis, file, offset: int) -> list:
    cat = kcat.load()
    items = []
    definition = enclosing_definition(file, offset) if file is not None else None
    if definition is not None:
        for name in sorted(scope_of(file, definition).names):
            items.append(_item(name, lsp.CompletionItemKind.Variable, "local"))
    if file is not None:
        for name, (_, item) in sorted(file.visible.items()):
            kind = "model" if isinstance(item, n.ModelDef) else "block"
            items.append(_item(name, lsp.CompletionItemKind.Function, kind, doc=item.doc or ""))
        for name in sorted(file.from_names):
            items.append(_item(name, lsp.CompletionItemKind.Class, "custom layer"))
    for name in cat.layer_names():
        info = cat.layer(name)
        items.append(_item(name, lsp.CompletionItemKind.Class, _signature_text(name, info.signature.params), doc=cat.doc(name)))
    for name in cat.application_names():
        info = cat.application(name)
        items.append(_item(name, lsp.CompletionItemKind.Class, "keras.applications: " + _signature_text(name, info.signature.params),
                           doc=cat.doc(name)))
    for name in cat.merge_helper_names():
        items.append(_item(name, lsp.CompletionItemKind.Function, "merge helper", doc=cat.doc(name)))
    items.append(_item("Input", lsp.CompletionItemKind.Class, _signature_text("Input", cat.input_params())))
    items += [_item(b, lsp.CompletionItemKind.Function, "builtin") for b in BUILTINS]
    items += [_item(k, lsp.CompletionItemKind.Keyword) for k in KEYWORDS]
    return items


def completions(analysis, file, context: CursorContext, offset: int) -> list:
    """The completion items at a cursor in CONTEXT (ANALYSIS is the latest
    check of the file, FILE its SourceFile, perhaps from an older text)."""
    if context.ops_prefix is not None:
        ops = ops_catalog.load()
        return [_item(name, lsp.CompletionItemKind.Function, _signature_text(f"ops.{name}", ops.op(name).params),
                      doc=ops.op(name).doc) for name in ops.op_names() if ops.op(name).has_rule]
    if context.in_string:
        if context.string_of is None:
            return []
        return [_item(v, lsp.CompletionItemKind.EnumMember, f"{context.string_of}") for v in _enum_values(context.call, context.string_of)]
    items = []
    if context.call is not None and context.call.current_keyword is None:
        items += _keyword_items(analysis, file, context.call)
    return items + _name_items(analysis, file, offset)


def signature_help(analysis, file, call: Optional[CallContext]) -> Optional[lsp.SignatureHelp]:
    """The signature of the call being written, with the current parameter."""
    if call is None:
        return None
    params = _callee_params(analysis, file, call.callee)
    if params is None:
        return None
    labels = [name if required else f"{name}={default}" for name, required, default in params]
    names = [name for name, _, _ in params]
    if call.current_keyword in names:
        active = names.index(call.current_keyword)
    else:
        active = min(call.argument, max(len(params) - 1, 0))
    doc = kcat.load().doc(call.callee)
    signature = lsp.SignatureInformation(
        label=f"{call.callee}({', '.join(labels)})",
        documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc) if doc else None,
        parameters=[lsp.ParameterInformation(label=label) for label in labels],
    )
    return lsp.SignatureHelp(signatures=[signature], active_signature=0, active_parameter=active)
