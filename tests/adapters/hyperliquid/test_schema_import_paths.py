"""One import path for the wire schemas: every name comes from the submodule that defines it."""

from __future__ import annotations

import ast
from pathlib import Path

from adapters.hyperliquid import schemas
from adapters.hyperliquid.schemas import common as common_schemas
from adapters.hyperliquid.schemas import exchange as exchange_schemas
from adapters.hyperliquid.schemas import info as info_schemas
from adapters.hyperliquid.schemas import ws as ws_schemas


def test_each_schema_name_has_one_import_path() -> None:
    submodules = (common_schemas, info_schemas, exchange_schemas, ws_schemas)
    names = [name for module in submodules for name in module.__all__]

    assert len(names) == len(set(names)), "a name is public in two submodules"
    assert not any(name in vars(schemas) for name in names), "the package re-exports a name"


def test_no_project_module_imports_a_schema_name_from_the_package_root() -> None:
    root = Path(__file__).resolve().parents[3]
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "adapters.hyperliquid.schemas":
                for alias in node.names:
                    if alias.name not in {"common", "info", "exchange", "ws"}:
                        offenders.append(f"{path.relative_to(root)}: {alias.name}")

    assert offenders == []
