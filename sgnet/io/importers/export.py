"""An export file, read (io: reads one file, pure otherwise): bounded JSON and the typed
accessor every format reader goes through.

`load_json` reads a file (labfile.read_text: regular files only, within the size limit;
UTF-8, a BOM allowed) into a `Node`. Integers of more than MAX_DIGITS digits, NaN and
Infinity stay unconverted (refused where a field reads them); nesting beyond MAX_DEPTH is
refused with where it happens. A `Node` is one value and its JSON path; its methods check the
JSON type of a field (null is a missing field) and raise `ExportError` naming the file, the
path (``Permissions.Permission[3].PortRange``) and the value, cut to a readable length
(`show`, `short`, `printable`: an export's text never starts a new line in a message).
"""

from __future__ import annotations

import json
import re
from typing import Optional

from sgnet.core.errors import _NO_VALUE, FieldError, LabError
from sgnet.io.labfile import read_text

MAX_DEPTH = 100  # levels of JSON nesting (a Terraform plan of modules in modules stays far below)
MAX_DIGITS = 18  # digits of an integer (every number of an export fits in 64 bits)
MAX_TEXT = 4096  # characters of an id, name, address, CIDR or port field
MAX_DESCRIPTION = 1024  # characters kept of a description (the clouds allow 255 to 512)
MAX_SHOWN = 60  # characters of a value shown in a message


class ExportError(FieldError):
    """A malformed export: the file, the JSON path of the field and its value (cut)."""

    def __init__(self, source, path, problem, value=_NO_VALUE):
        self.source, self.path, self.problem = source, path, problem
        self.value, self.allowed = value, None
        shown = path if len(path) <= 200 else f"{path[:150]}...{path[-40:]}"
        msg = f"{source}: {shown}: {problem}"
        if value is not _NO_VALUE:
            msg += f" (got {show(value)})"
        LabError.__init__(self, msg)


class _Unreadable:
    """A JSON number Python must not convert (too many digits, NaN, Infinity)."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return self.what


def printable(text: str) -> str:
    """`text` with every non-printable character (NUL, line breaks, escapes, lone
    surrogates) written as its Python escape; printable non-ASCII text is kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def short(text: str, limit: int = MAX_SHOWN) -> str:
    """An export's string for a message: printable, cut to `limit` characters."""
    if len(text) > limit:
        return printable(text[:limit]) + f"...({len(text)} characters)"
    return printable(text)


def show(value) -> str:
    """A value of an export as a message shows it: cut, printable, never expanded."""
    if isinstance(value, str):
        if len(value) > MAX_SHOWN:
            return repr(value[:MAX_SHOWN]) + f"...({len(value)} characters)"
        return repr(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        keys = ", ".join(short(str(k), 20) for k in list(value)[:5])
        return f"an object{' with keys ' + keys if keys else ''}" + \
            (", ..." if len(value) > 5 else "")
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return short(repr(value))


_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Node:
    """One value of an export and where it is (file, JSON path). Every field is read through
    these methods: each checks the JSON type and raises ExportError naming the path; null is
    the same as a missing field."""

    __slots__ = ("value", "file", "parent", "key")

    def __init__(self, value, file: str, parent: "Optional[Node]" = None, key=None):
        # the path is built from parent and key only when a message needs it
        self.value, self.file, self.parent, self.key = value, file, parent, key

    @property
    def path(self) -> str:
        steps, node = [], self
        while node is not None and node.parent is not None:
            steps.append(node.key)
            node = node.parent
        out = ""
        for key in reversed(steps):
            if isinstance(key, int):
                out += f"[{key}]"
            elif _SIMPLE_KEY.fullmatch(key):
                out += f".{key}" if out else key
            else:
                out += f"[{json.dumps(short(key, 40), ensure_ascii=False)}]"
        return out

    def fail(self, problem, value=_NO_VALUE):
        raise ExportError(self.file, self.path or "(top)", problem, value)

    def _expected(self, what):
        self.fail(f"must be {what}", self.value)

    def child(self, key) -> "Node":
        if isinstance(self.value, dict):
            return Node(self.value.get(key), self.file, self, key)
        return Node(self.value[key] if isinstance(key, int) else None, self.file, self, key)

    def __getitem__(self, key: str) -> "Node":
        """The field `key` of this object (a null node when it is missing)."""
        if not isinstance(self.value, dict):
            self._expected("an object")
        return self.child(key)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def is_object(self) -> bool:
        return isinstance(self.value, dict)

    def object(self) -> "Node":
        """This value as an object ({} when null)."""
        if self.value is None:
            return Node({}, self.file, self.parent, self.key)
        if not isinstance(self.value, dict):
            self._expected("an object")
        return self

    def items(self, required=False) -> list:
        """The items of this list ([] when null)."""
        if self.value is None and not required:
            return []
        if not isinstance(self.value, list):
            self._expected("a list")
        return [self.child(i) for i in range(len(self.value))]

    def objects(self, required=False) -> list:
        """The items of this list, each an object."""
        out = self.items(required)
        for item in out:
            if not isinstance(item.value, dict):
                item._expected("an object")
        return out

    def entries(self) -> list:
        """(key, node) of this object's fields."""
        return [(k, self.child(k)) for k in self.object().value]

    def text(self, limit: int = MAX_TEXT) -> str:
        """A string field, stripped ('' when null)."""
        v = self.value
        if v is None:
            return ""
        if not isinstance(v, str):
            self._expected("a string")
        if len(v) > limit:
            self.fail(f"is longer than {limit} characters", v)
        return v.strip()

    def required_text(self, what: str) -> str:
        t = self.text()
        if not t:
            self.fail(f"is required ({what})", self.value)
        return t

    def texts(self) -> list:
        """A list of strings (null items skipped), each stripped, empty ones left out."""
        out = []
        for item in self.items():
            t = item.text()
            if t:
                out.append(t)
        return out

    def description(self) -> str:
        """A free text: printable (escapes for the rest), cut to MAX_DESCRIPTION."""
        v = self.value
        if v is None:
            return ""
        if not isinstance(v, str):
            self._expected("a string")
        text = v.strip()[:MAX_DESCRIPTION]
        return printable(text)[:MAX_DESCRIPTION]

    def scalar(self):
        """A field that is a string or an integer (ports, priority, protocol): the value,
        stripped if a string (None when null)."""
        v = self.value
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            self._expected("a string or an integer")
        if isinstance(v, int):
            return v
        return self.text()

    def flag(self) -> Optional[bool]:
        """A true/false field (None when null)."""
        if self.value is None or isinstance(self.value, bool):
            return self.value
        self._expected("true or false")



def load_json(path: str) -> Node:
    """An export file as a Node. Integers beyond MAX_DIGITS digits and NaN/Infinity are
    kept unconverted (refused where a field reads them); nesting is bounded."""
    text = read_text(path, "the export", encoding="utf-8-sig")
    try:
        data = json.loads(text, parse_int=_json_int, parse_constant=_Unreadable)
    except json.JSONDecodeError as e:
        raise LabError(f"{path}: not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
                       ) from None
    except RecursionError:  # deeper than Python's own stack: find where, from the text
        raise LabError(f"{path}: {_too_deep_at(text)}: JSON nested deeper than {MAX_DEPTH} "
                       "levels") from None
    _check_depth(path, data)
    return Node(data, path)


def _too_deep_at(text: str) -> str:
    """'line L, column C' where the nesting of JSON `text` first goes beyond MAX_DEPTH."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                return f"line {line}, column {m.start() - text.rfind(chr(10), 0, m.start())}"
        elif c in "]}":
            depth -= 1
    return "(top)"


def _json_int(digits: str):
    if len(digits.lstrip("-")) > MAX_DIGITS:
        return _Unreadable(f"a number of {len(digits.lstrip('-'))} digits")
    return int(digits)


def _check_depth(path: str, data):
    """Refuse nesting deeper than MAX_DEPTH (the readers recurse into Terraform modules).
    One level at a time, with no per-value objects: a 16 MB file of small lists takes a
    fraction of a second; the path is looked for only when the nesting is too deep."""
    level, depth = ([data] if isinstance(data, (dict, list)) else []), 1
    while level:
        if depth > MAX_DEPTH:
            _deepest(Node(data, path)).fail(f"nested deeper than {MAX_DEPTH} levels")
        nxt = []
        for v in level:
            nxt += [c for c in (v.values() if isinstance(v, dict) else v)
                    if isinstance(c, (dict, list))]
        level, depth = nxt, depth + 1


def _deepest(top: Node) -> Node:
    """The first value, in document order, nested MAX_DEPTH + 1 levels deep."""
    stack = [(top, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        v = node.value
        keys = list(v) if isinstance(v, dict) else range(len(v))
        stack += [(node.child(k), depth + 1) for k in reversed(keys)
                  if isinstance(v[k], (dict, list))]
    return top


def unrecognised(path, kind, expected):
    return LabError(f"{path}: not a recognised {kind} export; expected {expected}")


# An API's error body instead of the data (Huawei: error_code / error_msg, Neutron:
# NeutronError {type, message}; Alibaba: Code / Message / RequestId): said as such.
ERROR_FIELDS = (("error_code", "error_msg"), ("Code", "Message"))


def error_response(path, kind, data: "Node"):
    """The LabError for an API error response, None when `data` is not one."""
    if not data.is_object():
        return None
    if data.has("NeutronError") and data["NeutronError"].is_object():
        data = data["NeutronError"]
        code, message = data["type"].text(), data["message"].text()
    else:
        found = [(data[c].text(), data[m].text()) for c, m in ERROR_FIELDS
                 if data.has(c) and data.has(m)]
        if not found:
            return None
        code, message = found[0]
    return LabError(f"{path}: an error response of the {kind} API, not data: "
                    f"{short(code)}: {short(message)} (export the listing again)")

