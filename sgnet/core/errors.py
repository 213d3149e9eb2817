"""Errors that map onto the contract's exit codes, and how a user's value is shown in one."""

import reprlib

MAX_SHOWN = 60  # characters of a value shown in a message


class SgnetError(Exception):
    exit_code = 1


class LabError(SgnetError):
    """Bad input or usage: nothing was changed (exit 2)."""

    exit_code = 2


_NO_VALUE = object()


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, MAX_SHOWN, MAX_SHOWN, 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 6


def short(value, limit: int = MAX_SHOWN) -> str:
    """repr(value) cut to `limit` characters, in time bounded by the limit (never the whole
    of a large or deeply nested value: reprlib)."""
    if isinstance(value, str):
        text = repr(value[:limit + 1])
        if len(value) > limit:
            return f"{text[:limit]}... ({len(value):,} characters)"
        return text
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond Python's int-to-string limit
        return f"<an integer of {value.bit_length():,} bits>"
    return text if len(text) <= limit else text[:limit] + "..."


def shown(value) -> str:
    """A value the user typed, quoted and cut to a readable length."""
    return short(value)


class FieldError(LabError):
    """A lab file field with a bad value: names the file, the field path and the value."""

    def __init__(self, source, path, problem, value=_NO_VALUE, allowed=None):
        self.source, self.path, self.problem = source, path, problem
        self.value, self.allowed = value, allowed
        msg = f"{source}: {path}: {problem}"
        if value is not _NO_VALUE:
            msg += f" (got {value!r})"
        if allowed:
            msg += f"; allowed: {allowed}"
        super().__init__(msg)


class EnvError(SgnetError):
    """The environment cannot run a lab (not root, a kernel feature or package missing): exit 3."""

    exit_code = 3
