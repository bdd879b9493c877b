"""kd syntax trees built by the importer, to text in kd's canonical layout.

The trees are made here, not parsed, so they carry no source positions,
which the `kdsl fmt` printer needs (for comments and the author's line
breaks).  So they are first written as plain kd, one statement a line with
every operand of an operator in parentheses, and that text goes through
`dsl.fmt.format_text`: the printer lays it out, and checks that the result
parses to the same tree.
"""

from __future__ import annotations

from ..fmt import format_text
from ..syntax import tree as n


def render(module: n.Module, header: list = (), docs: dict = None, filename: str = "imported.kd") -> str:
    """MODULE as canonical kd text.  HEADER: comment lines for the top of the
    file; DOCS: definition name -> doc comment lines (written `## ...`)."""
    docs = docs or {}
    lines = [f"# {line}".rstrip() for line in header]
    if lines:
        lines.append("")
    for item in module.items:
        if isinstance(item, (n.ModelDef, n.BlockDef)):
            lines.append("")
            lines += [f"## {line}".rstrip() for line in docs.get(item.name, ())]
        lines += _item(item)
    return format_text("\n".join(lines) + "\n", filename)


def _item(item) -> list:
    if isinstance(item, n.FromImport):
        names = ", ".join(x.name if x.alias is None else f"{x.name} as {x.alias}" for x in item.names)
        return [f"from {item.module} import {names}"]
    keyword = "model" if isinstance(item, n.ModelDef) else "block"
    params = "" if item.params is None else "(" + ", ".join(_param(p) for p in item.params) + ")"
    return [f"{keyword} {item.name}{params} {{", *_body(item.body, 1), "}"]


def _param(param: n.Param) -> str:
    return param.name if param.default is None else f"{param.name}={expr(param.default)}"


def _body(body: list, depth: int) -> list:
    out: list = []
    pad = "    " * depth
    for stmt in body:
        if isinstance(stmt, n.For):
            targets = ", ".join(t.id for t in stmt.targets)
            out.append(f"{pad}for {targets} in {expr(stmt.iterable)} {{")
            out += _body(stmt.body, depth + 1)
            out.append(pad + "}")
        else:
            out.append(pad + statement(stmt))
    return out


def statement(stmt) -> str:
    """One simple statement as a line of kd."""
    if isinstance(stmt, n.Assign):
        targets = ", ".join(t.id for t in stmt.targets) + ("," if stmt.unpack and len(stmt.targets) == 1 else "")
        annotation = f": {expr(stmt.annotation)}" if stmt.annotation is not None else ""
        return f"{targets}{annotation} = {expr(stmt.value)}"
    if isinstance(stmt, n.SetTrainable):
        return f"{stmt.target.id}.trainable = {expr(stmt.value)}"
    if isinstance(stmt, n.Output):
        names = ", ".join(x.id for x in stmt.names)
        annotation = f": {expr(stmt.annotation)}" if stmt.annotation is not None else ""
        return f"output {names}{annotation}" + (f" = {expr(stmt.value)}" if stmt.value is not None else "")
    if isinstance(stmt, n.Return):
        return "return " + ", ".join(expr(v) for v in stmt.values)
    if isinstance(stmt, n.ExprStmt):
        return expr(stmt.value)
    if isinstance(stmt, n.CompileStmt):
        return "compile(" + ", ".join(f"{k.name}={expr(k.value)}" for k in stmt.keywords) + ")"
    raise TypeError(f"the importer does not write {type(stmt).__name__}")


def expr(node) -> str:
    """An expression as kd text; operands of operators in parentheses."""
    kind = type(node)
    if kind is n.Name:
        return node.id
    if kind is n.Constant:
        return repr(node.value)
    if kind is n.TupleExpr:
        items = [expr(x) for x in node.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind is n.ListExpr:
        return "[" + ", ".join(expr(x) for x in node.items) + "]"
    if kind is n.DictExpr:
        return "{" + ", ".join(f"{expr(e.key)}: {expr(e.value)}" for e in node.entries) + "}"
    if kind is n.UnaryOp:
        return f"{node.op}({expr(node.operand)})" if node.op != "not" else f"not ({expr(node.operand)})"
    if kind is n.BinOp:
        return f"({_operand(node.left)} {node.op} {_operand(node.right)})"
    if kind is n.Call:
        parts = [expr(a) for a in node.args] + [f"{k.name}={expr(k.value)}" for k in node.keywords]
        return f"{_operand(node.func)}({', '.join(parts)})"
    if kind is n.Subscript:
        return f"{_operand(node.value)}[{expr(node.index)}]"
    if kind is n.Attribute:
        return f"{_operand(node.value)}.{node.attr}"
    if kind is n.Chain:
        return "(" + " -> ".join(_operand(s) for s in node.steps) + ")"
    raise TypeError(f"the importer does not write {kind.__name__}")


def _operand(node) -> str:
    text = expr(node)
    if isinstance(node, (n.Name, n.Constant, n.Call, n.Subscript, n.Attribute, n.TupleExpr, n.ListExpr, n.DictExpr)):
        if isinstance(node, n.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return f"({text})" if text.startswith("-") else text
        return text
    return text if text.startswith("(") and isinstance(node, (n.BinOp, n.Chain)) else f"({text})"
