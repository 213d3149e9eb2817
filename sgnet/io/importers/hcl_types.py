"""A variable's type constraint applied to its value (io: pure), as Terraform converts it
(developer.hashicorp.com/terraform/language/expressions/type-constraints): an object
type's attributes not in the type are dropped, a missing ``optional(T, DEFAULT)`` attribute
takes DEFAULT and a missing ``optional(T)`` is null (Terraform v1.3+ "Optional Object Type
Attributes"); numbers and bools become strings for ``string``, numeric strings numbers for
``number``; list(T), set(T), map(T), tuple([...]) convert their elements. Unknown values and
values that do not fit the type are kept as they are (what reads them warns).
"""

from __future__ import annotations

from lark import Tree

from sgnet.io.importers.hcl_eval import children, evaluate, object_key
from sgnet.io.importers.hcl_values import EvalError, Unknown, number, to_string

MAX_DEPTH = 32  # nested type constructors followed


class _NoNames:
    def lookup(self, name):
        raise EvalError(f"{name}: a type constraint's default cannot refer to anything")


def convert(value, type_tree, depth=0):
    """`value` converted to the type expression `type_tree`."""
    if isinstance(value, Unknown) or value is None or depth > MAX_DEPTH:
        return value
    node = _inner(type_tree)
    if node.data == "identifier":
        return _primitive(value, node.children[0].value)
    if node.data != "function_call":
        return value
    kids = children(node)
    name = kids[0].children[0].value if kids and kids[0].data == "identifier" else ""
    args = next((children(k) for k in kids if k.data == "arguments"), [])
    if name in ("list", "set") and args and isinstance(value, list):
        return [convert(v, args[0], depth + 1) for v in value]
    if name == "map" and args and isinstance(value, dict):
        return {k: convert(v, args[0], depth + 1) for k, v in value.items()}
    if name == "tuple" and args and isinstance(value, list):
        types = children(_inner(args[0]))
        return [convert(v, types[i], depth + 1) if i < len(types) else v
                for i, v in enumerate(value)]
    if name == "object" and args and isinstance(value, dict):
        return _object(value, _inner(args[0]), depth)
    return value


def _inner(tree):
    while isinstance(tree, Tree) and tree.data == "expr_term" and len(children(tree)) == 1:
        tree = children(tree)[0]
    return tree


def _primitive(value, name):
    try:
        if name == "string" and isinstance(value, (bool, int, float)):
            return to_string(value)
        if name == "number" and isinstance(value, str):
            return number(value)
        if name == "bool" and value in ("true", "false"):
            return value == "true"
    except EvalError:
        pass
    return value


def _object(value: dict, attrs_tree, depth):
    if not isinstance(attrs_tree, Tree) or attrs_tree.data != "object":
        return value
    out = {}
    for elem in children(attrs_tree):
        key_tree, type_tree = children(elem)
        key = object_key(key_tree, _NoNames())
        attr_type, default, optional = _optional(type_tree)
        if key in value and value[key] is not None:
            out[key] = convert(value[key], attr_type, depth + 1)
        elif optional and default is not None:
            out[key] = convert(evaluate(default, _NoNames()), attr_type, depth + 1)
        elif optional or key in value:
            out[key] = None
    return out


def _optional(type_tree):
    """(attribute type, default tree or None, whether it is optional(...))."""
    node = _inner(type_tree)
    if isinstance(node, Tree) and node.data == "function_call":
        kids = children(node)
        if kids and kids[0].data == "identifier" and kids[0].children[0].value == "optional":
            args = next((children(k) for k in kids if k.data == "arguments"), [])
            if args:
                return args[0], (args[1] if len(args) > 1 else None), True
    return type_tree, None, False
