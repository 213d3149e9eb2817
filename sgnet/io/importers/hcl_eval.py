"""HCL2 expressions -> values, without running Terraform (io: pure).

Evaluates the expressions of python-hcl2's parse tree (its Lark grammar, hcl2.lark) the way
Terraform's language documentation describes them (developer.hashicorp.com/terraform/language/
expressions): literals, templates and heredocs, tuples and objects, operators, conditionals,
`for` expressions, splats, attribute and index traversals, and the functions of
hcl_functions. A value is plain Python (str, int/float, bool, None, list, dict) or an
`Unknown`: what only `terraform apply` or a data source would know, carrying the resources it
refers to (`refs`: how a rule finds its group, as a plan's configuration.references does) and
why it is unknown (`reasons`, for the warnings). Names (var, local, a resource type, module,
data, count, each, path, for-variables) are looked up in a `scope`: an object whose
`lookup(name)` gives a value or a lazy view with `attr(name)` / `index(key)`.
"""

from __future__ import annotations

from lark import Token, Tree

from hcl2.api import parses_to_tree
from hcl2.utils import process_escape_sequences

from sgnet.io.importers.hcl_functions import FUNCTIONS
from sgnet.io.importers.hcl_values import (EvalError, Unknown, View, has_unknown, number,
                                           to_string)

MAX_ITEMS = 100_000  # elements a for expression, splat or function may produce


def children(tree: Tree) -> list:
    """The meaningful children: no line breaks, comments or punctuation tokens."""
    return [c for c in tree.children
            if not (isinstance(c, Tree) and c.data == "new_line_or_comment")
            and not (isinstance(c, Token) and c.type in _PUNCTUATION)]


_PUNCTUATION = {"LPAR", "RPAR", "LSQB", "RSQB", "LBRACE", "RBRACE", "COMMA", "DOT", "EQ",
                "COLON", "DBLQUOTE", "INTERP_START", "QMARK", "ELLIPSIS", "FOR_OBJECT_ARROW",
                "NL_OR_COMMENT", "FOR", "IN", "IF", "COLONS"}


def evaluate(tree, scope):
    """The value of expression `tree` in `scope` (EvalError when it has none)."""
    if isinstance(tree, Token):
        raise EvalError(f"unexpected {tree.type}")
    handler = _HANDLERS.get(tree.data)
    if handler is None:
        return Unknown(reasons=[f"the expression form {tree.data} is not evaluated"])
    return handler(tree, scope)


def _expr_term(tree, scope):
    kids = children(tree)
    if len(kids) != 1:
        raise EvalError("an expression term of several parts")
    return evaluate(kids[0], scope)


def _literal(tree, scope):
    word = tree.children[0].value
    return {"true": True, "false": False, "null": None}[word]


def _int(tree, scope):
    return int(tree.children[0].value)


def _float(tree, scope):
    v = float(tree.children[0].value)
    return int(v) if v.is_integer() else v


def _string(tree, scope):
    parts = []
    for part in children(tree):
        for piece in part.children:
            parts.append(_string_piece(piece, scope))
    return _concat_template(parts)


def _string_piece(piece, scope):
    if isinstance(piece, Token):
        if piece.type == "STRING_CHARS":
            return process_escape_sequences(piece.value)
        if piece.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
            return piece.value[1:]  # $${ is a literal ${, %%{ a literal %{
        raise EvalError(f"unexpected {piece.type} in a string")
    if piece.data == "interpolation":
        return evaluate(children(piece)[0], scope)
    return Unknown(reasons=["a template directive (%{ ... }) is not evaluated"])


def _concat_template(parts):
    if any(isinstance(p, Unknown) for p in parts):
        return Unknown.of(*parts)
    return "".join(p if isinstance(p, str) else to_string(p) for p in parts)


def _heredoc(tree, scope):
    text = tree.children[0].value
    lines = text.split("\n")
    body = lines[1:-2]  # the marker line, then the closing marker and the final newline
    if tree.data == "heredoc_template_trim":
        # <<- removes the smallest indentation of the non-blank lines from every line
        indents = [len(x) - len(x.lstrip(" \t")) for x in body if x.strip()]
        cut = min(indents, default=0)
        body = [x[cut:] for x in body]
    return template("\n".join(body) + ("\n" if body else ""), scope)


def template(text: str, scope):
    """A heredoc's text with its ${ ... } interpolations evaluated."""
    parts, pos = [], 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            parts.append(text[pos:])
            return _concat_template(parts)
        if start > 0 and text[start - 1] == "$":  # $${ is a literal ${
            parts.append(text[pos:start])
            pos = start + 1
            parts.append("$")
            continue
        end = _closing_brace(text, start + 2)
        parts.append(text[pos:start])
        tree = parses_to_tree(f"x = {text[start + 2:end]}\n")
        attribute = next(c for c in tree.children[0].children if isinstance(c, Tree)
                         and c.data == "attribute")
        parts.append(evaluate(children(attribute)[1], scope))
        pos = end + 1


def _closing_brace(text: str, pos: int) -> int:
    depth, quoted = 0, False
    for i in range(pos, len(text)):
        c = text[i]
        if quoted:
            if c == '"' and text[i - 1] != "\\":
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
    raise EvalError("an interpolation ${ without its closing }")


def _tuple(tree, scope):
    return [evaluate(c, scope) for c in children(tree)]


def _object(tree, scope):
    out = {}
    for elem in children(tree):
        key_tree, value_tree = children(elem)
        key = object_key(key_tree, scope)
        if isinstance(key, Unknown):
            return Unknown.of(key)
        out[key] = evaluate(value_tree, scope)
    return out


def object_key(key_tree, scope):
    """An object key: a bare name is the name itself, anything else is evaluated."""
    inner = children(key_tree)[0]
    if isinstance(inner, Tree) and inner.data == "keyword":
        return inner.children[0].value
    if isinstance(inner, Tree) and inner.data == "expr_term":
        kids = children(inner)
        if len(kids) == 1 and isinstance(kids[0], Tree) and kids[0].data == "identifier":
            return kids[0].children[0].value
    key = evaluate(inner, scope)
    return key if isinstance(key, (str, Unknown)) else to_string(key)


def _identifier(tree, scope):
    return scope.lookup(tree.children[0].value)


def _get_attr(tree, scope):
    base, step = children(tree)
    return get_attr(evaluate(base, scope), _attr_name(step))


def _attr_name(step) -> str:
    return children(step)[0].children[0].value


def _index(tree, scope):
    base, step = children(tree)
    return index(evaluate(base, scope), _index_key(step, scope))


def _index_key(step, scope):
    if step.data == "short_index":
        return int(next(c for c in step.children if isinstance(c, Token)
                        and c.type == "INT_LITERAL").value)
    return evaluate(children(step)[0], scope)


def get_attr(value, name: str):
    if isinstance(value, Unknown):
        return value
    if isinstance(value, View):
        return value.attr(name)
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"has no attribute {name!r}")
        return value[name]
    raise EvalError(f"a {_type(value)} has no attribute {name!r}")


def index(value, key):
    if isinstance(value, Unknown) or isinstance(key, Unknown):
        return Unknown.of(value, key)
    if isinstance(value, View):
        return value.index(key)
    if isinstance(value, list):
        n = number(key)
        if not isinstance(n, int) or not 0 <= n < len(value):
            raise EvalError(f"index {key!r} is out of range (length {len(value)})")
        return value[n]
    if isinstance(value, dict):
        k = key if isinstance(key, str) else to_string(key)
        if k not in value:
            raise EvalError(f"has no key {k!r}")
        return value[k]
    raise EvalError(f"a {_type(value)} cannot be indexed")


def _splat(tree, scope):
    base, splat = children(tree)
    value = evaluate(base, scope)
    if isinstance(value, Unknown):
        return value
    if isinstance(value, View):
        value = value.index("*")  # a resource's instances
    if value is None:
        items = []
    elif isinstance(value, list):
        items = value
    else:
        items = [value]  # a splat on a single value makes a one-item list
    steps = [s for s in children(splat) if isinstance(s, Tree)]
    out = []
    for item in items:
        for step in steps:
            if step.data == "get_attr":
                item = get_attr(item, _attr_name(step))
            else:
                item = index(item, _index_key(step, scope))
        out.append(item)
    return out


def _conditional(tree, scope):
    cond_tree, yes, no = children(tree)
    cond = evaluate(cond_tree, scope)
    if isinstance(cond, Unknown):
        return Unknown.of(cond, _try_evaluate(yes, scope), _try_evaluate(no, scope))
    if not isinstance(cond, bool):
        raise EvalError(f"the condition is a {_type(cond)}, not a bool")
    return evaluate(yes if cond else no, scope)


def _try_evaluate(tree, scope):
    try:
        return evaluate(tree, scope)
    except EvalError as e:
        return Unknown(reasons=[str(e)])


def _function(tree, scope):
    kids = children(tree)
    names = [k.children[0].value for k in kids if k.data == "identifier"]
    name = "::".join(names)
    args_tree = next((k for k in kids if k.data == "arguments"), None)
    arg_trees = children(args_tree) if args_tree is not None else []
    expand = args_tree is not None and any(
        isinstance(c, Token) and c.type == "ELLIPSIS" for c in args_tree.children)
    if name in ("try", "can"):
        return _try_can(name, arg_trees, scope)
    fn = FUNCTIONS.get(name)
    if fn is None:
        return Unknown(reasons=[f"function {name}() is not evaluated by sgnet"])
    args = [evaluate(a, scope) for a in arg_trees]
    if expand and args:
        if isinstance(args[-1], Unknown):
            return Unknown.of(*args)
        args = args[:-1] + list(args[-1])
    if name not in _UNKNOWN_TOLERANT and any(has_unknown(a) for a in args):
        return Unknown.of(*args)
    try:
        return fn(*args)
    except TypeError:
        raise EvalError(f"{name}() called with {len(args)} arguments") from None


# functions whose result may be known when only some arguments are
_UNKNOWN_TOLERANT = {"concat", "length", "element", "lookup", "flatten", "coalesce", "merge",
                     "tolist", "toset", "compact", "one"}


def _try_can(name, arg_trees, scope):
    for a in arg_trees:
        try:
            value = evaluate(a, scope)
        except EvalError:
            if name == "can":
                return False
            continue
        return True if name == "can" and not isinstance(value, Unknown) else value
    if name == "can":
        return False
    raise EvalError("no argument of try() could be evaluated")


def _unary(tree, scope):
    op, operand = tree.children[0].value, evaluate(tree.children[1], scope)
    if isinstance(operand, Unknown):
        return operand
    if op == "!":
        if not isinstance(operand, bool):
            raise EvalError(f"! on a {_type(operand)}")
        return not operand
    return -number(operand)


def _binary(tree, scope):
    left_tree, term = children(tree)[:2]
    op_tree, right_tree = children(term)
    op = op_tree.children[0].value
    left = evaluate(left_tree, scope)
    if op in ("&&", "||") and isinstance(left, bool) and left == (op == "||"):
        return left  # Terraform needs both sides known; a known short cut is harmless
    right = evaluate(right_tree, scope)
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return Unknown.of(left, right)
    return _BINARY[op](left, right)


def _logic(a, b, op):
    if not isinstance(a, bool) or not isinstance(b, bool):
        raise EvalError(f"{op} needs bools")
    return (a and b) if op == "&&" else (a or b)


def _arith(a, b, op):
    x, y = number(a), number(b)
    if op in ("/", "%") and y == 0:
        raise EvalError("division by zero")
    r = {"+": x + y, "-": x - y, "*": x * y}.get(op) if op in "+-*" else \
        (x / y if op == "/" else x % y)
    return int(r) if isinstance(r, float) and r.is_integer() else r


_BINARY = {
    "==": lambda a, b: a == b and type(a) is type(b) or (a is None and b is None),
    "!=": lambda a, b: not (a == b and type(a) is type(b) or (a is None and b is None)),
    "<": lambda a, b: number(a) < number(b), ">": lambda a, b: number(a) > number(b),
    "<=": lambda a, b: number(a) <= number(b), ">=": lambda a, b: number(a) >= number(b),
    "&&": lambda a, b: _logic(a, b, "&&"), "||": lambda a, b: _logic(a, b, "||"),
    **{op: (lambda o: lambda a, b: _arith(a, b, o))(op) for op in "+-*/%"},
}


def _for_tuple(tree, scope):
    intro, body, cond = _for_parts(tree)
    out = []
    for inner in _for_scopes(intro, scope):
        if cond is not None and not _condition(cond, inner):
            continue
        out.append(evaluate(body, inner))
    return out


def _for_object(tree, scope):
    intro, (key_tree, value_tree), cond = _for_parts(tree, pairs=True)
    grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in tree.children)
    out = {}
    for inner in _for_scopes(intro, scope):
        if cond is not None and not _condition(cond, inner):
            continue
        key = evaluate(key_tree, inner)
        if isinstance(key, Unknown):
            return Unknown.of(key)
        key = key if isinstance(key, str) else to_string(key)
        value = evaluate(value_tree, inner)
        if grouping:
            out.setdefault(key, []).append(value)
        elif key in out:
            raise EvalError(f"duplicate key {key!r} in a for expression")
        else:
            out[key] = value
    return out


def _for_parts(tree, pairs=False):
    kids = [c for c in children(tree) if isinstance(c, Tree)]
    intro = kids[0]
    cond = next((k for k in kids if k.data == "for_cond"), None)
    body = [k for k in kids[1:] if k.data != "for_cond"]
    return intro, (body if pairs else body[0]), cond


def _condition(cond_tree, scope) -> bool:
    value = evaluate([c for c in children(cond_tree) if isinstance(c, Tree)][0], scope)
    if isinstance(value, Unknown):
        raise _UnknownCollection(value)
    if not isinstance(value, bool):
        raise EvalError("a for expression's if is not a bool")
    return value


class _UnknownCollection(Exception):
    def __init__(self, unknown):
        super().__init__("unknown")
        self.unknown = unknown


def _for_scopes(intro, scope):
    kids = [c for c in children(intro) if isinstance(c, Tree)]
    names = [k.children[0].value for k in kids if k.data == "identifier"]
    collection = evaluate(kids[-1], scope)
    if isinstance(collection, Unknown):
        raise _UnknownCollection(collection)
    pairs = iterate(collection)
    if len(pairs) > MAX_ITEMS:
        raise EvalError(f"a for expression over more than {MAX_ITEMS} items")
    for key, value in pairs:
        bound = {names[0]: value} if len(names) == 1 else {names[0]: key, names[1]: value}
        yield Bound(scope, bound)


def iterate(collection) -> list:
    """(key, value) of a list (index), a map or object (keys in lexical order, as
    Terraform iterates them)."""
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, dict):
        return [(k, collection[k]) for k in sorted(collection)]
    if isinstance(collection, View):
        return iterate(collection.index("*"))
    raise EvalError(f"cannot iterate over a {_type(collection)}")


def _for_guard(handler):
    def run(tree, scope):
        try:
            return handler(tree, scope)
        except _UnknownCollection as e:
            return Unknown.of(e.unknown)
    return run


class Bound:
    """A scope with names bound (for-expression variables), the rest looked up outside."""

    def __init__(self, outer, names: dict):
        self.outer, self.names = outer, names

    def lookup(self, name):
        if name in self.names:
            return self.names[name]
        return self.outer.lookup(name)

    def __getattr__(self, name):  # the outer scope's context (module, warnings)
        return getattr(self.outer, name)


def _type(value) -> str:
    for t, name in ((bool, "bool"), (str, "string"), ((int, float), "number"),
                    (list, "list"), (dict, "object")):
        if isinstance(value, t):
            return name
    return "null" if value is None else "value"


_HANDLERS = {
    "expr_term": _expr_term, "literal_value": _literal, "int_lit": _int, "float_lit": _float,
    "string": _string, "heredoc_template": _heredoc, "heredoc_template_trim": _heredoc,
    "tuple": _tuple, "object": _object, "identifier": _identifier,
    "get_attr_expr_term": _get_attr, "index_expr_term": _index,
    "attr_splat_expr_term": _splat, "full_splat_expr_term": _splat,
    "conditional": _conditional, "function_call": _function, "unary_op": _unary,
    "binary_op": _binary, "for_tuple_expr": _for_guard(_for_tuple),
    "for_object_expr": _for_guard(_for_object),
}
