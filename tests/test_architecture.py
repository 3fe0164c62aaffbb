"""The shape of the code (docs/architecture.md): no import circle inside knowledge/, feature
services built with the Library and never importing the facade, no Discord in knowledge/, and
the bot's core modules not reaching into a cog's private module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURE_MODULES = ("knowledge.people", "knowledge.meetings", "knowledge.sources",
                   "knowledge.digests", "knowledge.retrieval", "knowledge.ingest",
                   "knowledge.library", "knowledge.enrich", "knowledge.corpus")


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> modules of the same package it imports: every import statement counts, at
    module level, inside functions and under TYPE_CHECKING (a design dependency is one)."""
    mods = _modules(package)

    def resolve(name: str) -> str | None:
        while name:
            if name in mods:
                return name
            name = name.rpartition(".")[0]
        return None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
            for target in targets:
                found = resolve(target)
                # A package re-exporting its own modules is not a dependency of them on it.
                if found and found != module and not module.startswith(found + ".") \
                        and found != package:
                    graph[module].add(found)
                    break
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_circle() -> None:
    """The circle finder reports a two-module circle and ignores a chain."""
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_inside_knowledge() -> None:
    """knowledge/ imports in one direction only (TYPE_CHECKING imports included)."""
    assert circles(import_graph("knowledge")) == []


def test_feature_modules_never_import_the_facade() -> None:
    """Features are built with the Library; only the CLI, the scheduler and bot/ open
    KnowledgeService."""
    graph = import_graph("knowledge")
    offenders = sorted(m for m, deps in graph.items() if "knowledge.service" in deps
                       and m.startswith(FEATURE_MODULES))
    assert offenders == []


def test_bot_core_does_not_import_private_cog_modules() -> None:
    """bot/*.py (client, posting, respond, ...) use bot/replies.py, never bot/exts/_*."""
    graph = import_graph("bot")
    offenders = sorted((m, d) for m, deps in graph.items() if m.count(".") == 1
                       for d in deps if d.startswith("bot.exts._"))
    assert offenders == []
