"""The house plan, enforced: who may import whom inside lib/ (module-level imports, as the code has them)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from tests.support.paths import ROOT

LIB = ROOT / "lib"

#: Wings from the bottom up: a module may import its own wing or a lower one, never a higher one.
WINGS: tuple[tuple[str, ...], ...] = (
    ("lib.errors", "lib.schema", "lib.format", "lib.memory"),
    ("lib.export",),
    ("lib.sources",),
    ("lib.analysis", "lib.drift"),
    ("lib.spark",),  # the optional Spark job: summaries on a cluster; nothing in lib imports it
    ("lib.charts",),
    ("lib.demo",),
    ("lib.ui",),
    ("lib.cli", "lib.__main__"),  # the command line sits on top, beside the app
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute module names imported at run time (``if TYPE_CHECKING:`` blocks are skipped)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(tree.body)
    return found


MODULES = {module_name(p): p for p in sorted(LIB.rglob("*.py"))}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def wing(module: str) -> int:
    for rank, names in enumerate(WINGS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return rank
    raise AssertionError(f"{module} is in no wing of the house plan")


@pytest.mark.parametrize(
    ("package", "allowed"),
    [("streamlit", "lib.ui"), ("boto3", "lib.sources.aws"), ("pyspark", "lib.spark.job")],
)
def test_only_one_wing_imports(package: str, allowed: str) -> None:
    offenders = [
        name
        for name, path in MODULES.items()
        if any(m == package or m.startswith(package + ".") for m in imports(path))
        and not (name == allowed or name.startswith(allowed + "."))
    ]
    assert offenders == [], f"{package} may be imported only under {allowed}"


def test_nothing_imports_the_spark_job() -> None:
    """pyspark is an optional extra: the app, the CLI and the library never load the job module."""
    assert [name for name, targets in GRAPH.items() if "lib.spark.job" in targets] == []


def test_botocore_too_stays_in_the_aws_package() -> None:
    offenders = [
        n for n, p in MODULES.items() if any(m.startswith("botocore") for m in imports(p)) and ".aws" not in n
    ]
    assert offenders == []


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Imports that point from a lower wing up to a higher one (``lib`` itself, the lazy API, excepted)."""
    return sorted(
        f"{a} -> {b}"
        for a, targets in graph.items()
        for b in targets
        if "lib" not in (a, b) and wing(b) > wing(a)
    )


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Back edges of a depth-first search, each as the path that closes it (packages importing their own
    submodules are not cycles)."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def dfs(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            dfs(name, [name])
    return cycles


def test_no_arrow_points_upward() -> None:
    assert upward_arrows(GRAPH) == []


def test_no_import_cycles() -> None:
    assert find_cycles(GRAPH) == []


def test_the_detectors_find_a_planted_cycle_and_an_upward_arrow() -> None:
    planted = {**GRAPH, "lib.schema": {*GRAPH["lib.schema"], "lib.sources.capture"}}
    planted["lib.sources.capture"] = {*GRAPH["lib.sources.capture"], "lib.schema"}
    assert upward_arrows(planted) == ["lib.schema -> lib.sources.capture"]
    assert ["lib.schema", "lib.sources.capture", "lib.schema"] in find_cycles(planted)


def imports_inside_functions(path: Path) -> list[str]:
    """``file:line`` of imports inside function bodies that carry no ``# optional:`` reason."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Import | ast.ImportFrom)
                    and "# optional:" not in lines[sub.lineno - 1]
                ):
                    found.append(f"{path.relative_to(ROOT)}:{sub.lineno}")
    return found


def test_no_imports_inside_function_bodies(tmp_path: Path) -> None:
    """Imports live at the top; a heavy optional dependency may be imported late with ``# optional: why``."""
    assert [hit for p in MODULES.values() for hit in imports_inside_functions(p)] == []
    planted = ROOT / "lib" / "_planted_for_test.py"
    try:
        planted.write_text(
            "def f() -> None:\n    import json\n\n\ndef g() -> None:\n    import lzma  # optional: why\n"
        )
        assert imports_inside_functions(planted) == ["lib/_planted_for_test.py:2"]
    finally:
        planted.unlink()


@pytest.mark.parametrize("script", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmark_imports_resolve(script: Path) -> None:
    """Benchmarks are scripts nobody runs in CI: their imports must follow every move of the code."""
    missing = []
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("lib", "tests"):
            module = importlib.import_module(node.module)
            missing += [
                f"{node.module}.{a.name}"
                for a in node.names
                if not hasattr(module, a.name) and importlib.util.find_spec(f"{node.module}.{a.name}") is None
            ]
    assert missing == []
