"""Structural validation: floors, cycles and side-effect-free imports.

Every project module must import in a fresh interpreter without side effects (no network, no
threads, no event loop, no files written, no subprocesses), project modules must not import each
other in a cycle, and imports only go down the floors (``FLOORS``): a lower floor never imports a
higher one. Strategies and actors in particular must import without starting any runtime.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = (
    "common",
    "simulator",
    "jarvis",
    "adapters",
    "actors",
    "strategies",
    "intents",
    "controllers",
    "config",
    "backtests",
    "api",
)


def discover_modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Map every dotted module name of the given top-level packages to its source file."""
    modules: dict[str, Path] = {}
    for package in packages:
        base = root / package
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(part.startswith(".") or part == "__pycache__" for part in parts):
                continue
            modules[".".join(parts)] = path
    return modules


def _is_type_checking_block(node: ast.If) -> bool:
    test = node.test
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return False


def _module_level_imports(tree: ast.Module) -> Iterable[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not in functions or TYPE_CHECKING blocks)."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking_block(node):
                stack.extend(node.body)
            stack.extend(node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body)
            stack.extend(node.orelse)
            stack.extend(node.finalbody)
            for handler in node.handlers:
                stack.extend(handler.body)
        elif isinstance(node, ast.With):
            stack.extend(node.body)


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Edges module -> project modules it needs at import time.

    Importing `a.b.c` also initialises `a` and `a.b`; those implicit edges count, except towards
    the importer's own ancestor packages, which Python always initialises before their children
    (so a package `__init__` re-exporting submodules that import siblings is not a cycle). An
    explicit `from a.b import name` of a non-module name does depend on `a.b` and always counts.
    """
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own_ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _module_level_imports(tree):
            explicit: list[str] = []
            if isinstance(node, ast.Import):
                explicit = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    explicit.append(submodule if submodule in modules else base)
            for target in explicit:
                if target in modules and target != name:
                    graph[name].add(target)
                parts = target.split(".")
                for i in range(1, len(parts)):
                    prefix = ".".join(parts[:i])
                    if prefix in modules and prefix != name and prefix not in own_ancestors:
                        graph[name].add(prefix)
    return graph


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(_closed_path(sorted(component), graph))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _closed_path(component: list[str], graph: Mapping[str, set[str]]) -> list[str]:
    """One concrete cycle through the component, for a readable failure message."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = sorted(n for n in graph[node] if n in members)
        if start in nxt and len(path) > 1:
            return [*path, start]
        unvisited = [n for n in nxt if n not in seen]
        if not unvisited:
            return [*path, nxt[0]] if nxt else path
        node = unvisited[0]
        path.append(node)
        seen.add(node)


MODULES = discover_modules(REPO_ROOT, PROJECT_PACKAGES)

# The floors, lowest first: (floor name, module prefixes). A module may import its own floor and
# any floor below it, never one above. The longest matching prefix decides a module's floor
# ("pkg=" matches the package module alone). The
# simulator is a product of its own (any Hyperliquid client can use it): it may use the venue's
# wire code, and only the composition root may import it.
_WIRE = "adapters.hyperliquid."
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nautilus workarounds", ("common",)),
    (
        "venue wire code",
        # The two package roots hold only docstrings, so importing them costs nothing.
        (
            "adapters=",
            "adapters.hyperliquid=",
            *(
                _WIRE + name
                for name in (
                    "constants",
                    "enums",
                    "numbers",
                    "schemas",
                    "signing",
                    "rate_limit",
                    "transport",
                    "http",
                    "websocket",
                    "ws_connection",
                    "data_types",
                    "parsing",
                    "rejections",
                    "order_builder",
                    "reports",
                )
            ),
        ),
    ),
    ("adapter clients", ("adapters",)),
    ("market state", ("actors",)),
    ("controllers", ("controllers",)),
    ("strategies", ("strategies",)),
    ("intent compiler", ("intents",)),
    ("composition root", ("api", "backtests", "config", "jarvis")),
)
# Separate products, each with the floors it may use (and nothing below the root may use them).
PRODUCTS: dict[str, tuple[str, ...]] = {
    "simulator": ("nautilus workarounds", "venue wire code"),
}


def floor_of(module: str) -> str | None:
    """The floor (or product) a module belongs to, by the longest matching prefix."""
    best: tuple[int, str] | None = None
    candidates = [(name, prefixes) for name, prefixes in FLOORS]
    candidates += [(name, (name,)) for name in PRODUCTS]
    for name, prefixes in candidates:
        for prefix in prefixes:
            exact = prefix.endswith("=")  # "pkg=": the package module itself, not its children
            prefix = prefix.rstrip("=")
            matches = module == prefix or (not exact and module.startswith(prefix + "."))
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), name)
    return best[1] if best else None


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every edge that imports a higher floor, or a product from outside the composition root."""
    rank = {name: i for i, (name, _) in enumerate(FLOORS)}
    root = FLOORS[-1][0]
    bad: list[str] = []
    for module, targets in sorted(graph.items()):
        here = floor_of(module)
        for target in sorted(targets):
            there = floor_of(target)
            if here is None or there is None or here == there:
                continue
            if here in PRODUCTS:
                allowed = there in PRODUCTS[here]
            elif there in PRODUCTS:
                allowed = here == root
            else:
                allowed = rank[there] <= rank[here]
            if not allowed:
                bad.append(f"{module} ({here}) -> {target} ({there})")
    return bad


# A zygote: one interpreter imports the heavy third-party packages (their own start-up is not
# ours to judge), then forks a fresh child per project module. Each child installs an audit hook,
# imports its one module and reports every side effect that import caused. No project module is
# imported in the zygote itself, so every child starts from the same clean state.
PROBE = r"""
import asyncio, importlib, json, os, sys, threading, traceback
for name in ("nautilus_trader.model", "nautilus_trader.trading", "nautilus_trader.common",
             "nautilus_trader.config", "nautilus_trader.core", "nautilus_trader.backtest.engine",
             "nautilus_trader.live.node", "msgspec", "numpy", "pandas", "hyperliquid.utils.signing",
             "hyperliquid.info", "hyperliquid.exchange", "eth_account", "Crypto.Hash.keccak",
             "coincurve", "aiohttp", "fastapi", "websockets", "picows", "redis"):
    try:
        importlib.import_module(name)
    except ImportError:
        pass

def probe(module):
    events = []
    def hook(event, args):
        if event in ("socket.connect", "socket.bind", "socket.getaddrinfo", "subprocess.Popen",
                     "os.fork", "os.posix_spawn", "_thread.start_new_thread"):
            events.append(f"{event} {args!r:.120}")
        elif event == "open" and isinstance(args[1], str) and any(c in args[1] for c in "wax+"):
            events.append(f"open-for-write {args[0]!r:.120}")
    sys.addaudithook(hook)
    threads_before = threading.active_count()
    try:
        importlib.import_module(module)
    except BaseException:
        return {"error": traceback.format_exc()[-3000:], "effects": events}
    if threading.active_count() != threads_before:
        events.append(f"threads started: {threading.active_count() - threads_before}")
    loop = getattr(getattr(asyncio.get_event_loop_policy(), "_local", None), "_loop", None)
    if loop is not None:
        events.append("an asyncio event loop was created")
    return {"error": None, "effects": events}

results = {}
for module in sys.argv[1:]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        payload = json.dumps(probe(module)).encode()
        os.write(write_fd, payload)
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    results[module] = json.loads(b"".join(chunks) or b'{"error": "child died", "effects": []}')
print(json.dumps(results))
"""


def run_import_probe(modules: Iterable[str], cwd: Path, env: dict[str, str] | None = None) -> dict:
    """Import each module in its own freshly forked interpreter; return errors and side effects."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, f"import probe failed:\n{result.stderr[-3000:]}"
    probed: dict = json.loads(result.stdout.strip().splitlines()[-1])
    return probed


@pytest.fixture(scope="module")
def probe_results() -> dict:
    return run_import_probe(sorted(MODULES), REPO_ROOT)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_in_fresh_interpreter_without_side_effects(
    module: str, probe_results: dict
) -> None:
    outcome = probe_results[module]
    assert outcome["error"] is None, f"importing {module} failed:\n{outcome['error']}"
    assert outcome["effects"] == [], f"importing {module} has side effects: {outcome['effects']}"


def test_project_modules_have_no_import_cycle() -> None:
    cycles = find_cycles(import_graph(MODULES))
    readable = [" -> ".join(cycle) for cycle in cycles]
    assert not cycles, "import cycle(s) among project modules:\n" + "\n".join(readable)


def test_every_module_belongs_to_a_floor() -> None:
    homeless = [name for name in MODULES if floor_of(name) is None]
    assert not homeless, f"modules on no floor (add them to FLOORS): {homeless}"


def test_imports_only_go_down_the_floors() -> None:
    bad = upward_imports(import_graph(MODULES))
    assert not bad, "imports from a lower floor to a higher one:\n" + "\n".join(bad)


def test_floor_check_names_an_upward_import(tmp_path: Path) -> None:
    for package, body in (
        ("actors", "from strategies import geometry\n"),
        ("strategies", "X = 1\n"),
        ("adapters", ""),
    ):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "state.py").write_text(body)
    (tmp_path / "strategies" / "geometry.py").write_text("from actors import state\n")
    (tmp_path / "adapters" / "feed.py").write_text("import simulator.engine\n")
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "__init__.py").write_text("")
    (tmp_path / "simulator" / "engine.py").write_text("from adapters import feed\n")
    modules = discover_modules(tmp_path, ["actors", "strategies", "adapters", "simulator"])

    bad = upward_imports(import_graph(modules))

    assert bad == [
        "actors.state (market state) -> strategies (strategies)",
        "actors.state (market state) -> strategies.geometry (strategies)",
        "adapters.feed (adapter clients) -> simulator (simulator)",
        "adapters.feed (adapter clients) -> simulator.engine (simulator)",
        "simulator.engine (simulator) -> adapters.feed (adapter clients)",
    ]


def test_cycle_detector_names_a_cycle_it_is_shown(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("import pkg.c\n")
    (pkg / "c.py").write_text("from .a import thing\n")
    (pkg / "d.py").write_text("def f():\n    from pkg import a\n")  # lazy: not a cycle
    modules = discover_modules(tmp_path, ["pkg"])

    cycles = find_cycles(import_graph(modules))

    assert cycles == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_cycle_detector_ignores_type_checking_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
    )
    modules = discover_modules(tmp_path, ["pkg"])

    assert find_cycles(import_graph(modules)) == []


def test_package_reexporting_submodules_that_import_siblings_is_not_a_cycle(
    tmp_path: Path,
) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import A\nfrom pkg.b import B\n")
    (pkg / "a.py").write_text("A = 1\n")
    (pkg / "b.py").write_text("from pkg.a import A\nB = A\n")
    modules = discover_modules(tmp_path, ["pkg"])

    assert find_cycles(import_graph(modules)) == []


def test_submodule_importing_a_name_from_its_package_init_is_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import A\nSETTING = 1\n")
    (pkg / "a.py").write_text("from pkg import SETTING\nA = SETTING\n")
    modules = discover_modules(tmp_path, ["pkg"])

    assert find_cycles(import_graph(modules)) == [["pkg", "pkg.a", "pkg"]]


def test_side_effect_probe_detects_a_module_that_writes_a_file(tmp_path: Path) -> None:
    (tmp_path / "noisy_module.py").write_text(
        "import threading\nopen('written.txt', 'w').write('x')\n"
        "threading.Thread(target=lambda: None).start()\n"
    )
    probed = run_import_probe(["noisy_module"], tmp_path, env={"PYTHONPATH": str(tmp_path)})
    side_effects = probed["noisy_module"]["effects"]
    assert any("open-for-write" in e and "written.txt" in e for e in side_effects)
    assert any(e.startswith("_thread.start_new_thread") for e in side_effects)


def test_strategies_and_actors_are_covered_by_the_import_probe() -> None:
    assert "strategies" in MODULES
    assert "actors" in MODULES


def test_import_probe_reports_a_module_that_fails_to_import(tmp_path: Path) -> None:
    (tmp_path / "broken_module.py").write_text("raise RuntimeError('boom at import')\n")

    probed = run_import_probe(["broken_module"], tmp_path, env={"PYTHONPATH": str(tmp_path)})

    assert "boom at import" in probed["broken_module"]["error"]
