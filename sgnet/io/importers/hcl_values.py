"""The values of HCL evaluation (io: pure): `Unknown` (what only `terraform apply` or a data
source would know: the resources it refers to and why it is unknown), `View` (an object
evaluated lazily: a resource, the locals, a module's outputs), `EvalError`, and Terraform's
number and string conversions (developer.hashicorp.com/terraform/language/expressions/
type-constraints#conversion-of-primitive-types).
"""

from __future__ import annotations


class EvalError(Exception):
    """An expression that has no value (a type error, a missing key, a bad argument)."""


class Unknown:
    """A value Terraform would know only at apply (or from the cloud)."""

    __slots__ = ("refs", "reasons")

    def __init__(self, refs=(), reasons=()):
        self.refs, self.reasons = tuple(refs), tuple(reasons)

    @staticmethod
    def of(*values) -> "Unknown":
        """The unknown made of every unknown among `values` (lists and dicts searched)."""
        refs, reasons = [], []
        for u in _unknowns(values):
            refs += [r for r in u.refs if r not in refs]
            reasons += [r for r in u.reasons if r not in reasons]
        return Unknown(refs, reasons)

    def __repr__(self):
        return f"Unknown({list(self.refs)}, {list(self.reasons)})"


def _unknowns(values):
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, Unknown):
            yield v
        elif isinstance(v, list):
            stack += v
        elif isinstance(v, dict):
            stack += list(v.values())


def has_unknown(value) -> bool:
    return next(_unknowns([value]), None) is not None


class View:
    """A lazily evaluated object (a resource, the locals, a module's outputs)."""

    def attr(self, name: str):
        raise EvalError(f"unsupported attribute {name!r}")

    def index(self, key):
        raise EvalError("cannot be indexed")


def number(v):
    """A number, converting a numeric string as Terraform does."""
    if isinstance(v, bool) or v is None:
        raise EvalError(f"{v!r} is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            raise EvalError(f"{v!r} is not a number") from None
        return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
    raise EvalError(f"a {type(v).__name__} is not a number")


def to_string(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if v is None:
        raise EvalError("null cannot be used in a string")
    raise EvalError(f"a {type(v).__name__} cannot be used as a string")
