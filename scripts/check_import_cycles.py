"""Fail on import cycles between the project's modules (tests and migrations left out).

grimp builds the import graph, function-local imports included: an import moved into a function
still ties the two modules together. Every strongly connected component of more than one module
is a cycle. Modules listed in the baseline file (one a line, `#` comments) may still be in one;
the baseline may only shrink: a listed module that is no longer in a cycle must be removed.

    python scripts/check_import_cycles.py [--baseline scripts/import_cycles_baseline.txt]
"""
import argparse
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cloudproj", "compute", "network", "secgroups", "floating", "metadata", "volumes", "images",
            "identity", "dashboard", "consoles")
DEFAULT_BASELINE = ROOT / "scripts" / "import_cycles_baseline.txt"


def is_checked(module: str) -> bool:
    parts = module.split(".")
    return "tests" not in parts and "migrations" not in parts


def import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    modules = {m for m in graph.modules if is_checked(m)}
    return {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def read_baseline(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    allowed = read_baseline(args.baseline)
    components = cycles(import_graph())
    in_cycles = {module for component in components for module in component}
    failed = False
    for component in components:
        new = [m for m in component if m not in allowed]
        if new:
            failed = True
            print(f"import cycle of {len(component)} modules: {' '.join(component)}")
            print(f"  not in the baseline: {' '.join(new)}")
    stale = sorted(allowed - in_cycles)
    if stale:
        failed = True
        print(f"no longer in a cycle, remove from {args.baseline.name}: {' '.join(stale)}")
    if not failed:
        print(f"import cycles: none outside the baseline ({len(in_cycles)} modules in it)" if in_cycles
              else "import cycles: none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
