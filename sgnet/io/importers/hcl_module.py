"""A Terraform configuration evaluated without Terraform (io: reads local module directories,
pure otherwise): its modules, variables, locals, resources expanded by `count` and
`for_each`, and the plan document they make (hcl).

Follows Terraform's language documentation (developer.hashicorp.com/terraform/language):
a resource with `count` has instances [0..n-1] (`count.index`), with `for_each` one per key
of a map or set of strings (`each.key`, `each.value`); a module is a directory whose
variables are the module block's arguments; `module.NAME.OUTPUT` is the output's value.
A resource's attribute is known when its configuration gives it (`huaweicloud_vpc.v.cidr`),
else unknown with the resource as its reference (`alicloud_security_group.g.id`). What
cannot be evaluated (a data source, a variable without a value, a computed count, a remote
module, an unknown function) is warned about, naming the resource and what was assumed.
"""

from __future__ import annotations

from lark import Tree

from sgnet.core.errors import LabError
from sgnet.io.importers.export import short
from sgnet.io.importers.hcl_eval import children, iterate
from sgnet.io.importers.hcl_types import convert
from sgnet.io.importers.hcl_values import EvalError, Unknown, View, to_string

MAX_INSTANCES = 10_000  # instances of one resource or module (count, for_each)
MAX_MODULE_DEPTH = 20
META = {"count", "for_each", "depends_on", "provider", "providers", "lifecycle", "provisioner",
        "connection", "source", "version", "dynamic"}
# The attributes whose values the readers use (terraform_alicloud, terraform_huaweicloud):
# only these are warned about when they cannot be evaluated.
RELEVANT = {
    "name", "security_group_name", "vpc_name", "vswitch_name", "instance_name",
    "network_interface_name", "prefix_list_name", "cidr_block", "ipv6_cidr_block", "cidr",
    "ipv6_cidr", "vpc_id", "vswitch_id", "subnet_id", "security_group_id", "security_groups",
    "security_group_ids", "type", "direction", "ip_protocol", "protocol", "port_range",
    "ports", "port_range_min", "port_range_max", "priority", "policy", "action", "cidr_ip",
    "ipv6_cidr_ip", "source_security_group_id", "prefix_list_id", "remote_ip_prefix",
    "remote_group_id", "remote_address_group_id", "ethertype", "nic_type", "private_ip",
    "private_ip_address", "primary_ip_address", "fixed_ip_v4", "fixed_ip_v6", "uuid",
    "network_id", "instance_id", "network_interface_id", "fixed_ip", "security_group_type",
    "inner_access_policy", "addresses", "entry", "ip_version", "network"}
GROUP_ATTRS = {"security_group_id", "security_groups", "security_group_ids",
               "source_security_group_id", "remote_group_id"}
NUMERIC = {"priority", "port_range_min", "port_range_max"}
BOOLEAN = {"delete_default_rules", "inner_access", "ipv6_enable", "enable_ipv6"}


class ModuleConfig:
    """The blocks of one module directory's .tf files."""

    def __init__(self, directory: str):
        self.directory = directory
        self.variables, self.locals, self.outputs, self.modules = {}, {}, {}, {}
        self.resources, self.data, self.texts = {}, set(), {}

    def add_file(self, path: str, tree: Tree, text: str):
        self.texts[path] = text
        for block in children(tree.children[0]):
            if block.data == "attribute":
                raise LabError(f"{path}: line {block.meta.line}: an attribute outside any "
                               "block")
            kind, labels, body = block_parts(block)
            self._add_block(path, kind, labels, body, block.meta.line)

    def _add_block(self, path, kind, labels, body, line):
        where = f"{path}: line {line}"
        if kind in ("resource", "data") and len(labels) == 2:
            if kind == "data":
                self.data.add(tuple(labels))
            elif tuple(labels) in self.resources:
                raise LabError(f"{where}: resource {'.'.join(labels)} is declared twice")
            else:
                self.resources[tuple(labels)] = Block(path, body, labels)
        elif kind in ("variable", "module", "output") and len(labels) == 1:
            table = {"variable": self.variables, "module": self.modules,
                     "output": self.outputs}[kind]
            table[labels[0]] = Block(path, body, labels)
        elif kind == "locals":
            for name, expr in Block(path, body, labels).attrs.items():
                self.locals[name] = (path, expr)

    def variable_type(self, name: str):
        block = self.variables.get(name)
        t = block.attrs.get("type") if block else None
        return None if t is None else self.source(block.path, t)

    def source(self, path: str, tree) -> str:
        """An expression's text as written (for messages)."""
        text = self.texts.get(path, "")
        meta = getattr(tree, "meta", None)
        if meta is None or meta.empty:
            return "?"
        return " ".join(text[meta.start_pos:meta.end_pos].split())


class Block:
    """A block's attributes (name -> expression tree) and nested blocks."""

    def __init__(self, path, body, labels):
        self.path, self.labels = path, labels
        self.attrs, self.blocks = {}, []
        for item in children(body):
            if item.data == "attribute":
                name_tree, expr = children(item)
                self.attrs[_name(name_tree)] = expr
            else:
                kind, sub_labels, sub_body = block_parts(item)
                self.blocks.append((kind, sub_labels, Block(path, sub_body, sub_labels)))


def block_parts(block: Tree) -> tuple:
    kids = children(block)
    body = kids[-1]
    labels = [_label(k) for k in kids[:-1]]
    return labels[0], labels[1:], body


def _name(tree) -> str:
    return tree.children[0].value if isinstance(tree.children[0], Tree) is False else \
        tree.children[0].children[0].value


def _label(tree) -> str:
    if tree.data == "string":
        return "".join(p.children[0].value for p in children(tree)
                       if not isinstance(p.children[0], Tree))
    return _name(tree)


def _memo(cache: dict, key, compute):
    """A lazily computed value; one that needs itself is an EvalError."""
    if key in cache:
        if cache[key] is _BUSY:
            raise EvalError("refers to itself")
        return cache[key]
    cache[key] = _BUSY
    try:
        cache[key] = compute()
    except BaseException:
        del cache[key]
        raise
    return cache[key]


_BUSY = object()


class Scope:
    """The names of a module instance, with count.index or each.key/value where set."""

    def __init__(self, module: "ModuleInstance", count=None, each=None):
        self.module, self.count, self.each = module, count, each

    def lookup(self, name):
        m = self.module
        if name == "var":
            return _Names(m.var, "var")
        if name == "local":
            return _Names(m.local, "local")
        if name == "count":
            return {"index": self.count} if self.count is not None else _no("count.index")
        if name == "each":
            return self.each if self.each is not None else _no("each")
        if name == "path":
            return {"module": m.config.directory, "root": m.planner.root_dir,
                    "cwd": m.planner.root_dir}
        if name == "terraform":
            return {"workspace": "default"}
        if name == "data":
            return _Data(m.prefix)
        if name == "module":
            return _Names(m.module_value, "module")
        if name == "self":
            return Unknown(reasons=["self is not evaluated"])
        if any(t == name for t, _ in m.config.resources):
            return _Names(lambda n: m.resource_value(name, n), name)
        return _Undeclared(name)


def _no(what):
    raise EvalError(f"{what} is used outside a resource with count or for_each")


class _Names(View):
    def __init__(self, get, what):
        self.get, self.what = get, what

    def attr(self, name):
        return self.get(name)


class _Data(View):
    def __init__(self, prefix, dtype=None):
        self.prefix, self.dtype = prefix, dtype

    def attr(self, name):
        if self.dtype is None:
            return _Data(self.prefix, name)
        return Unknown(reasons=[f"data source {self.prefix}data.{self.dtype}.{name} is read "
                                "from the cloud"])


class _Undeclared(View):
    def __init__(self, name):
        self.name = name

    def attr(self, name):
        return Unknown(reasons=[f"{self.name}.{name} is not declared in the files"])


class InstanceView(View):
    """One resource instance: its configured attributes, else unknown (referring to it)."""

    def __init__(self, module, block, address, scope):
        self.module, self.block, self.address, self.scope = module, block, address, scope
        self.cache = {}

    def attr(self, name):
        expr = self.block.attrs.get(name)
        if expr is None or name in META:
            return Unknown([self.address])
        return _memo(self.cache, name, lambda: self.module.planner.value(expr, self.scope))

    def index(self, key):
        if key == "*":
            return [self]
        raise EvalError(f"{self.address} has no count or for_each: it cannot be indexed")


class ModuleInstance:
    """A module as instantiated: its address prefix, variables and lazily evaluated parts."""

    def __init__(self, planner, config, prefix, inputs, depth=0):
        self.planner, self.config, self.prefix, self.inputs = planner, config, prefix, inputs
        self.depth = depth
        self.scope = Scope(self)
        self._vars, self._locals, self._resources, self._modules = {}, {}, {}, {}
        self._outputs = {}

    def var(self, name):
        return _memo(self._vars, name, lambda: self._var(name))

    def _var(self, name):
        block = self.config.variables.get(name)
        if block is None:
            raise EvalError(f"var.{name} is not declared")
        if name in self.inputs:
            given = self.inputs[name]
            return self._typed(block, given() if callable(given) else given)
        if "default" in block.attrs:
            return self._typed(block, self.planner.value(block.attrs["default"], self.scope))
        return Unknown(reasons=[f"{self.prefix}var.{name} has no default and no value was "
                                "given (--var, --var-file)"])

    @staticmethod
    def _typed(block, value):
        """The value as its `type` converts it (optional attributes' defaults: hcl_types)."""
        if "type" not in block.attrs:
            return value
        try:
            return convert(value, block.attrs["type"])
        except EvalError:
            return value

    def local(self, name):
        if name not in self.config.locals:
            raise EvalError(f"local.{name} is not declared")
        return _memo(self._locals, name,
                     lambda: self.planner.value(self.config.locals[name][1], self.scope))

    def expand(self, block: Block, address: str):
        """[(instance key or None, scope)] of a resource or module block."""
        count, for_each = block.attrs.get("count"), block.attrs.get("for_each")
        if count is None and for_each is None:
            return [(None, self.scope)]
        expr = count if count is not None else for_each
        value = self.planner.value(expr, self.scope)
        if isinstance(value, Unknown):
            what = "count" if count is not None else "for_each"
            shown = self.config.source(block.path, expr)
            self.planner.warn(block.path, address, f"{what} = {shown} cannot be evaluated "
                              f"({reasons(value)}): one instance assumed")
            each = {"key": value, "value": value}
            return [(0, Scope(self, count=0))] if count is not None else \
                [("?", Scope(self, each=each))]
        return self._instances(block, address, value, count is not None)

    def _instances(self, block, address, value, is_count):
        try:
            if is_count:
                n = int(value) if not isinstance(value, bool) else None
                if n is None or n < 0:
                    raise EvalError(f"count {value!r} is not a whole number")
                pairs = [(i, Scope(self, count=i)) for i in range(min(n, MAX_INSTANCES + 1))]
            else:
                items = value if isinstance(value, dict) else \
                    {to_string(v): v for _, v in iterate(value)}
                pairs = [(k, Scope(self, each={"key": k, "value": v}))
                         for k, v in iterate(items)]
        except (EvalError, TypeError, ValueError) as e:
            raise LabError(f"{block.path}: {address}: "
                           f"{'count' if is_count else 'for_each'}: {e}") from None
        if len(pairs) > MAX_INSTANCES:
            raise LabError(f"{block.path}: {address}: more than {MAX_INSTANCES} instances")
        return pairs

    def resource_instances(self, rtype, name):
        """[(address, InstanceView)] of a resource block, expanded once."""
        def compute():
            block = self.config.resources[(rtype, name)]
            base = f"{self.prefix}{rtype}.{name}"
            return [(instance_address(base, k), InstanceView(self, block,
                                                             instance_address(base, k), s))
                    for k, s in self.expand(block, base)]
        return _memo(self._resources, (rtype, name), compute)

    def resource_value(self, rtype, name):
        block = self.config.resources.get((rtype, name))
        if block is None:
            return Unknown(reasons=[f"{rtype}.{name} is not declared in the files"])
        views = [v for _, v in self.resource_instances(rtype, name)]
        if "count" in block.attrs:
            return views
        if "for_each" in block.attrs:
            return {v.address[v.address.rindex("[") + 2:-2]: v for v in views}
        return views[0]

    def children_of(self, name):
        """[(address, ModuleInstance or None when not local)] of a module call."""
        return _memo(self._modules, name, lambda: self.planner.instantiate(self, name))

    def module_value(self, name):
        call = self.config.modules.get(name)
        if call is None:
            raise EvalError(f"module.{name} is not declared")
        kids = self.children_of(name)
        outs = [_Outputs(m, a) if m else Unknown(reasons=[f"module.{name} is not read (its "
                                                           "source is not local)"])
                for a, m in kids]
        if "count" in call.attrs:
            return outs
        if "for_each" in call.attrs:
            return {a[a.rindex("[") + 2:-2]: o for (a, _), o in zip(kids, outs)}
        return outs[0] if outs else Unknown(reasons=[f"module.{name} has no instance"])

    def output(self, name):
        block = self.config.outputs.get(name)
        if block is None or "value" not in block.attrs:
            raise EvalError(f"{self.prefix}output {name} is not declared")
        return _memo(self._outputs, name,
                     lambda: self.planner.value(block.attrs["value"], self.scope))


class _Outputs(View):
    def __init__(self, module, address):
        self.module, self.address = module, address

    def attr(self, name):
        return self.module.output(name)


def instance_address(base: str, key) -> str:
    if key is None:
        return base
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f'{base}["{key}"]'


def reasons(u: Unknown) -> str:
    shown = "; ".join(u.reasons[:3]) or "known only after apply"
    return shown + (f" and {len(u.reasons) - 3} more" if len(u.reasons) > 3 else "")


def short_source(text: str) -> str:
    return short(text, 80)
