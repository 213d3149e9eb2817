"""JUnit XML for CI systems (io: writes the file `matrix --junit` and `diff --junit` name):
one test case per flow, a failure where the kernel and the expectation disagree (matrix) or
a change is not confirmed (diff)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def _case(suite, r, failure):
    port = f"/{r['port']}" if r.get("port") is not None else ""
    case = ET.SubElement(suite, "testcase", classname=f"{r['src']}->{r['dst']}",
                         name=f"{r['protocol']}{port} {r['family']}")
    if failure:
        ET.SubElement(case, "failure", message=failure).text = failure
    return case


def write(path: str, name: str, cases: list):
    """cases: [(record, failure message or None)]"""
    suite = ET.Element("testsuite", name=name, tests=str(len(cases)),
                       failures=str(sum(1 for _, f in cases if f)), errors="0", skipped="0")
    for r, failure in cases:
        _case(suite, r, failure)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def matrix_cases(m: dict) -> list:
    return [(r, None if r["match"] else _failure(r)) for r in m["results"]]


def _failure(r: dict) -> str:
    if r["observed"] == "lost":
        return f"LOST (a lab fault, not a verdict): {r.get('lost', '')}"
    said = (r.get("observed_by") or {}).get("why", "no rule")
    if r.get("mismatch") == "rule":
        return (f"{r['observed']} as expected, but for another rule's reason: the kernel "
                f"reports {said}; the provider's rules say {r['decided_by']['why']}")
    return (f"expected {r['expected']}, observed {r['observed']} ({r['detail']}); "
            f"decided by {r['decided_by']['why']}; the kernel reports {said}")


def diff_cases(d: dict) -> list:
    return [(r, None if r["confirmed"] else
             f"{r['before']} -> {r['after']} expected, the clone observed {r['observed']}")
            for r in d["gained"] + d["lost"]]
