"""`import_files`: export files of one kind -> a lab file (io: reads the files; the entry
point of `sgnet import`).

Checks the arguments, reads each file (export.load_json), hands them to the reader of
their kind (alibaba, huawei, or terraform with its two providers), and has the normaliser
build the lab, whose text is checked to read back as its data.
"""

from __future__ import annotations

from sgnet.core.errors import LabError
from sgnet.core.labspec import LAB_NAME
from sgnet.io.importers import (KINDS, alibaba, huawei, terraform, terraform_alicloud,
                                terraform_huaweicloud)
from sgnet.io.importers.export import load_json, show
from sgnet.io.importers.normaliser import ImportResult, check_text


def _read_terraform(docs):
    return terraform.read(docs, [terraform_alicloud, terraform_huaweicloud])


_READERS = {"alibaba": alibaba.read, "huawei": huawei.read, "terraform": _read_terraform}


def import_files(kind: str, paths: list, name: str = "imported") -> ImportResult:
    """Read the exports in `paths` (kind alibaba, huawei or terraform) into a lab file."""
    if kind not in KINDS:
        raise LabError(f"unknown export kind {show(kind)}; allowed: {', '.join(KINDS)}")
    if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
        raise LabError(f"lab name {show(name)} is not valid; allowed: 1-8 characters [a-z0-9]")
    if not paths:
        raise LabError("no export files given")
    docs = [(str(p), load_json(str(p))) for p in paths]
    imp = _READERS[kind](docs)
    if not imp.groups:
        raise LabError(f"{', '.join(p for p, _ in docs)}: no security groups found in the "
                       f"{kind} export")
    result = imp.build(name)
    check_text(", ".join(p for p, _ in docs), result)
    return result
