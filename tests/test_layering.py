"""What import-linter cannot see (it tracks an external package only as a whole): the
library's message internals are reached from one module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "custom_components" / "ocpp_central"


def _imports_of(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_only_wire_validation_imports_ocpp_messages() -> None:
    """Call, CallResult, CallError, the parser and the schemas come from wire/validation.py,
    so a new version of the library changes one module of ours."""
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "ocpp.messages" in _imports_of(path)
    )
    assert users == ["wire/validation.py"]
