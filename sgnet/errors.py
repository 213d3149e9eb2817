"""Errors that map onto the contract's exit codes."""


class SgnetError(Exception):
    exit_code = 1


class LabError(SgnetError):
    """Bad input or usage: nothing was changed (exit 2)."""

    exit_code = 2


_NO_VALUE = object()


def shown(value) -> str:
    """A value the user typed, quoted and cut to a readable length (labfile.short)."""
    from .labfile import short  # labfile imports this module
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
