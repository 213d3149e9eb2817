"""An evaluated Terraform configuration -> its plan document (io: reads local module
directories, pure otherwise).

`Planner` instantiates the root module and every local module (hcl_module), expands each
managed resource into its instances and writes them as `terraform show -json` writes a
plan's planned_values (terraform.Terraform reads it), each with `sgnet_expressions`: for an
attribute whose value only apply knows, the resources it refers to (`references`, absolute
addresses of this plan). An attribute the readers use that cannot be evaluated and refers
to no resource of the files is written as its own text (`var.sg_id`: a rule's group is then
a group named after the reference; a CIDR or port range that is no CIDR or port range
drops the rule) and warned about: never widened, never silently dropped.
"""

from __future__ import annotations

import os

from sgnet.core.errors import LabError
from sgnet.io.importers.hcl_eval import Bound, children, evaluate, iterate
from sgnet.io.importers.hcl_module import (BOOLEAN, GROUP_ATTRS, MAX_MODULE_DEPTH, META,
                                           NUMERIC, RELEVANT, ModuleInstance,
                                           instance_address, reasons, short_source)
from sgnet.io.importers.hcl_values import EvalError, Unknown, has_unknown, number
from sgnet.io.importers.terraform import strip_index

MAX_WARNINGS = 200
LISTS = {"security_groups", "security_group_ids", "addresses", "ipv6_addresses",
         "private_ips", "instance_ids"}  # list attributes: a text stands in as one item


class Planner:
    def __init__(self, config, given: dict, root_dir: str, types=None, load=None):
        self.root_dir, self.types, self.load = root_dir, types, load
        self.warnings, self._seen = [], set()
        self.configs = {}
        self.root = ModuleInstance(self, config, "", given)
        self._pending = []  # (file, address, attr, source, unknown, holder, key)

    # -- evaluation ---------------------------------------------------------------------
    def value(self, tree, scope):
        try:
            return evaluate(tree, scope)
        except EvalError as e:
            return Unknown(reasons=[str(e)])
        except RecursionError:
            return Unknown(reasons=["an expression nested too deeply"])

    def warn(self, path, address, message):
        text = f"{path}: {address}: {message}"
        if text not in self._seen and len(self.warnings) < MAX_WARNINGS:
            self._seen.add(text)
            self.warnings.append(text)

    # -- modules ------------------------------------------------------------------------
    def instantiate(self, parent: ModuleInstance, name: str) -> list:
        call = parent.config.modules[name]
        base = f"{parent.prefix}module.{name}"
        src_tree = call.attrs.get("source")
        source = self.value(src_tree, parent.scope) if src_tree is not None else None
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            self.warn(call.path, base, f"source {short_source(str(source))} is not a local "
                      "directory: not read (its resources are not imported; what refers to "
                      "its outputs is unknown)")
            return [(base, None)]
        if parent.depth >= MAX_MODULE_DEPTH:
            raise LabError(f"{call.path}: {base}: modules nested deeper than "
                           f"{MAX_MODULE_DEPTH} levels")
        directory = os.path.normpath(os.path.join(os.path.dirname(call.path), source))
        config = self._config(call, base, directory)
        out = []
        for key, scope in parent.expand(call, base):
            inputs = {n: (lambda e=e, s=scope: self.value(e, s))
                      for n, e in call.attrs.items() if n not in META}
            for n in inputs:
                if n not in config.variables:
                    self.warn(call.path, base, f"argument {n} is not a variable of the module "
                              f"{directory}: ignored")
            address = instance_address(base, key)
            out.append((address, ModuleInstance(self, config, address + ".", inputs,
                                                parent.depth + 1)))
        return out

    def _config(self, call, base, directory):
        if directory not in self.configs:
            if not os.path.isdir(directory):
                raise LabError(f"{call.path}: {base}: source directory {directory} does not "
                               "exist")
            self.configs[directory] = self.load(directory)
        return self.configs[directory]

    # -- the document -------------------------------------------------------------------
    def document(self) -> dict:
        root = self._module(self.root)
        self._finish()
        return {"format_version": "1.2", "planned_values": {"root_module": root},
                "configuration": {"root_module": {}}}

    def _module(self, module: ModuleInstance) -> dict:
        out = {"resources": [], "child_modules": []}
        for rtype, name in module.config.resources:
            for address, view in module.resource_instances(rtype, name):
                out["resources"].append(self._resource(module, view, rtype, name, address))
        for name in module.config.modules:
            for address, child in module.children_of(name):
                if child is not None:
                    out["child_modules"].append({"address": address, **self._module(child)})
        return out

    def _resource(self, module, view, rtype, name, address) -> dict:
        block = view.block
        relevant = self.types is None or rtype in self.types
        values, exprs = {}, {}
        where = (block.path, address, relevant)
        self._attributes(module, block, view.scope, values, exprs, where, "", view.cache)
        index = address[len(strip_index(address)):][1:-1] if address.endswith("]") else None
        entry = {"address": address, "mode": "managed", "type": rtype, "name": name,
                 "values": values, "sgnet_expressions": exprs, "sgnet_file": block.path}
        if index is not None:
            entry["index"] = int(index) if index.isdigit() else index.strip('"')
        return entry

    def _attributes(self, module, block, scope, values, exprs, where, path, cache=None):
        for attr, tree in block.attrs.items():
            if attr in META:
                continue
            value = cache[attr] if cache is not None and attr in cache else \
                self.value(tree, scope)
            if cache is not None:
                cache[attr] = value
            source = module.config.source(block.path, tree)
            values[attr], refs = self._plain(attr, value, source, tree, module, where,
                                             path + attr, values)
            if refs:
                exprs[attr] = {"references": refs}
        for kind, labels, sub in block.blocks:
            if kind in META - {"dynamic"}:
                continue
            self._nested(module, kind, labels, sub, scope, values, exprs, where, path)

    def _nested(self, module, kind, labels, sub, scope, values, exprs, where, path):
        """A nested block (network { ... }) or a dynamic block, as a list of objects."""
        if kind == "dynamic":
            kind = labels[0] if labels else "dynamic"
            scopes = self._dynamic(module, kind, sub, scope, where)
            contents = [b for k, _, b in sub.blocks if k == "content"]
            pairs = [(s, c) for s in scopes for c in contents]
        else:
            pairs = [(scope, sub)]
        for s, content in pairs:
            v, e = {}, {}
            i = len(values.setdefault(kind, []))
            self._attributes(module, content, s, v, e, where, f"{path}{kind}[{i}].")
            values[kind].append(v)
            exprs.setdefault(kind, []).append(e)

    def _dynamic(self, module, kind, sub, scope, where):
        tree = sub.attrs.get("for_each")
        iterator = sub.attrs.get("iterator")
        name = module.config.source(sub.path, iterator) if iterator is not None else kind
        collection = self.value(tree, scope) if tree is not None else []
        if isinstance(collection, Unknown):
            self._warn_at(where, f"dynamic {kind}: for_each = "
                          f"{module.config.source(sub.path, tree)} cannot be evaluated "
                          f"({reasons(collection)}): one block assumed")
            return [Bound(scope, {name: {"key": collection, "value": collection}})]
        try:
            pairs = iterate(collection)
        except EvalError as e:
            self._warn_at(where, f"dynamic {kind}: for_each: {e}: no block assumed")
            return []
        return [Bound(scope, {name: {"key": k, "value": v}}) for k, v in pairs]

    def _warn_at(self, where, message):
        path, address, relevant = where
        if relevant:
            self.warn(path, address, message)

    def _plain(self, attr, value, source, tree, module, where, shown, holder):
        """(JSON value, references) of an attribute; unknown parts become null, noted for
        _finish to resolve."""
        refs = []
        if isinstance(value, Unknown):
            refs = list(value.refs)
            self._pending.append((where, shown, attr, source, value, (holder, attr)))
            return None, refs
        if isinstance(value, list):
            items = []
            for i, item in enumerate(value):
                if isinstance(item, Unknown):
                    refs += [r for r in item.refs if r not in refs]
                    self._pending.append((where, f"{shown}[{i}]", attr,
                                          _item_source(module, where, tree, i, source),
                                          item, (items, i)))
                    items.append(None)
                else:
                    items.append(_json(attr, item))
            return items, refs
        if has_unknown(value):
            self._pending.append((where, shown, attr, source, Unknown.of(value), None))
            return _json(attr, _strip_unknown(value)), []
        return _json(attr, value), refs

    def _finish(self):
        """Unknown values that refer to no resource of the plan: written as their text
        (warned) when the readers use them."""
        addresses = set()
        for module in self._all_modules(self.root):
            for rtype, name in module.config.resources:
                for address, _ in module.resource_instances(rtype, name):
                    addresses.update((address, strip_index(address)))
        for where, shown, attr, source, unknown, holder in self._pending:
            if any(r in addresses for r in unknown.refs):
                continue
            path, address, relevant = where
            if not relevant or attr not in RELEVANT:
                continue
            assumed = "the rule or instance is given a group named after the reference" \
                if attr in GROUP_ATTRS else f"taken as the text {short_source(source)!r}"
            self.warn(path, address, f"{shown} = {short_source(source)} cannot be evaluated "
                      f"({reasons(unknown)}): {assumed}")
            if holder is not None:
                in_list = isinstance(holder[1], str) and attr in LISTS
                holder[0][holder[1]] = [source] if in_list else source

    def _all_modules(self, module):
        yield module
        for name in module.config.modules:
            for _, child in module.children_of(name):
                if child is not None:
                    yield from self._all_modules(child)


def _item_source(module, where, tree, i, source):
    inner = children(tree)[0] if tree.data == "expr_term" else None
    if inner is not None and getattr(inner, "data", "") == "tuple":
        items = children(inner)
        if i < len(items):
            return module.config.source(where[0], items[i])
    return f"{source}[{i}]"


def _strip_unknown(value):
    if isinstance(value, Unknown):
        return None
    if isinstance(value, list):
        return [_strip_unknown(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_unknown(v) for k, v in value.items()}
    return value


def _json(attr, value):
    """Terraform's conversion to the attribute's type: numbers of the numeric attributes,
    bools of the boolean ones, strings otherwise."""
    if isinstance(value, list):
        return [_json(attr, v) for v in value]
    if isinstance(value, dict):
        return {k: _json(k, v) for k, v in value.items()}
    if attr in NUMERIC and isinstance(value, str):
        try:
            return number(value)
        except EvalError:
            return value
    if attr in BOOLEAN and value in ("true", "false"):
        return value == "true"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and attr not in NUMERIC:
        return str(value) if not isinstance(value, float) or not value.is_integer() \
            else str(int(value))
    return value
