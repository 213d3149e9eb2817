"""The house keeps its shape (checked from the source, AST only: nothing here is imported).

- sgnet/core and sgnet/providers are the pure core: they import nothing that touches the
  host and no sgnet module outside themselves;
- no import cycle anywhere in sgnet/, counting imports inside functions;
- no class over 350 lines; at most three functions over 80 lines, each saying why;
- the pure tests (tests/unit) import nothing of the shell.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PKG = ROOT / "sgnet"
# Modules that reach the host (kernel, processes, threads, signals, sockets, file locks).
HOST_MODULES = {"pyroute2", "nftables", "scapy", "subprocess", "ctypes", "socket", "threading",
                "multiprocessing", "fcntl", "signal", "select", "concurrent", "asyncio"}
PURE_PACKAGES = ("sgnet.core", "sgnet.providers")
# The shell: what a pure test must not import (the CLI may be run in-process: it imports the
# session only for verbs that need the kernel).
SHELL_PACKAGES = ("sgnet.kernel", "sgnet.hosts", "sgnet.session", "sgnet.state",
                  "sgnet.pytest_plugin", "sgnet.__main__")
MAX_CLASS_LINES = 350
MAX_FUNCTION_LINES = 80
MAX_LONG_FUNCTIONS = 3
LONG_MARK = "# long:"  # the comment a long function must carry, saying why it is long


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(path: Path, name: str) -> list:
    """(imported module, line) for every import in the file, at any depth; relative imports
    resolved; `from pkg import mod` names the module when mod is one."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[:len(up) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                found.append((full if full in MODULES else base, node.lineno))
    return found


def test_the_core_touches_nothing_of_the_host():
    bad = []
    for name, path in MODULES.items():
        if not name.startswith(PURE_PACKAGES):
            continue
        for imported, line in imports_of(path, name):
            root = imported.split(".")[0]
            if root in HOST_MODULES:
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {imported}")
            elif root == "sgnet" and not imported.startswith(PURE_PACKAGES) and imported != "sgnet":
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {imported} (outside the core)")
    assert not bad, "\n".join(bad)


def _graph() -> dict:
    graph = {}
    for name, path in MODULES.items():
        deps = set()
        for imported, _ in imports_of(path, name):
            # importing a.b.c runs a and a.b first, unless they are the importer's own
            # packages (already being imported when it runs)
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                dep = ".".join(parts[:i])
                if dep in MODULES and dep != name and not name.startswith(dep + "."):
                    deps.add(dep)
        graph[name] = deps
    return graph


def _cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]; counter[0] += 1
        stack.append(start); on.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]; counter[0] += 1
                    stack.append(nxt); on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop(); on.discard(m); comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycle_even_inside_functions():
    # Package __init__ files import nothing, so a.b importing a.c is no cycle through a.
    inits = [n for n, p in MODULES.items() if p.name == "__init__.py"
             and any(i.startswith("sgnet.") for i, _ in imports_of(p, n))
             and n != "sgnet.providers"]
    assert not inits, f"package __init__ files that import sgnet modules: {inits}"
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _defs():
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                yield path, node, lines[first - 2 if first > 1 else 0:node.end_lineno]


def test_no_class_over_350_lines():
    big = [f"{p.relative_to(ROOT)}:{n.lineno}: class {n.name}: {n.end_lineno - n.lineno + 1} lines"
           for p, n, _ in _defs() if isinstance(n, ast.ClassDef)
           and n.end_lineno - n.lineno + 1 > MAX_CLASS_LINES]
    assert not big, "\n".join(big)


def test_long_functions_are_few_and_say_why():
    long = [(p, n, text) for p, n, text in _defs() if not isinstance(n, ast.ClassDef)
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    shown = [f"{p.relative_to(ROOT)}:{n.lineno}: {n.name}: {n.end_lineno - n.lineno + 1} lines"
             for p, n, _ in long]
    assert len(long) <= MAX_LONG_FUNCTIONS, "\n".join(shown)
    silent = [s for s, (_, _, text) in zip(shown, long)
              if not any(line.strip().startswith(LONG_MARK) for line in text)]
    assert not silent, f"long functions without a '{LONG_MARK}' comment:\n" + "\n".join(silent)


def _test_files(folder: str):
    return sorted((ROOT / "tests" / folder).rglob("*.py"))


def test_pure_tests_import_nothing_of_the_shell():
    bad = []
    for path in _test_files("unit"):
        for imported, line in imports_of(path, "tests.unit." + path.stem):
            root = imported.split(".")[0]
            if root in {"pyroute2", "nftables", "scapy"} or imported.startswith(SHELL_PACKAGES):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {imported}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("folder", ["kernel", "multihost"])
def test_kernel_tests_are_marked_by_their_folder(folder):
    # conftest marks everything under these folders; a file there that is pure belongs in unit/
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    assert "KERNEL_FOLDERS" in conftest and f'"{folder}"' in conftest
    assert _test_files(folder), f"tests/{folder} is empty"


if __name__ == "__main__":  # python tests/unit/test_architecture.py: the graph, for a look
    for mod, deps in sorted(_graph().items()):
        print(mod, "->", ", ".join(sorted(deps)))
    sys.exit(0)
