"""JUnit XML for CI systems (io: writes the file `matrix --junit` and `diff --junit` name):
one test case per flow, a failure where the kernel and the expectation disagree (matrix) or
a change is not confirmed (diff)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def _case(suite, r, failure):
    if "testcase" in r:  # named by its caller (verify: an intent)
        classname, name = r["classname"], r["testcase"]
    else:
        port = f"/{r['port']}" if r.get("port") is not None else ""
        classname, name = f"{r['src']}->{r['dst']}", f"{r['protocol']}{port} {r['family']}"
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
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
    """A case per changed class: a failure where the clone's kernel disagrees."""
    return [(_class_case(r), None if r.get("confirmed") is not False else _class_failure(r))
            for r in d["gained"] + d["lost"]]


def _class_case(r: dict) -> dict:
    """A class record in the fields a case is named by (src, dst, protocol, port, family)."""
    from sgnet.core.classview import remote_text
    other = remote_text(r["remote"], r["family"])
    me = f"{r['dst'] if r['direction'] == 'ingress' else r['src']}/{r['eni']}"
    src, dst = (other, me) if r["direction"] == "ingress" else (me, other)
    return {"src": src, "dst": dst, "protocol": r["protocol"], "port": r["ports"],
            "family": r["family"]}


def _class_failure(r: dict) -> str:
    bad = next((p for p in r.get("probes", ()) if p.get("confirmed") is False), {})
    said = (bad.get("observed_by") or {}).get("why", "no rule")
    return (f"{r.get('before', '')} -> {r.get('after', r.get('verdict'))} expected "
            f"({r['decided_by']['why']}); the kernel did {bad.get('observed')} to "
            f"{bad.get('src')} -> {bad.get('dst')}: {said}")


def verify_cases(v: dict) -> list:
    """A case per intent: a failure listing its violating classes."""
    from sgnet.core.classview import line
    out = []
    for it in v["intents"]:
        case = {"classname": f"{it['from']}->{it['to']}",
                "testcase": f"{it['name']}: {it['traffic']} {it['expect']}"}
        failure = None if it["holds"] else "; ".join(line(r) for r in it["violations"][:20])
        out.append((case, failure))
    return out


def replay_cases(r: dict) -> list:
    """A case per replayed flow and logging ENI: a failure where production and the lab
    disagree, or the change cuts it."""
    out = []
    for x in r["flows"]:
        case = {"src": x["src"], "dst": x["dst"], "protocol": x["protocol"], "port": x["port"],
                "family": f"{x['logged_at']} {x['direction']}"}
        failure = None
        if x["disagree"]:
            failure = (f"logged {', '.join(x['disagree'])}, the lab: "
                       f"{x['now']['observed'] or x['now']['expected']} "
                       f"({x['now']['decided_by']['why']})")
        elif x.get("cut"):
            failure = f"cut by the change: {x['after']['decided_by']['why']}"
        out.append((case, failure))
    return out
