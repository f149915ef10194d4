"""The package's layering contract, from the sources alone (nothing is imported).

Every module belongs to one layer; a module imports only from its own layer and the ones
before it, whether at the top or inside a function (only ``if TYPE_CHECKING:`` imports,
which never run, are exempt), the imports have no cycle, and only the torch layers import
torch. A new module fails here until it is given its layer, and a wrong arrow fails CI.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rnntag"

# The layers in dependency order, each a folder of the package (or one module, for a concept
# that is one file): the data flows file -> sentences -> arrays -> network -> emissions ->
# decoder -> tags -> file, and each layer builds on the ones above it in this list.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("base",),  # errors, atomic files, result objects, the version
    "tags": ("tags",),  # schemes, checks, spans, allowed transitions
    "io": ("io",),  # CoNLL, CoNLL-U, span JSONL, text, detection, conversion, prediction files
    "config": ("config",),
    "features": ("features",),  # vocabulary, context, encoding, weight layout
    "decode": ("decoding",),
    "runtime": ("runtime",),  # the backend protocol, the NumPy runtime, ONNX Runtime
    "store": ("store",),  # model directories and exports on disk, older formats
    # the torch network, its weight files and its inference backends: loading reaches these
    # only for the torch and TorchScript runtimes, so that torch stays out of every layer above
    "nn": ("nn",),
    "tagging": ("tagging",),  # loading, the Tagger API, streaming prediction
    "evaluate": ("evaluation",),
    "export": ("exporter",),
    "train": ("training",),
    "serve": ("serve",),
    "api": ("",),  # the package itself: rnntag.load, rnntag.train, ... (loaded lazily)
    "cli": ("cli", "__main__"),
}
TORCH_LAYERS = {"nn", "export", "train"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    top = module.split(".")[0]
    for layer, members in LAYERS.items():
        if top in members:
            return layer
    return None


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING"):
            ids.update(id(n) for stmt in block.body for n in ast.walk(stmt))
    return ids


def imports(path: Path) -> list[tuple[str, int]]:
    """The absolute names each run import of ``path`` imports, with its line (for ``from m
    import x``, ``m.x``: the submodule x, or the name x of the module m)."""
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ["rnntag", *module.split(".")] if path.name == "__init__.py" else ["rnntag", *module.split(".")[:-1]]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            found += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def package_edges() -> dict[str, dict[str, int]]:
    """module -> {imported package module: line} (module names relative to the package)."""
    edges: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        out = edges.setdefault(module, {})
        for name, line in imports(path):
            if name != "rnntag" and not name.startswith("rnntag."):
                continue
            target = name.removeprefix("rnntag").removeprefix(".")
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target != module and (target or name == "rnntag"):
                out.setdefault(target, line)
    return edges


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []
    named = [m for members in LAYERS.values() for m in members]
    assert len(named) == len(set(named))
    assert all(any(layer_of(m) == layer for m in MODULES) for layer in LAYERS)  # no stale layer


def test_imports_run_down_the_layers():
    order = list(LAYERS)
    wrong = [f"rnntag/{MODULES[m].relative_to(PACKAGE)}:{line}: {m or 'rnntag'} ({layer_of(m)}) imports "
             f"{t or 'rnntag'} ({layer_of(t)})"
             for m, targets in package_edges().items() for t, line in targets.items()
             if order.index(layer_of(t)) > order.index(layer_of(m))]
    assert wrong == []


def test_no_import_cycles():
    edges = package_edges()
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for t in edges.get(m, {}):
            if state.get(t) == 1:
                cycles.append(trail[trail.index(t):] + [t])
            elif t not in state:
                visit(t, [*trail, t])
        state[m] = 2

    for m in edges:
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_only_the_torch_layers_import_torch():
    def torch_import(name: str) -> bool:
        return name == "torch" or name.startswith(("torch.", "safetensors.torch"))

    found = sorted(f"rnntag/{path.relative_to(PACKAGE)}:{line}"
                   for m, path in MODULES.items() if layer_of(m) not in TORCH_LAYERS
                   for name, line in imports(path) if torch_import(name))
    assert found == []


def test_the_torch_free_layers_import_without_torch():
    # the contract as it runs: every module of the layers above nn, imported for real
    code = (
        "import importlib, pkgutil, sys, rnntag\n"
        "names = ['rnntag.config', 'rnntag.decoding']\n"
        "for pkg in ('base', 'tags', 'io', 'features', 'runtime', 'store', 'tagging', 'evaluation'):\n"
        "    module = importlib.import_module('rnntag.' + pkg)\n"
        "    names += [m.name for m in pkgutil.iter_modules(module.__path__, module.__name__ + '.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "assert len(names) > 30, names\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
