"""`import_files`: export files of one kind -> a lab file (io: reads the files; the entry
point of `sgnet import`).

Checks the arguments, reads each file (export.load_json; Terraform .tf files and
directories through hcl), hands them to the reader of their kind (alibaba, huawei, or
terraform with its two providers), and has the normaliser
build the lab, whose text is checked to read back as its data.
"""

from __future__ import annotations

from sgnet.core.errors import LabError
from sgnet.core.labspec import LAB_NAME
from sgnet.io.importers import (KINDS, alibaba, hcl, huawei, terraform, terraform_alicloud,
                                terraform_huaweicloud)
from sgnet.io.importers.export import load_json, show
from sgnet.io.importers.normaliser import ImportResult, check_text


TERRAFORM_PROVIDERS = [terraform_alicloud, terraform_huaweicloud]


def _read_terraform(docs, warnings=()):
    return terraform.read(docs, TERRAFORM_PROVIDERS, warnings)


_READERS = {"alibaba": alibaba.read, "huawei": huawei.read, "terraform": _read_terraform}


def _terraform_docs(paths: list, variables, var_files) -> tuple:
    """(docs, warnings): `terraform show -json` files as they are, and the .tf files and
    directories among `paths` evaluated into one plan document (hcl)."""
    configs = [p for p in paths if hcl.is_hcl(p)]
    docs = [(p, load_json(p)) for p in paths if p not in configs]
    warnings = []
    if configs:
        types = {t for p in TERRAFORM_PROVIDERS for ts in p.TYPES.values() for t in ts}
        label, doc, warnings = hcl.plan_document(configs, variables, var_files, types)
        docs.append((label, doc))
    return docs, warnings


def import_files(kind: str, paths: list, name: str = "imported", variables=(),
                 var_files=()) -> ImportResult:
    """Read the exports in `paths` (kind alibaba, huawei or terraform) into a lab file.
    Terraform: `terraform show -json` files, .tf files or directories (HCL, with
    `variables` NAME=VALUE and `var_files` .tfvars)."""
    if kind not in KINDS:
        raise LabError(f"unknown export kind {show(kind)}; allowed: {', '.join(KINDS)}")
    if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
        raise LabError(f"lab name {show(name)} is not valid; allowed: 1-8 characters [a-z0-9]")
    if not paths:
        raise LabError("no export files given")
    paths = [str(p) for p in paths]
    if (variables or var_files) and kind != "terraform":
        raise LabError("--var and --var-file are for --from terraform")
    if kind == "terraform":
        docs, warnings = _terraform_docs(paths, variables, var_files)
        imp = _read_terraform(docs, warnings)
    else:
        docs = [(p, load_json(p)) for p in paths]
        imp = _READERS[kind](docs)
    if not imp.groups:
        raise LabError(f"{', '.join(p for p, _ in docs)}: no security groups found in the "
                       f"{kind} export")
    result = imp.build(name)
    check_text(", ".join(p for p, _ in docs), result)
    return result
