"""The import contract: the floors of DESIGN.md, checked on every import statement in gpuviz/.

In the spirit of napari's import-linter contract (``[tool.importlinter]`` in its pyproject.toml),
written here with :mod:`ast` so that it needs no dependency. Every ``import`` and ``from … import``
counts, at module level or inside a function, under ``if TYPE_CHECKING:`` or not, and so does
``importlib.import_module("gpuviz.…")`` with a literal (or f-string) name: a function-level import
still runs, just later.

The floors, bottom to top (a module may import its own floor and the floors below it):

``paths``, ``version``, ``display_check``  where the assets are, the version, and whether a window can
            open at all (asked before Qt is loaded, which would abort); they import nothing of gpuviz.
``model``   pure Python + NumPy: imports model, paths and version; never PyQt6, pyqtgraph or numba.
``engine``  imports model, paths and version; never PyQt6 or pyqtgraph. numba, numba-cuda and
            ``gpuviz.kernels`` only on the *worker side*: ``gpuviz.engine.worker``, which runs in the
            spawned worker process, and every engine module that only worker-side modules import,
            or that no gpuviz module imports at all (the worker loads it by name, as in
            ``engine.call_in_worker("gpuviz.engine.hardware:device_attributes")``). An engine module
            that the rest of gpuviz imports is loaded in the caller's process and must stay numba-free.
``ui``      PyQt6 + pyqtgraph: imports ui, engine, model, paths and version; never the CLI, the
            package root, the kernels or numba.
``cli``     and the package root (``gpuviz``, ``gpuviz.__main__``) and ``notebook`` (the notebook API,
            which imports the ui inside its render functions): may import anything; nothing below
            imports them.
``kernels`` numba.cuda kernel source: imports numba and other kernels, nothing else of gpuviz;
            only the worker side imports it.

And no cycle at all between gpuviz modules, whatever their floors.
"""

from __future__ import annotations

import ast
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "gpuviz"

#: The floor of each top-level part of gpuviz ("" is the package root itself).
# ``notebook`` sits with the CLI on the top floor: it draws through gpuviz.ui (imported inside its functions, so
# ``import gpuviz`` stays Qt-free) and is imported only by the package root's lazy ``__getattr__``
FLOOR = {"paths": 1, "version": 1, "display_check": 1, "model": 1, "engine": 2, "ui": 3, "cli": 4, "": 4, "__main__": 4, "notebook": 4}
#: The top floor: these may import anything, and nothing below them may import them.
TOP = ("cli", "", "__main__", "notebook")
BASE = {"paths", "version", "display_check"}
#: Which parts of gpuviz each part may import, whatever the floor numbers say.
MAY_IMPORT = {
    "paths": set(),
    "version": set(),
    "display_check": set(),
    "model": {"model"} | BASE,
    "engine": {"engine", "model"} | BASE,  # + kernels, on the worker side only
    "ui": {"ui", "engine", "model"} | BASE,
    "kernels": {"kernels"},
}
NUMBA = ("numba", "numba_cuda", "cuda")
QT = ("PyQt6", "pyqtgraph")
#: Third-party packages a part may never import.
FORBIDDEN = {"paths": QT + NUMBA, "version": QT + NUMBA, "display_check": QT + NUMBA, "model": QT + NUMBA, "engine": QT, "ui": NUMBA, "kernels": QT}
WORKER_ENTRY = "engine.worker"


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted, e.g. gpuviz.cli.run
    target: str  # imported module (the most specific gpuviz module it names) or third-party name
    line: int

    def where(self, root: Path) -> str:
        return f"{self.source} (line {self.line})"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (``__init__`` named as its package)."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _dynamic_name(node: ast.Call) -> str | None:
    """The literal part of ``import_module("gpuviz.kernels.x")`` / ``import_module(f"gpuviz.kernels.{k}")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "import_module" or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".") or None
    return None


def read_imports(package_dir: Path) -> tuple[dict[str, Path], list[Import]]:
    """Every import in the package, resolved to absolute module names."""
    modules = module_names(package_dir)
    top = package_dir.name
    imports = []

    def resolve(name: str) -> str:
        # the most specific module named: gpuviz.model.dense.LAYERS -> gpuviz.model.dense
        if name.split(".")[0] != top:
            return name
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    imports.append(Import(module, resolve(alias.name), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    package = module if is_package else module.rsplit(".", 1)[0]
                    base_parts = package.split(".")
                    if node.level - 1 >= len(base_parts):
                        raise AssertionError(f"{module} line {node.lineno}: relative import beyond the package")
                    base = ".".join(base_parts[:len(base_parts) - (node.level - 1)])
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module
                for alias in node.names:
                    # `from . import bench` imports the submodule bench; `from .x import name` imports x
                    candidate = f"{base}.{alias.name}"
                    imports.append(Import(module, resolve(candidate if candidate in modules else base),
                                          node.lineno))
            elif isinstance(node, ast.Call):
                name = _dynamic_name(node)
                if name is not None and name.split(".")[0] == top:
                    imports.append(Import(module, resolve(name), node.lineno))
    return modules, imports


def part_of(module: str, top: str) -> str:
    """``gpuviz.ui.matmul.panel`` -> ``ui``; the root -> ``""``."""
    parts = module.split(".")
    assert parts[0] == top
    return parts[1] if len(parts) > 1 else ""


def find_cycles(modules, imports) -> list[list[str]]:
    """One cycle (as a closed path of modules) for every strongly connected group of gpuviz modules."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.target in modules and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):  # Tarjan's algorithm, iterative enough for a package of this size
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
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
                groups.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            strongconnect(v)
    cycles = []
    for group in groups:
        # the shortest way back to the group's first module, for a message a person can follow
        members, start = set(group), group[0]
        paths = {start: [start]}
        frontier = [start]
        cycle = None
        while frontier and cycle is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & members):
                    if w == start:
                        cycle = paths[v] + [start]
                        break
                    if w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
                if cycle:
                    break
            frontier = nxt
        cycles.append(cycle)
    return cycles


def worker_side(modules, imports, top: str) -> set[str]:
    """``engine.worker`` and the engine modules that only worker-side modules import, or none (a fixed point)."""
    importers: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.target in modules and imp.target != imp.source:
            importers[imp.target].add(imp.source)
    side = {f"{top}.{WORKER_ENTRY}"} & set(modules)
    changed = True
    while changed:
        changed = False
        for m in modules:
            # the package gpuviz.engine is what callers import: never the worker side
            if m in side or part_of(m, top) != "engine" or m == f"{top}.engine":
                continue
            if importers[m] <= side:  # no importer at all: loaded by name in the worker
                side.add(m)
                changed = True
    return side


def violations(package_dir: Path) -> list[str]:
    """Every broken rule of the contract, one sentence each (empty when the package keeps it)."""
    top = package_dir.name
    modules, imports = read_imports(package_dir)
    side = worker_side(modules, imports, top)
    found = []
    for imp in imports:
        part = part_of(imp.source, top)
        if part in TOP:
            continue  # the top floor may import anything
        target_top = imp.target.split(".")[0]
        if target_top != top:
            if target_top in FORBIDDEN.get(part, ()):
                found.append(f"{imp.where(package_dir)} imports {imp.target}: {part} never imports {target_top}")
            elif part == "engine" and target_top in NUMBA and imp.source not in side:
                found.append(f"{imp.where(package_dir)} imports {imp.target}: the engine imports {target_top} only "
                             "on the worker side, and this module is imported outside it")
            continue
        target_part = part_of(imp.target, top)
        if target_part in MAY_IMPORT.get(part, set()):
            continue
        if part == "engine" and target_part == "kernels" and imp.source in side:
            continue
        if part == "engine" and target_part == "kernels":
            why = "only the worker side of the engine imports kernels, and this module is imported outside it"
        elif FLOOR.get(target_part, 0) > FLOOR.get(part, 0) or target_part in TOP:
            why = f"an import up the floors ({part or top} -> {target_part or top})"
        else:
            why = f"{part} may import only {', '.join(sorted(MAY_IMPORT[part])) or 'nothing of ' + top}"
        found.append(f"{imp.where(package_dir)} imports {imp.target}: {why}")
    for cycle in find_cycles(modules, imports):
        found.append("import cycle: " + " -> ".join(cycle))
    return found


# -- the contract on gpuviz ------------------------------------------------------------------


def test_gpuviz_keeps_the_import_contract():
    found = violations(PACKAGE_DIR)
    assert not found, "\n".join(found)


def test_the_worker_side_is_what_the_design_says():
    modules, imports = read_imports(PACKAGE_DIR)
    side = worker_side(modules, imports, "gpuviz")
    assert "gpuviz.engine.worker" in side
    # the engine's front (what the GUI and the CLI import) is never on the worker side
    for front in ("gpuviz.engine", "gpuviz.engine.process"):
        assert front in modules and front not in side
    # and every import of a kernel module comes from the worker side
    kernel_importers = {i.source for i in imports if i.target.startswith("gpuviz.kernels")
                        and not i.source.startswith("gpuviz.kernels")}
    assert kernel_importers, "the checker no longer sees the worker importing the kernels"
    assert kernel_importers <= side, kernel_importers - side


def test_the_reader_sees_imports_inside_functions_relative_and_dynamic():
    modules, imports = read_imports(PACKAGE_DIR)
    pairs = {(i.source, i.target) for i in imports}
    # engine/process.py imports the worker inside a function (the spawn target)
    assert ("gpuviz.engine.process", "gpuviz.engine.worker") in pairs
    # the worker loads kernels by name with importlib
    assert any(s == "gpuviz.engine.worker" and t.startswith("gpuviz.kernels") for s, t in pairs)
    # `from . import bench` in the CLI package is the bench module, not the package
    assert ("gpuviz.cli", "gpuviz.cli.bench") in pairs


# -- the checker catches what it is for --------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "gpuviz"
    for name, text in {"__init__.py": "", "paths.py": "", "model/__init__.py": "", "engine/__init__.py": "",
                       "engine/worker.py": "", "ui/__init__.py": "", "cli/__init__.py": "",
                       "kernels/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_clean_synthetic_package_passes(tmp_path):
    root = _package(tmp_path, {
        "model/a.py": "import numpy\nfrom .b import thing\n",
        "model/b.py": "thing = 1\n",
        "engine/__init__.py": "from ..model import a\n\ndef start():\n    from .worker import main\n",
        "engine/worker.py": "def main():\n    import numba\n    from .sim import run\n"
                            "    importlib.import_module(f'gpuviz.kernels.{name}')\n",
        "engine/sim.py": "from numba.cuda import simulator\nfrom ..kernels import naive\n",
        "kernels/naive.py": "from numba import cuda\n",
        "ui/view.py": "from PyQt6 import QtWidgets\nfrom ..engine import start\nfrom ..model.a import thing\n",
        "cli/__init__.py": "from . import run\nfrom ..ui import view\n",
        "cli/run.py": "from .. import paths\n",
        "notebook.py": "from .model import a\n\ndef render():\n    from .ui import view\n",
    })
    assert violations(root) == []


@pytest.mark.parametrize("files, expected", [
    ({"model/a.py": "def f():\n    from ..ui import view\n", "ui/view.py": ""},
     "gpuviz.model.a (line 2) imports gpuviz.ui.view: an import up the floors (model -> ui)"),
    ({"model/a.py": "from PyQt6.QtCore import QObject\n"}, "model never imports PyQt6"),
    ({"model/a.py": "import numba\n"}, "model never imports numba"),
    ({"ui/view.py": "from gpuviz.cli import main\n"}, "an import up the floors (ui -> cli)"),
    ({"ui/view.py": "def f():\n    from numba import cuda\n"}, "ui never imports numba"),
    ({"engine/__init__.py": "import numba\n"}, "the engine imports numba only on the worker side"),
    ({"engine/front.py": "from ..kernels import naive\n", "engine/__init__.py": "from . import front\n",
      "kernels/naive.py": ""}, "only the worker side of the engine imports kernels"),
    ({"engine/sim.py": "import numba\n", "engine/worker.py": "from . import sim\n",
      "ui/view.py": "from ..engine import sim\n"}, "the engine imports numba only on the worker side"),
    ({"kernels/naive.py": "from ..model import launch\n", "model/launch.py": ""},
     "an import up the floors (kernels -> model)"),
    ({"engine/x.py": "from .. import cli\n"}, "an import up the floors (engine -> cli)"),
    ({"ui/view.py": "def f():\n    from .. import notebook\n", "notebook.py": ""},
     "an import up the floors (ui -> notebook)"),
    ({"model/a.py": "from gpuviz.notebook import render\n", "notebook.py": ""},
     "an import up the floors (model -> notebook)"),
    ({"ui/view.py": "importlib.import_module('gpuviz.kernels.naive')\n", "kernels/naive.py": ""},
     "imports gpuviz.kernels.naive"),
])
def test_the_checker_catches_an_upward_import(tmp_path, files, expected):
    found = violations(_package(tmp_path, files))
    assert any(expected in v for v in found), found


def test_the_checker_catches_and_reports_a_cycle(tmp_path):
    root = _package(tmp_path, {
        "model/a.py": "from .b import x\n",
        "model/b.py": "from .c import y\n",
        "model/c.py": "def f():\n    from . import a\n",  # inside a function: still a cycle
        "ui/p.py": "from . import q\n",
        "ui/q.py": "import gpuviz.ui.p\n",
    })
    cycles = [v for v in violations(root) if v.startswith("import cycle")]
    assert cycles == ["import cycle: gpuviz.model.a -> gpuviz.model.b -> gpuviz.model.c -> gpuviz.model.a",
                      "import cycle: gpuviz.ui.p -> gpuviz.ui.q -> gpuviz.ui.p"], cycles


def test_a_package_init_and_its_submodule_importing_it_back_is_a_cycle(tmp_path):
    root = _package(tmp_path, {
        "model/__init__.py": "from .a import thing\n",
        "model/a.py": "from . import helper\nthing = 1\n",  # helper is a name of model/__init__, not a module
    })
    assert "import cycle: gpuviz.model -> gpuviz.model.a -> gpuviz.model" in violations(root)
