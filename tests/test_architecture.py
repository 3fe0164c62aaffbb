"""The shape of the code (docs/architecture.md): no import circle inside knowledge/, its
imports pointing down the layers of the architecture's table, feature services built with the
Library and never importing the facade, no Discord or bot in knowledge/, and the bot's core
modules not reaching into a cog's module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURE_MODULES = ("knowledge.people", "knowledge.meetings", "knowledge.sources",
                   "knowledge.digests", "knowledge.retrieval", "knowledge.ingest",
                   "knowledge.library", "knowledge.enrich", "knowledge.corpus")


# docs/architecture.md's table, top to bottom: a module imports from its own layer or below.
# Every module not named here is a building block, the bottom layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("adapters", ("knowledge.cli", "knowledge.__main__", "knowledge.scheduler")),
    ("facade", ("knowledge.service",)),
    ("features", ("knowledge.people.service", "knowledge.meetings.service",
                  "knowledge.sources.service", "knowledge.sources.entries",
                  "knowledge.sources.records", "knowledge.sources.polling",
                  "knowledge.sources.documents", "knowledge.digests.service",
                  "knowledge.digests.compose", "knowledge.guilds", "knowledge.corpus")),
    ("question and article paths", ("knowledge.retrieval", "knowledge.understand",
                                    "knowledge.ingest", "knowledge.enrich")),
    ("the shared object", ("knowledge.library",)),
)

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
                # Each name (`from knowledge import corpus, visibility` is two modules), and
                # the module or package it is taken from.
                targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
            for target in targets:
                found = resolve(target)
                # A package re-exporting its own modules is not a dependency of them on it.
                if found and found != module and not module.startswith(found + ".") \
                        and found != package:
                    graph[module].add(found)
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


def test_bot_core_imports_no_cog_module() -> None:
    """bot/*.py (client, posting, respond, ...) never import bot/exts/*, public cog modules
    included: a cog is loaded by name and may be unloaded; what core code needs lives in core."""
    graph = import_graph("bot")
    offenders = sorted((m, d) for m, deps in graph.items() if m.count(".") == 1
                       for d in deps if d == "bot.exts" or d.startswith("bot.exts."))
    assert offenders == []


def layer_of(module: str) -> int:
    """A knowledge module's layer: 0 for the building blocks, higher up the table."""
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return len(LAYERS) - rank
    return 0


def test_the_layers_name_existing_modules() -> None:
    """Every module or package the layer table names exists (a rename cannot empty a layer)."""
    mods = _modules("knowledge")
    named = [p for _, prefixes in LAYERS for p in prefixes]
    assert [p for p in named if not any(m == p or m.startswith(p + ".") for m in mods)] == []


def test_knowledge_imports_point_down_the_layers() -> None:
    """No module imports one from a higher layer of docs/architecture.md's table (every import
    counts, TYPE_CHECKING ones included)."""
    graph = import_graph("knowledge")
    upward = sorted((m, d) for m, deps in graph.items() for d in deps
                    if layer_of(d) > layer_of(m))
    assert upward == []


def test_knowledge_never_imports_the_bot() -> None:
    """knowledge/ knows nothing of the bot (ruff bans only `discord` there)."""
    offenders = []
    for module, path in _modules("knowledge").items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [(module, n) for n in names if n == "bot" or n.startswith("bot.")]
    assert offenders == []


# What bot/ may import from knowledge/: the library's public face. Anything else (the store,
# the index, the corpus, text helpers, the retriever) is reached through KnowledgeService.
BOT_MAY_IMPORT = {
    "knowledge.service",  # the facade: KnowledgeService, the one object the bot calls
    "knowledge.models",  # plain data that crosses the door (Hit, Article, Digest, ...)
    "knowledge.errors",  # domain errors, whose messages users may see
    "knowledge.settings",  # Settings, which BotSettings extends
    "knowledge.visibility",  # the viewer every call names (viewer(), EVERYTHING)
    "knowledge.digests.types",  # the digest feature's plain data (Subscription, RunOutcome)
    "knowledge.sources.outcomes",  # the source feature's plain data (PollOutcome)
    # The facade's feature services (service.experts, .meetings, .sources, .digests): the cogs
    # name their types; every call still goes through the one KnowledgeService.
    "knowledge.people.service", "knowledge.meetings.service",
    "knowledge.sources.service", "knowledge.digests.service",
    "knowledge.scheduler",  # JobScheduler: the bot starts the library's jobs (bot/client.py)
    "knowledge.logs",  # setup_logging and the Redactor: one logging set-up for every process
    # The per-DATA_DIR process lock the bot takes; the library's transfer and `check` read it.
    "knowledge.process_lock",
}
# `python -m bot check` (bot/__main__.py) redoes the library's opening outside
# KnowledgeService.open (reviewer finding 9 proposes a service.check()); known, may only shrink.
BOT_CHECK_ALSO_IMPORTS = {"knowledge.corpus.seed", "knowledge.embedding", "knowledge.store.db",
                          "knowledge.store.left_behind", "knowledge.topic_check"}


def knowledge_imports_of_bot() -> dict[str, set[str]]:
    """bot module -> the knowledge modules it imports (every import statement counts)."""
    mods = _modules("knowledge")

    def resolve(name: str) -> str:
        while name not in mods and "." in name:
            name = name.rpartition(".")[0]
        return name

    found: dict[str, set[str]] = {}
    for module, path in _modules("bot").items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            found.setdefault(module, set()).update(
                resolve(n) for n in names if n.split(".")[0] == "knowledge")
    return found


def test_the_bot_imports_only_the_librarys_public_modules() -> None:
    """bot/ imports from knowledge/ only the facade, its plain data, errors, settings, the
    viewer, the feature services' types, the scheduler and logging (BOT_MAY_IMPORT says why
    each); `python -m bot check` also the opening steps it repeats (BOT_CHECK_ALSO_IMPORTS)."""
    imports = knowledge_imports_of_bot()
    assert set(_modules("knowledge")) >= BOT_MAY_IMPORT  # a rename cannot empty the rule
    assert imports["bot.__main__"] >= BOT_CHECK_ALSO_IMPORTS  # one gone: shrink the list
    offenders = sorted(
        (module, imported) for module, names in imports.items() for imported in names
        if imported not in BOT_MAY_IMPORT
        and not (module == "bot.__main__" and imported in BOT_CHECK_ALSO_IMPORTS))
    assert offenders == []
