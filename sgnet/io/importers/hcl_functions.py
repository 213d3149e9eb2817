"""The Terraform functions sgnet evaluates in HCL (io: pure).

The built-in functions real security-group configurations use for names, CIDRs, ports and
lists, as Terraform's function reference describes them
(developer.hashicorp.com/terraform/language/functions). Any other function is not
evaluated: its result is unknown (hcl_eval), and a field that needs it is warned about.
A function given an unknown argument returns unknown unless it is listed in
hcl_eval._UNKNOWN_TOLERANT (then it sees Unknown values among its arguments).
"""

from __future__ import annotations

import ipaddress
import re

from sgnet.io.importers.hcl_values import EvalError, Unknown, number, to_string


MAX_LENGTH = 100_000  # items or characters a function may produce


def _list(v) -> list:
    if isinstance(v, list):
        return v
    raise EvalError(f"a {type(v).__name__} is not a list")


def _map(v) -> dict:
    if isinstance(v, dict):
        return v
    raise EvalError(f"a {type(v).__name__} is not a map")


def _bounded(items: list) -> list:
    if len(items) > MAX_LENGTH:
        raise EvalError(f"a list of more than {MAX_LENGTH} items")
    return items


# -- networks -------------------------------------------------------------------------------

def cidrsubnet(prefix, newbits, netnum):
    net = _network(prefix)
    bits, num = int(number(newbits)), int(number(netnum))
    new_len = net.prefixlen + bits
    if bits < 0 or new_len > net.max_prefixlen or not 0 <= num < (1 << bits):
        raise EvalError(f"cidrsubnet({prefix!r}, {newbits}, {netnum}): out of range")
    size = 1 << (net.max_prefixlen - new_len)
    base = int(net.network_address) + num * size
    return str(ipaddress.ip_network((base, new_len)))


def cidrhost(prefix, hostnum):
    net = _network(prefix)
    n = int(number(hostnum))
    if n < 0:
        n += net.num_addresses
    if not 0 <= n < net.num_addresses:
        raise EvalError(f"cidrhost({prefix!r}, {hostnum}): out of range")
    return str(net.network_address + n)


def cidrnetmask(prefix):
    net = _network(prefix)
    if net.version != 4:
        raise EvalError("cidrnetmask needs an IPv4 prefix")
    return str(net.netmask)


def cidrsubnets(prefix, *newbits):
    net, out, pos = _network(prefix), [], 0
    for b in newbits:
        length = net.prefixlen + int(number(b))
        size = 1 << (net.max_prefixlen - length)
        pos = -(-pos // size) * size
        if length > net.max_prefixlen or pos + size > net.num_addresses:
            raise EvalError("cidrsubnets: out of range")
        out.append(str(ipaddress.ip_network((int(net.network_address) + pos, length))))
        pos += size
    return out


def _network(prefix):
    try:
        return ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:
        raise EvalError(f"{prefix!r} is not a CIDR prefix") from None


# -- strings --------------------------------------------------------------------------------

_VERB = re.compile(r"%(%|[-+# 0]*\d*(?:\.\d+)?[sdvqftx])")


def format_(fmt, *args):
    args, out, pos, i = list(args), [], 0, 0
    for m in _VERB.finditer(str(fmt)):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        verb = m.group(1)
        if verb == "%":
            out.append("%")
            continue
        if i >= len(args):
            raise EvalError("format: not enough arguments")
        a, i = args[i], i + 1
        kind = verb[-1]
        if kind in "dx":
            out.append(("%" + verb).replace("x", "x") % int(number(a)))
        elif kind in "ft":
            out.append(("%" + verb) % number(a) if kind == "f" else to_string(a))
        elif kind == "q":
            out.append('"' + to_string(a).replace('"', '\\"') + '"')
        else:
            out.append(("%" + verb[:-1] + "s") % to_string(a))
    out.append(fmt[pos:])
    return "".join(out)


def join(sep, *lists):
    items = [x for lst in lists for x in _list(lst)]
    return to_string(sep).join(to_string(x) for x in items)


def split(sep, s):
    return _bounded(to_string(s).split(to_string(sep)))


def replace(s, old, new):
    s, old, new = to_string(s), to_string(old), to_string(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        try:
            return re.sub(old[1:-1], re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", new), s)
        except re.error:
            raise EvalError(f"replace: the regular expression {old!r} is not supported") \
                from None
    return s.replace(old, new)


def substr(s, offset, length):
    s, o, n = to_string(s), int(number(offset)), int(number(length))
    if o < 0:
        o += len(s)
    return s[o:] if n < 0 else s[o:o + n]


# -- collections ----------------------------------------------------------------------------

def element(lst, idx):
    if isinstance(lst, Unknown) or isinstance(idx, Unknown):
        # e.g. element(distinct(compact(concat([var.vswitch_id], var.vswitch_ids))), i) of
        # an id known at apply: unknown, still naming the resources it may be
        return Unknown.of(lst, idx)
    lst = _list(lst)
    if not lst:
        raise EvalError("element() of an empty list")
    return lst[int(number(idx)) % len(lst)]


def lookup(m, key, *default):
    if isinstance(m, Unknown) or isinstance(key, Unknown):
        return Unknown.of(m, key)
    m = _map(m)
    k = to_string(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise EvalError(f"lookup: no key {k!r} and no default")


def concat(*lists):
    unknown = [x for x in lists if isinstance(x, Unknown)]
    if unknown:
        return Unknown.of(*unknown)
    return _bounded([x for lst in lists for x in _list(lst)])


def length(v):
    if isinstance(v, Unknown):
        return Unknown.of(v)
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise EvalError(f"length() of a {type(v).__name__}")


def flatten(v):
    if isinstance(v, Unknown):
        return Unknown.of(v)
    out, stack = [], [iter(_list(v))]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            out.append(item)
    return _bounded(out)


_END = object()


def merge(*maps):
    out = {}
    for m in maps:
        if isinstance(m, Unknown):
            return Unknown.of(*maps)
        if m is not None:
            out.update(_map(m))
    return out


def coalesce(*values):
    for v in values:
        if isinstance(v, Unknown):
            return Unknown.of(v)
        if v is not None and v != "":
            return v
    raise EvalError("coalesce: no non-null, non-empty argument")


def coalescelist(*lists):
    for v in lists:
        if _list(v):
            return v
    raise EvalError("coalescelist: no non-empty argument")


def compact(lst):
    if isinstance(lst, Unknown):
        return lst
    return [x for x in _list(lst) if isinstance(x, Unknown) or (x is not None and x != "")]


def distinct(lst):
    out = []
    for x in _list(lst):
        if x not in out:
            out.append(x)
    return out


def toset(v):
    """A set: distinct, strings in lexical order (Terraform's iteration order)."""
    if isinstance(v, Unknown):
        return v
    items = distinct(_list(v))
    if any(isinstance(x, Unknown) for x in items):
        return Unknown.of(*items)
    if all(isinstance(x, str) for x in items):
        return sorted(items)
    return items


def tolist(v):
    if isinstance(v, Unknown):
        return v
    return _list(v)


def one(v):
    if isinstance(v, Unknown):
        return v
    lst = _list(v)
    if len(lst) > 1:
        raise EvalError("one() of a list of several items")
    return lst[0] if lst else None


def range_(*args):
    nums = [number(a) for a in args]
    start, stop, step = (0, nums[0], 1) if len(nums) == 1 else \
        (nums[0], nums[1], nums[2] if len(nums) > 2 else 1)
    if step == 0 or abs((stop - start) / step) > MAX_LENGTH:
        raise EvalError("range: too many items")
    out, x = [], start
    while (x < stop) if step > 0 else (x > stop):
        out.append(x)
        x += step
    return out


def slice_(lst, start, end):
    return _list(lst)[int(number(start)):int(number(end))]


def zipmap(keys, values):
    return dict(zip([to_string(k) for k in _list(keys)], _list(values)))


def contains(lst, value):
    return value in _list(lst)


def keys(m):
    return sorted(_map(m))


def values(m):
    m = _map(m)
    return [m[k] for k in sorted(m)]


def tobool(v):
    if isinstance(v, bool) or v is None:
        return v
    if v in ("true", "false"):
        return v == "true"
    raise EvalError(f"{v!r} is not a bool")


FUNCTIONS = {
    "cidrsubnet": cidrsubnet, "cidrhost": cidrhost, "cidrnetmask": cidrnetmask,
    "cidrsubnets": cidrsubnets, "format": format_, "join": join, "split": split,
    "replace": replace, "substr": substr, "element": element, "lookup": lookup,
    "concat": concat, "length": length, "flatten": flatten, "merge": merge,
    "coalesce": coalesce, "coalescelist": coalescelist, "compact": compact,
    "distinct": distinct, "toset": toset, "tolist": tolist, "one": one, "range": range_,
    "slice": slice_, "zipmap": zipmap, "contains": contains, "keys": keys, "values": values,
    "tostring": lambda v: None if v is None else to_string(v),
    "tonumber": lambda v: None if v is None else number(v), "tobool": tobool,
    "tomap": lambda v: _map(v), "lower": lambda s: to_string(s).lower(),
    "upper": lambda s: to_string(s).upper(), "trimspace": lambda s: to_string(s).strip(),
    "chomp": lambda s: to_string(s).rstrip("\r\n"),
    "startswith": lambda s, p: to_string(s).startswith(to_string(p)),
    "endswith": lambda s, p: to_string(s).endswith(to_string(p)),
    "min": lambda *a: min(number(x) for x in a), "max": lambda *a: max(number(x) for x in a),
    "abs": lambda n: abs(number(n)), "reverse": lambda lst: list(reversed(_list(lst))),
    "sort": lambda lst: sorted(to_string(x) for x in _list(lst)),
    "index": lambda lst, v: _list(lst).index(v) if v in _list(lst) else
    (_ for _ in ()).throw(EvalError("index: not in the list")),
}
