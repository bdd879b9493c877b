"""Whether two syntax trees are the same program, layout aside: the check the
formatter makes before it writes anything.

Spans are ignored, and so is how a string was spelt (its quotes and
escapes; its value counts); numbers must keep their spelling (`1_000`).  A
doc comment is compared without the trailing whitespace of its lines,
which the formatter removes (as black does in docstrings).  A
module's imports are compared apart from its definitions, each in order,
since the formatter moves `import` and `from` lines to the top.
"""

from __future__ import annotations

from ..records import fields
from typing import Callable, Optional

from ..syntax import tree as n
from ..syntax.comments import Attachments

_IGNORED = frozenset({"span", "name_span", "attr_span"})
_FIELDS: dict = {}


def _fields(cls) -> tuple:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in _IGNORED)
    return found


def _is_import(item) -> bool:
    return isinstance(item, (n.Import, n.FromImport))


def _module_parts(module: n.Module) -> tuple:
    return ([i for i in module.items if _is_import(i)], [i for i in module.items if not _is_import(i)])


def _same_value(a, b) -> bool:
    return type(a) is type(b) and a == b


def _doc(doc: Optional[str]) -> Optional[str]:
    if doc is None:
        return None
    return "\n".join(line.rstrip() for line in doc.split("\n")).strip("\n") or None


def tree_difference(a, b) -> Optional[str]:
    """None when A and B are the same tree (spans and string spellings
    aside); otherwise where they first differ, as a path such as
    `items[1].body[0].value.args[2]`."""
    stack = [(a, b, "")]
    while stack:
        x, y, path = stack.pop()
        if type(x) is not type(y):
            return f"{path or 'module'}: {type(x).__name__} != {type(y).__name__}"
        if isinstance(x, n.Module):
            (xi, xd), (yi, yd) = _module_parts(x), _module_parts(y)
            stack += [(xd, yd, "definitions"), (xi, yi, "imports")]
        elif isinstance(x, (list, tuple)):
            if len(x) != len(y):
                return f"{path}: {len(x)} items != {len(y)}"
            stack += [(p, q, f"{path}[{i}]") for i, (p, q) in reversed(list(enumerate(zip(x, y))))]
        elif isinstance(x, n.Constant):
            same = _same_value(x.value, y.value) and (isinstance(x.value, str) or x.raw == y.raw)
            if not same:
                return f"{path}: {x.raw or x.value!r} != {y.raw or y.value!r}"
        elif hasattr(x, "__record_fields__"):
            for name in reversed(_fields(type(x))):
                p, q = getattr(x, name), getattr(y, name)
                if name == "doc":  # from `##` comments, whose trailing whitespace goes
                    p, q = _doc(p), _doc(q)
                stack.append((p, q, f"{path}.{name}" if path else name))
        elif not _same_value(x, y):
            return f"{path}: {x!r} != {y!r}"
    return None


def same_tree(a, b) -> bool:
    """Whether syntax trees A and B are the same program, layout aside (see
    `tree_difference`)."""
    return tree_difference(a, b) is None


def comment_texts(module: n.Module) -> list:
    """MODULE's comments, in order, without trailing whitespace."""
    return [c.text.rstrip() for c in module.comments]


def expected_comments(module: n.Module, attachments: Callable[[], Attachments]) -> list:
    """The comments of MODULE in the order the formatted file holds them:
    those of `import` and `from` lines first (they move to the top with
    their lines), then the others, each group in source order.
    ATTACHMENTS gives MODULE's comment attachment when it is needed."""
    imports, _ = _module_parts(module)
    if all(_is_import(i) for i in module.items[: len(imports)]):
        return comment_texts(module)  # nothing moves
    attachments = attachments()
    import_ids = {id(i) for i in imports}
    regions = [attachments.source_map.extent(i) for i in imports]
    moved, others = [], []
    for attachment in attachments:  # in source order
        start = attachment.comment.span.start
        on_import = id(attachment.node) in import_ids and attachment.where in ("before", "after")
        if on_import or any(lo <= start < hi for lo, hi in regions):
            moved.append(attachment.comment)
        else:
            others.append(attachment.comment)
    return [c.text.rstrip() for c in moved + others]
