"""Import arrows point one way: the ways in, the rule registry, the rules, the engine.

The command line, the language server, the bot and `measure` sit on top; `dockopt.rules`
(and `dockopt.settings`) under them; the transforms and checks below that; the engine,
`dockopt.optimizer`, at the bottom, knowing no rule by name. The import graph is read
from the source with `ast`, imports inside functions included (a lazy import is still an
arrow), so a cycle hidden behind a function-level import is found too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "dockopt"
ABOVE_THE_ENGINE = ("dockopt.transforms", "dockopt.checks", "dockopt.cli", "dockopt.bot", "dockopt.lsp",
                    "dockopt.measure", "dockopt.rules", "dockopt.settings")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The dockopt module `name` names, or that holds it (`pkg.mod.attr` -> `pkg.mod`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> dict[str, int]:
    """The dockopt modules `module` imports, each with the line of its first import."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            # `from pkg import module` imports the module; `from module import name` the module
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            owner = _owner(name)
            if owner is not None and owner != module:
                found.setdefault(owner, node.lineno)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def _shown(component: list[str]) -> str:
    """A component as one of its shortest cycles, each arrow with the importing line:
    `a:16 -> b:39 -> a`, and how many modules the component holds."""
    inside, start = set(component), component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        here = queue.pop(0)
        for there in sorted(GRAPH[here]):
            if there == start:
                steps = paths[here] + [start]
                arrows = " -> ".join(f"{a}:{GRAPH[a][b]}" for a, b in zip(steps, steps[1:]))
                return f"{arrows} -> {start} ({len(component)} modules in this cycle)"
            if there in inside and there not in paths:
                paths[there] = paths[here] + [there]
                queue.append(there)
    raise AssertionError(f"no cycle through {start}")


def test_the_graph_is_read() -> None:
    # the reader itself: relative imports, `from pkg import module`, function-level imports
    assert "dockopt.optimizer.pipeline" in MODULES and "dockopt.transforms.stage_split.node" in MODULES
    assert "dockopt.transforms.stage_split.stage" in GRAPH["dockopt.transforms.stage_split.node"]
    assert "dockopt.transforms.stage_split.render" in GRAPH["dockopt.transforms.stage_split"]
    assert "dockopt.checks" in GRAPH["dockopt.rules"], "a function-level import counts"
    assert "dockopt.transforms.cache_order.context_free" in GRAPH["dockopt.transforms.cache_order"]


def test_the_engine_imports_no_rule_and_no_way_in() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module in sorted(GRAPH) if module.startswith("dockopt.optimizer")
        for target, line in sorted(GRAPH[module].items())
        if any(target == top or target.startswith(top + ".") for top in ABOVE_THE_ENGINE)
    ]
    assert not wrong, "dockopt/optimizer must not import the layers above it:\n" + "\n".join(wrong)


def test_no_modules_import_each_other() -> None:
    cycles = _cycles()
    assert not cycles, "import cycles (module:line of the import -> ...):\n" + "\n".join(f"  {_shown(c)}" for c in cycles)


def test_the_engine_names_no_rule() -> None:
    # A rule id as a value in the engine (`("DO202", ...)` deciding what waits for what) is
    # knowledge of a rule; ids in docstrings, comments and longer text are documentation.
    import re

    rule_id = re.compile(r"DO\d{3}")
    found = []
    for name, path in MODULES.items():
        if not name.startswith("dockopt.optimizer"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{name}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and rule_id.fullmatch(node.value)]
    assert not found, "the engine names rules:\n" + "\n".join(found)
