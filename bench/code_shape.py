"""The package's shape, for a redesign's before and after; prints JSON.

    python bench/code_shape.py [--package rnntag] [--top 15]

From the sources alone (``ast``; nothing is imported):

- ``modules``: each module and its lines;
- ``edges``: the imports between the package's modules, ``top_level`` (run when the module
  is imported) and ``deferred`` (inside a function: run when it is called), counted once per
  pair of modules (those under ``if TYPE_CHECKING:`` are never run, and not counted);
- ``cycles``: the groups of modules that import each other, by top-level imports alone and
  by all imports (strongly connected components of more than one module);
- ``torch``: the modules that import torch, at the top level or deferred;
- ``longest_functions``: the longest functions and methods, in lines.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute names an import statement imports (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" for a in node.names]  # a submodule, or a name of the module ``prefix``


def shape(root: Path, package: str, top: int) -> dict:
    files = sorted((root / package).rglob("*.py"))
    modules = {module_name(p, root): p for p in files}
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules.items()}
    top_level: set[tuple[str, str]] = set()
    deferred: set[tuple[str, str]] = set()
    torch: dict[str, str] = {}
    functions = []
    for m, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        inside: set[int] = set()  # the ids of import nodes inside a function
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((fn.end_lineno - fn.lineno + 1, f"{m}.{fn.name}", fn.lineno))
                inside.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if _under_type_checking(tree, node):
                continue  # for type checkers only: never run
            later = id(node) in inside
            for name in imported(node, m, is_package):
                if name == "torch" or name.startswith("torch."):
                    torch[m] = "deferred" if later and torch.get(m) != "top_level" else "top_level"
                target = _known(name, modules)
                if target and target != m:
                    (deferred if later else top_level).add((m, target))
    deferred -= top_level
    functions.sort(reverse=True)
    return {
        "package": package,
        "modules": len(modules),
        "lines": sum(lines.values()),
        "module_lines": dict(sorted(lines.items(), key=lambda kv: -kv[1])),
        "edges": {"top_level": len(top_level), "deferred": len(deferred), "all": len(top_level | deferred)},
        "cycles": {"top_level": _cycles(modules, top_level), "all": _cycles(modules, top_level | deferred)},
        "torch": dict(sorted(torch.items())),
        "longest_functions": [{"function": name, "lines": n, "line": line} for n, name, line in functions[:top]],
    }


def _under_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    """Whether ``node`` sits in an ``if TYPE_CHECKING:`` block (never run)."""
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING"):
            if any(n is node for n in ast.walk(block)):
                return True
    return False


def _known(name: str, modules: dict) -> str | None:
    """The package module that ``name`` names, or the one it is an attribute of."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _cycles(modules: dict, edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, list[str]] = {m: [] for m in modules}
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(ROOT), help="the folder that holds the package (default: this checkout)")
    parser.add_argument("--package", default="rnntag")
    parser.add_argument("--top", type=int, default=15, help="how many of the longest functions to list")
    args = parser.parse_args()
    print(json.dumps(shape(Path(args.root), args.package, args.top)))


if __name__ == "__main__":
    main()
