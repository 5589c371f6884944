"""The shape of the code: arrows point down only, and handlers stay thin glue."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_CALLBACK_LINES = 40


def _imports(path: Path) -> set[str]:
    """Return the top-level package of every module a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    """Return every Python file of a package."""
    return sorted((ROOT / package).rglob("*.py"))


def test_nothing_under_bot_or_storage_imports_handlers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("bot", "storage")
        for path in _modules(package)
        if "handlers" in _imports(path)
    ]
    assert offenders == []


def test_the_domain_imports_neither_telegram_nor_sqlalchemy() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules("bot/coaching")
        if _imports(path) & {"telegram", "sqlalchemy", "storage", "handlers"}
    ]
    assert offenders == []


def test_only_delivery_and_the_fakes_call_the_bot_api() -> None:
    sending = ("send_message", "edit_message_text", "edit_message_reply_markup", "reply_text")
    allowed = ("bot/delivery/", "bot/fake_telegram/", "bot/console/")
    offenders = []
    for package in ("bot", "handlers", "storage"):
        for path in _modules(package):
            rel = str(path.relative_to(ROOT))
            if rel.startswith(allowed):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in sending:
                    offenders.append(f"{rel}:{node.lineno} {node.attr}")
    assert offenders == []


def _callback_length(tree: ast.Module, func: ast.AsyncFunctionDef | ast.FunctionDef) -> int:
    """Return a function's lines plus those of the same-module helpers it calls."""
    local = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    seen: set[str] = set()
    todo = [func.name]
    while todo:
        name = todo.pop()
        if name in seen or name not in local:
            continue
        seen.add(name)
        for node in ast.walk(local[name]):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                todo.append(node.func.id)
    return sum(
        (local[name].end_lineno or local[name].lineno) - local[name].lineno + 1 for name in seen
    )


def test_every_handler_callback_is_thin_glue() -> None:
    too_long = []
    for path in _modules("handlers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_"):
                length = _callback_length(tree, node)
                if length > MAX_CALLBACK_LINES:
                    too_long.append(f"{path.name}:{node.name} ({length} lines)")
    assert too_long == []
