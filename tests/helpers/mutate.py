"""Mutated JSON documents from a seed document, for fuzzing `sgnet import`.

`mutations(seed)` yields `Mutation(label, text)`: the seed's JSON text with one change at one
place: a value replaced by a hostile one of every JSON type (wrong types, numbers out of every
range, huge integers, Unicode digits, NUL and line breaks in strings, lone surrogates, very
long strings, deep nesting, NaN), a key deleted, a list emptied, doubled or replaced by its
first item, and the whole document replaced. `label` names the JSON path and the change, as
`sgnet import` should name it in its error: `Permissions.Permission[0].PortRange`.

The documents are text, not data: a 5,000-digit integer or 2,000 levels of nesting cannot
go through `json.dumps`, and those are exactly what the reader must survive.

`EXPORT_SETS` lists the sample exports of tests/exports/ that are imported together; a fuzz
run mutates one file of a set at a time and keeps the others as they are.

Pure: imports nothing of sgnet, touches nothing but the given data.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator, NamedTuple

EXPORTS = Path(__file__).resolve().parent.parent / "exports"

# (kind, files) imported together; each file is mutated with the others unchanged
EXPORT_SETS = [
    ("alibaba", ["alibaba_describe_security_group_attribute_web.json",
                 "alibaba_describe_security_group_attribute_db.json",
                 "alibaba_describe_security_group_attribute_ops.json",
                 "alibaba_describe_security_group_attribute_classic.json",
                 "alibaba_describe_security_groups.json"]),
    ("huawei", ["huawei_v3_list_security_groups.json", "huawei_v3_list_security_group_rules.json"]),
    ("huawei", ["huawei_v2_security_group_rules.json"]),
    ("terraform", ["terraform_alicloud_state.json"]),
    ("terraform", ["terraform_huaweicloud_plan.json"]),
]

DEEP = 3000  # beyond the JSON decoder's recursion limit
HOSTILE = [  # (label, raw JSON text)
    ("string", '"x"'), ("empty string", '""'), ("blank string", '"   "'),
    ("zero", "0"), ("minus one", "-1"), ("one", "1"), ("65536", "65536"),
    ("2**31", "2147483648"), ("20 digits", "9" * 20), ("5000 digits", "9" * 5000),
    ("float", "1.5"), ("1e400", "1e400"), ("NaN", "NaN"), ("-Infinity", "-Infinity"),
    ("true", "true"), ("false", "false"), ("null", "null"),
    ("empty list", "[]"), ("list of int", "[1]"), ("list of string", '["x"]'),
    ("list of null", "[null]"), ("list of object", "[{}]"),
    ("empty object", "{}"), ("object", '{"x": 1}'),
    ("arabic digits", '"\u0662\u0662"'), ("superscript two", '"\u00b2"'),
    ("fullwidth digits", '"\uff12\uff12"'), ("digits and NUL", '"22\\u0000"'),
    ("NUL in string", '"a\\u0000b"'), ("newline injection", '"x\\nname: evil\\n- y"'),
    ("line separator", '"a\\u2028b\\u0085c"'), ("lone surrogate", '"\\ud800"'),
    ("escape sequence", '"\\u001b[31mred"'), ("BOM", '"\\ufeffx"'),
    ("long string", '"' + "a" * 100000 + '"'), ("brackets", '"' + "[" * 20000 + '"'),
    ("dots", '"' + "a." * 20000 + '"'), ("commas", '"' + "1," * 20000 + '1"'),
    ("CIDR any", '"0.0.0.0/0"'), ("IPv6 any", '"::/0"'), ("host bits", '"10.0.0.1/8"'),
    ("scoped IPv6", '"fe80::1%eth0/64"'), ("bad address", '"999.1.1.1"'),
    ("range", '"10.0.0.9-10.0.0.1"'), ("ports backwards", '"65535/1"'),
    ("deep list", "[" * DEEP + "]" * DEEP),
    ("deep object", '{"a":' * DEEP + "1" + "}" * DEEP),
    ("nesting 150", "[" * 150 + "]" * 150),
]
SENTINEL = "@@sgnet-mutation-5e1f@@"


class Mutation(NamedTuple):
    label: str  # "<JSON path>: <what was done>"
    text: str  # the mutated document as JSON text


def json_path(parts) -> str:
    """`a.b[3].c`, as the importer names a field ('(top)' for the document itself)."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", p):
            out += f".{p}" if out else p
        else:
            out += f"[{json.dumps(p)}]"
    return out or "(top)"


def nodes(doc, parts=()) -> Iterator[tuple]:
    """(path parts, value) of every value in `doc`, the document first."""
    yield parts, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from nodes(v, parts + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from nodes(v, parts + (i,))


def _replaced(doc, parts, new):
    """A deep copy of `doc` with the value at `parts` replaced by `new`."""
    if not parts:
        return new
    head, rest = parts[0], parts[1:]
    if isinstance(doc, dict):
        return {k: (_replaced(v, rest, new) if k == head else v) for k, v in doc.items()}
    return [(_replaced(v, rest, new) if i == head else v) for i, v in enumerate(doc)]


def _deleted(doc, parts):
    head, rest = parts[0], parts[1:]
    if rest:
        if isinstance(doc, dict):
            return {k: (_deleted(v, rest) if k == head else v) for k, v in doc.items()}
        return [(_deleted(v, rest) if i == head else v) for i, v in enumerate(doc)]
    if isinstance(doc, dict):
        return {k: v for k, v in doc.items() if k != head}
    return [v for i, v in enumerate(doc) if i != head]


def _with_raw(doc, parts, raw: str) -> str:
    text = json.dumps(_replaced(doc, parts, SENTINEL), ensure_ascii=False)
    return text.replace(json.dumps(SENTINEL), raw, 1)


def _variants(value) -> list:
    """Changes derived from the value itself: near misses of the right type."""
    out = []
    if isinstance(value, str):
        out += [("value + NUL", json.dumps(value + "\0")),
                ("value + newline injection", json.dumps(value + "\nhosts: [{name: x}]")),
                ("value as number", str(int(value)) if re.fullmatch(r"\s*-?[0-9]{1,18}\s*",
                                                                  value) else "7"),
                ("value as list", json.dumps([value])),
                ("value in Unicode digits",
                 json.dumps(value.translate(str.maketrans("0123456789",
                                                          "\u0660\u0661\u0662\u0663\u0664"
                                                          "\u0665\u0666\u0667\u0668\u0669"))))]
    elif isinstance(value, bool):
        out += [("value as string", json.dumps(str(value).lower())),
                ("value as int", str(int(value)))]
    elif isinstance(value, int):
        out += [("value as string", json.dumps(str(value))), ("negated", str(-value - 1)),
                ("plus 2**40", str(value + 2 ** 40)), ("as float", f"{value}.5")]
    elif isinstance(value, list) and value:
        out += [("emptied", "[]"), ("first item only", json.dumps(value[0])),
                ("doubled", json.dumps(value + value))]
    return out


def _specs(doc, hostile):
    """What `mutations` does, as cheap (label, kind, parts, raw) tuples."""
    for parts, value in list(nodes(doc)):
        where = json_path(parts)
        for label, raw in hostile + _variants(value):
            yield (f"{where}: {label}", "replace", parts, raw)
        if parts:
            yield (f"{where}: deleted", "delete", parts, None)
    yield ("(top): not JSON", "text", (), '{"a": ')
    yield ("(top): empty file", "text", (), "")
    yield ("(top): NUL bytes", "text", (), "\0" * 64)


def _render(doc, spec) -> Mutation:
    label, kind, parts, raw = spec
    if kind == "replace":
        return Mutation(label, _with_raw(doc, parts, raw))
    if kind == "delete":
        return Mutation(label, json.dumps(_deleted(doc, parts), ensure_ascii=False))
    return Mutation(label, raw)


def mutations(seed, hostile=HOSTILE) -> Iterator[Mutation]:
    """Every mutation of `seed` (JSON text or data), one at a time: at every path, every
    value of `hostile` and the value's own near misses; every key and list item deleted."""
    doc = json.loads(seed) if isinstance(seed, str) else seed
    for spec in _specs(doc, hostile):
        yield _render(doc, spec)


def count(seed, hostile=HOSTILE) -> int:
    doc = json.loads(seed) if isinstance(seed, str) else seed
    return sum(1 for _ in _specs(doc, hostile))


def sample(seed, n: int, rng_seed: int = 0, hostile=HOSTILE) -> list:
    """`n` mutations of `seed` drawn at random (reproducibly) from `mutations(seed)`."""
    doc = json.loads(seed) if isinstance(seed, str) else seed
    specs = list(_specs(doc, hostile))
    return [_render(doc, s) for s in random.Random(rng_seed).sample(specs, min(n, len(specs)))]


def seed_text(name: str) -> str:
    return (EXPORTS / name).read_text(encoding="utf-8")
