"""Terraform configuration files (.tf, HCL2) -> the document `terraform show -json` would give
for their plan (io: reads the files, pure otherwise).

`plan_document` reads .tf files (a directory: all its *.tf, sorted), their variables'
values (defaults; in a directory terraform.tfvars and *.auto.tfvars in lexical order, as
Terraform loads them; then each --var-file, then each --var: developer.hashicorp.com/
terraform/language/values/variables#variable-definition-precedence), evaluates the
configuration without running Terraform (hcl_module) and returns a plan document with the
shape terraform.Terraform reads: planned_values.root_module.resources[] (address, mode,
type, name, index, values) and child_modules[], each resource with its own
`sgnet_expressions` (the references of the values a plan does not know, per instance:
`alicloud_security_group.web[1]`) and `sgnet_file`. What cannot be evaluated is a warning,
returned with the document.
"""

from __future__ import annotations

import json
import os
import re

from hcl2.api import parses_to_tree
from lark import Tree
from lark.exceptions import LarkError, UnexpectedInput

from sgnet.core.errors import LabError
from sgnet.io.importers.export import Node, show
from sgnet.io.importers.hcl_eval import children, evaluate
from sgnet.io.importers.hcl_module import ModuleConfig
from sgnet.io.importers.hcl_plan import Planner
from sgnet.io.importers.hcl_values import EvalError, has_unknown
from sgnet.io.labfile import read_text

VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
MAX_FILES = 1000  # .tf files of one directory or module


def is_hcl(path: str) -> bool:
    """A Terraform configuration: a directory or a .tf / .tfvars file (JSON goes elsewhere)."""
    return os.path.isdir(path) or path.endswith((".tf", ".tfvars"))


def plan_document(paths: list, var_args=(), var_files=(), types=None) -> tuple:
    """(label, Node of the plan document, warnings) for the configuration in `paths`."""
    tf_files, tfvars, root_dir = [], [], None
    for p in paths:
        if os.path.isdir(p):
            root_dir = root_dir or p
            tf_files += tf_files_of(p)
            tfvars += _auto_tfvars(p)
        elif p.endswith(".tfvars"):
            tfvars.append(p)
        else:
            tf_files.append(p)
            root_dir = root_dir or (os.path.dirname(p) or ".")
    if not tf_files:
        raise LabError(f"{', '.join(paths)}: no .tf files")
    label = ", ".join(paths)
    config = load_module(tf_files, root_dir)
    given = {}
    for f in list(tfvars) + list(var_files):
        given.update(read_tfvars(f))
    for arg in var_args:
        given.update(_var_arg(arg, config))
    planner = Planner(config, given, root_dir, types,
                      lambda d: load_module(tf_files_of(d), d))
    doc = planner.document()
    return label, Node(doc, label), planner.warnings


def tf_files_of(directory: str) -> list:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".tf"))
    except OSError as e:
        raise LabError(f"{directory}: cannot read the directory: {e.strerror}") from None
    if len(names) > MAX_FILES:
        raise LabError(f"{directory}: more than {MAX_FILES} .tf files")
    return [os.path.join(directory, n) for n in names
            if os.path.isfile(os.path.join(directory, n))]


def _auto_tfvars(directory: str) -> list:
    """terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) in lexical order,
    as Terraform loads them (the same page)."""
    names = os.listdir(directory)
    auto = sorted(n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
    first = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names]
    return [os.path.join(directory, n) for n in first + auto]


def parse_file(path: str) -> Tree:
    """A .tf or .tfvars file's parse tree, or a LabError naming the file and the line."""
    text = read_text(path, "the Terraform file", encoding="utf-8-sig")
    try:
        return parses_to_tree(text.replace("\r\n", "\n"))
    except UnexpectedInput as e:
        raise LabError(f"{path}: not valid HCL (line {e.line}, column {e.column})") from None
    except (LarkError, RecursionError) as e:
        raise LabError(f"{path}: not valid HCL ({type(e).__name__})") from None


def load_module(files: list, directory: str) -> ModuleConfig:
    config = ModuleConfig(directory)
    for path in files:
        text = read_text(path, "the Terraform file", encoding="utf-8-sig")
        config.add_file(path, parse_file(path), text.replace("\r\n", "\n"))
    return config


def read_tfvars(path: str) -> dict:
    """A .tfvars file's assignments: literal values (a reference is refused, as Terraform
    does). A file named *.json holds one JSON object instead, as terraform -var-file reads
    it (developer.hashicorp.com/terraform/language/values/variables, "Variable
    Definitions (.tfvars) Files")."""
    if path.endswith(".json"):
        return _read_json_tfvars(path)
    body = parse_file(path).children[0]
    out = {}
    for item in children(body):
        if item.data != "attribute":
            raise LabError(f"{path}: a .tfvars file holds only NAME = VALUE assignments")
        name_tree, expr = children(item)
        name = name_tree.children[0].value
        try:
            value = evaluate(expr, _NoNames(path))
        except EvalError as e:
            raise LabError(f"{path}: {name}: cannot be evaluated: {e}") from None
        if has_unknown(value):
            raise LabError(f"{path}: {name}: a variable's value must be a literal")
        out[name] = value
    return out


def _read_json_tfvars(path: str) -> dict:
    text = read_text(path, "the variable definitions file", encoding="utf-8-sig")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise LabError(f"{path}: not valid JSON ({str(e)[:120]})") from None
    if not isinstance(doc, dict):
        raise LabError(f"{path}: a .tfvars.json file holds one JSON object of variable values")
    return doc


class _NoNames:
    def __init__(self, path):
        self.path = path

    def lookup(self, name):
        raise EvalError(f"{name}: a .tfvars file cannot refer to anything")


def _var_arg(arg: str, config: ModuleConfig) -> dict:
    """--var NAME=VALUE: a string for a variable of type string or no type, else an HCL
    expression (as terraform -var reads it)."""
    name, eq, value = arg.partition("=")
    name = name.strip()
    if not eq or not VAR_NAME.fullmatch(name):
        raise LabError(f"--var {show(arg)}: expected NAME=VALUE")
    if name not in config.variables:
        raise LabError(f"--var {show(arg)}: no variable {name!r} is declared in the "
                       "configuration; declared: " + (", ".join(sorted(config.variables))
                                                      or "none"))
    if config.variable_type(name) in (None, "string"):
        return {name: value}
    try:
        tree = parses_to_tree(f"x = {value}\n")
        attr = children(tree.children[0])[0]
        parsed = evaluate(children(attr)[1], _NoNames("--var"))
    except (LarkError, EvalError, IndexError):
        raise LabError(f"--var {show(arg)}: the value is not a valid HCL literal for a "
                       f"variable of type {config.variable_type(name)}") from None
    return {name: parsed}
