"""`python -m bot` runs the bot; `python -m bot check` validates the set-up without connecting;
`python -m bot health` reports whether the running bot is connected (from its heartbeat file)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from knowledge.errors import ConfigurationError, KnowledgeError
from knowledge.logs import JsonFormatter, redact, setup_logging
from knowledge.settings import (
    Settings,
    database_failure,
    display_database_url,
    load_settings,
    settings_problems,
)
from knowledge.settings import unknown_keys_line as settings_unknown_keys_line
from knowledge.store.left_behind import sqlite_library_left_behind
from knowledge.visibility import EVERYTHING

if TYPE_CHECKING:
    from bot.client import SummitDesk
    from bot.settings import BotSettings

log = logging.getLogger("bot")

# The running bot rewrites its heartbeat file this often; `health` calls it stuck when the
# file is older than STALE_BEATS of them.
HEARTBEAT_SECONDS = 15.0
STALE_BEATS = 4


def fail(message: str) -> int:
    """Write one line to stderr and return the exit status for a start-up failure: with
    LOG_FORMAT=json a log record like every other line (a collector parses each line),
    otherwise `summit-desk: <message>`."""
    if any(isinstance(handler.formatter, JsonFormatter)
           for handler in logging.getLogger().handlers):
        log.error("%s", message, extra={"event": "start_failed"})
    else:
        print(redact(f"summit-desk: {message}"), file=sys.stderr)
    return 1


def requested_log_format() -> str:
    """LOG_FORMAT from the environment or `.env` when the settings as a whole did not load
    (a failure must still come in the format the collector expects); "text" unless "json"."""
    from dotenv import dotenv_values

    values = {key.upper(): value for key, value in dotenv_values(".env").items()}
    values.update({key.upper(): value for key, value in os.environ.items()})
    return "json" if (values.get("LOG_FORMAT") or "").strip().lower() == "json" else "text"


def unknown_keys_line() -> str | None:
    """Keys of `.env` that look like settings but are none (a misspelt DATABASE_URL would
    otherwise silently mean SQLite), or None."""
    from bot.settings import BotSettings

    return settings_unknown_keys_line(BotSettings.model_fields)


# ----- python -m bot check -----------------------------------------------------------------------
class Checklist:
    """Runs named checks, printing one line each; remembers whether any failed."""

    def __init__(self) -> None:
        self.failed = False
        self.database_url = ""  # for a database failure's line, once settings are read

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; print `name: ok (detail)` or `name: FAILED: reason`."""
        try:
            detail = check()
        except DBAPIError as exc:  # the driver's words in one line, without the password
            self.fail(name, database_failure(exc, self.database_url))
            return False
        except (KnowledgeError, ValueError, OSError, ImportError, RuntimeError) as exc:
            self.fail(name, str(exc))
            return False
        except Exception as exc:  # any other failure is still a failed check, not a crash
            self.fail(name, f"{type(exc).__name__}: {exc}")
            return False
        print(redact(f"{name}: ok ({detail})" if detail else f"{name}: ok"))
        return True

    def fail(self, name: str, reason: str) -> None:
        """Record a failure found outside `run`."""
        print(redact(f"{name}: FAILED: {reason}"))
        self.failed = True


def run_check() -> int:
    """Validate settings, topic, the process lock, database, model and index; print what is
    wrong; never connect."""
    from bot.client import DEFAULT_API_BASE
    from bot.settings import load_bot_settings
    from knowledge.corpus.seed import restore_seed
    from knowledge.embedding import Embedder, SentenceTransformerEmbedder, embedder_from_settings
    from knowledge.process_lock import running_here, unopenable_lock_files
    from knowledge.service import KnowledgeService
    from knowledge.store.db import make_engine, migrate
    from knowledge.topic_check import check_topic, use_topic

    checks = Checklist()
    settings: Settings
    try:
        bot_settings = load_bot_settings()
    except ValidationError as exc:
        for line in settings_problems(exc):
            checks.fail("settings", line)
        try:
            settings = load_settings()
        except ValidationError:
            return 1
    else:
        settings = bot_settings
        guild = bot_settings.discord_dev_guild_id
        print(redact(f"settings: ok (token set, commands sync to "
                     f"{f'guild {guild}' if guild else 'all guilds (global)'}; REST "
                     f"{bot_settings.discord_api_base_url or DEFAULT_API_BASE}; gateway "
                     f"{bot_settings.discord_gateway_url or 'Discord default'}; "
                     f"{bot_settings.describe_sharding()}; not contacted)"))
    setup_logging("WARNING", settings.log_format, secrets=settings.secret_values())
    checks.database_url = settings.resolved_database_url
    unknown = unknown_keys_line()
    if unknown:
        print(f"settings: WARNING: {unknown}")
    def topic() -> str:
        founding = "on" if settings.loads_founding_corpus else "off"
        return (f"{check_topic(use_topic(settings.topic_dir))}; founding corpus {founding} "
                f"(FOUNDING_CORPUS)")

    def database() -> str:
        settings.ensure_data_dir()
        seeded = restore_seed(settings)  # a new embedded library starts as the bot's would
        engine = make_engine(settings.resolved_database_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        url = display_database_url(settings.resolved_database_url)
        return f"{url}, schema migrated" + (", new library from the seed database" if seeded
                                            else "")

    embedders: list[Embedder] = []

    def model() -> str:
        started = time.perf_counter()
        embedder = embedder_from_settings(settings)
        fallback = embedder.fallback_reason \
            if isinstance(embedder, SentenceTransformerEmbedder) else None
        if fallback and settings.embedding_onnx_file is not None:
            # The running bot falls back (issue 11: it starts whatever happens), but a file the
            # operator named that cannot be used is a mistake to fix before the library is
            # re-embedded with torch: the index check that would do it is not run.
            raise ConfigurationError(
                f"EMBEDDING_ONNX_FILE: {fallback}; the bot would fall back to "
                "sentence-transformers (torch) and re-embed the whole library: fix the file "
                "or empty the setting")
        embedders.append(embedder)
        vectors = embedder.embed(["The two leaders held a summit."])
        if vectors.shape != (1, embedder.dim):
            raise RuntimeError(f"the model returned shape {vectors.shape}")
        note = f"; fell back to sentence-transformers (torch): {fallback}" if fallback else ""
        return (f"{settings.embedding_model}, {embedder.fingerprint}, dim {embedder.dim}, "
                f"{time.perf_counter() - started:.1f} s{note}")

    def index() -> str:
        service = KnowledgeService.open(settings, embedder=embedders[0])
        try:
            stats = service.stats(guild_id=EVERYTHING)
            if stats.passages == 0 and settings.loads_founding_corpus:
                raise RuntimeError("the library has no passages")
            if stats.passages == 0:
                return ("no articles yet (FOUNDING_CORPUS is off): add the topic's with "
                        "python -m knowledge add")
            hits = service.search("summit", top=1, guild_id=EVERYTHING)
        finally:
            service.close()
        return (f"{stats.articles} article{'s' * (stats.articles != 1)}, {stats.passages} "
                f"passage{'s' * (stats.passages != 1)}, "
                f"probe search {'answered' if hits else 'found nothing'}")

    def process() -> str:
        unopenable = unopenable_lock_files(settings.data_dir)
        if unopenable:  # the bot's start would stop at it (a root start left it behind)
            raise RuntimeError(unopenable[0])
        running = running_here(settings.data_dir)
        return f"a bot runs on this DATA_DIR: {running}" if running else \
            "no bot runs on this DATA_DIR"

    topic_ok = checks.run("topic", topic)
    checks.run("process", process)
    database_ok = checks.run("database", database)
    left_behind = sqlite_library_left_behind(settings)
    if left_behind:  # after the database's own line, as settings' warnings follow theirs
        print(redact(f"database: WARNING: {left_behind}"))
    if database_ok and topic_ok:
        checks.run("model", model) and checks.run("index", index)
    return 1 if checks.failed else 0


# ----- heartbeat and python -m bot health --------------------------------------------------------
def health_file(settings: BotSettings) -> Path:
    """The heartbeat file of the process running these settings' shards (processes sharing
    DATA_DIR with other shards keep one each)."""
    ids = settings.discord_shard_ids
    name = f"bot-health-shards-{'-'.join(map(str, ids))}.json" if ids else "bot-health.json"
    return settings.data_dir / name


def gateway_state(bot: SummitDesk) -> tuple[str, list[int]]:
    """(phase, shard ids not connected): starting (opening the library, syncing), connecting
    (first connection), ready (every shard connected), disconnected (a shard is reconnecting),
    stopping."""
    if bot.is_closed():
        return "stopping", []
    if not bot.is_ready():  # set at the first READY, kept through reconnections
        return ("starting" if bot.scheduler is None else "connecting"), []
    closed = sorted(shard_id for shard_id, shard in bot.shards.items() if shard.is_closed())
    return ("disconnected" if closed else "ready"), closed


async def keep_heartbeat(bot: SummitDesk, path: Path) -> None:
    """Keep the heartbeat file current for `python -m bot health`: rewritten every
    HEARTBEAT_SECONDS, and within a second of a change of the gateway state. A stuck event loop
    stops it, which is what `health` looks for."""
    phase, since, written, warned = "", time.time(), 0.0, False
    while True:
        now = time.time()
        current, closed = gateway_state(bot)
        if current != phase:
            phase, since, written = current, now, 0.0
        if now - written >= HEARTBEAT_SECONDS:
            latency = bot.latency
            record: dict[str, Any] = {
                "pid": os.getpid(), "time": now, "every": HEARTBEAT_SECONDS, "phase": phase,
                "since": since, "shards": sorted(bot.shards), "closed_shards": closed,
                "latency_ms": round(latency * 1000) if math.isfinite(latency) else None,
            }
            try:
                # On the loop, not a thread: a few hundred bytes, and the clean stop's removal
                # can then never race a write still in flight.
                write_heartbeat(path, record)
                written = now
            except OSError as exc:
                if not warned:
                    log.warning("cannot write the heartbeat file %s (python -m bot health "
                                "will report the bot down): %s", path, exc)
                    warned = True
        await asyncio.sleep(1.0)


def write_heartbeat(path: Path, record: dict[str, Any] | None) -> None:
    """Replace the heartbeat file with `record` (renamed into place, so `health` never reads
    half of one); None removes it (a clean stop)."""
    if record is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, path)


def judge_heartbeat(record: dict[str, Any], now: float) -> tuple[bool, str]:
    """(healthy, one line) for a heartbeat file's content."""
    age = now - float(record["time"])
    every = float(record.get("every", HEARTBEAT_SECONDS))
    if age > STALE_BEATS * every:
        return False, (f"last heartbeat {age:.0f} s ago: the bot stopped or its event loop "
                       "is stuck")
    phase, lasted = record["phase"], now - float(record["since"])
    shards = ", ".join(map(str, record.get("shards") or [])) or "none yet"
    if phase == "ready":
        latency = record.get("latency_ms")
        return True, (f"connected to Discord (shards {shards}"
                      f"{f', latency {latency} ms' if latency is not None else ''})")
    if phase == "starting":  # opening (maybe re-embedding) the library: progress, not trouble
        return True, f"starting for {lasted:.0f} s (opening the library, syncing commands)"
    if phase == "disconnected":
        closed = ", ".join(map(str, record.get("closed_shards") or []))
        return False, f"shard {closed} disconnected from Discord for {lasted:.0f} s"
    return False, f"{phase} for {lasted:.0f} s, not connected to Discord"


def run_health() -> int:
    """Exit 0 when the running bot's heartbeat is fresh and it is connected (or starting),
    1 otherwise; one line either way (Docker's HEALTHCHECK)."""
    from bot.settings import load_bot_settings

    try:
        settings = load_bot_settings()
    except ValidationError as exc:
        print(f"unhealthy: {'; '.join(settings_problems(exc))}")
        return 1
    path = health_file(settings)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        healthy, line = judge_heartbeat(record, time.time())
    except FileNotFoundError:
        healthy, line = False, f"no heartbeat file {path}: the bot is not running"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        healthy, line = False, f"heartbeat file {path} unreadable: {exc}"
    print(f"{'healthy' if healthy else 'unhealthy'}: {line}")
    return 0 if healthy else 1


# ----- python -m bot -----------------------------------------------------------------------------
async def serve(bot: SummitDesk, token: str, heartbeat: Path | None = None) -> None:
    """Run until the connection ends or SIGINT/SIGTERM asks for a clean shutdown, keeping the
    heartbeat file (if given) current meanwhile."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None

    def stop() -> None:
        log.info("shutting down")
        # Cancelling (rather than calling close()) also stops a start-up still in progress;
        # leaving `async with bot` then closes the bot, its jobs and the database.
        main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        async with bot:
            beat = asyncio.create_task(keep_heartbeat(bot, heartbeat), name="heartbeat") \
                if heartbeat is not None else None
            try:
                await bot.start(token)
            finally:
                if beat is not None and heartbeat is not None:
                    beat.cancel()
                    write_heartbeat(heartbeat, None)
    except asyncio.CancelledError:
        log.info("stopped")


def run_bot() -> int:
    """Start the bot from settings; start-up problems end as one line and a non-zero status."""
    from bot.settings import load_bot_settings
    from knowledge.process_lock import ProcessLock

    try:
        settings = load_bot_settings()
    except ValidationError as exc:
        if requested_log_format() == "json":
            setup_logging("INFO", "json")
        return fail("; ".join(settings_problems(exc)))
    setup_logging(settings.log_level, settings.log_format, secrets=settings.secret_values())
    try:
        settings.ensure_data_dir()
        # One process per DATA_DIR and shard: a second one would run the same shards, jobs
        # and heartbeat file (knowledge/process_lock.py).
        lock = ProcessLock.take(settings.data_dir, settings.discord_shard_ids)
    except ConfigurationError as exc:
        return fail(str(exc))
    try:
        return run_locked(settings)
    finally:
        lock.release()


def run_locked(settings: BotSettings) -> int:
    """Connect and serve until stopped, holding DATA_DIR's lock for these shards; each known
    failure ends as one line."""
    from bot.client import SummitDesk, configure_endpoints, gateway_refusal

    unknown = unknown_keys_line()
    if unknown:
        log.warning("%s", unknown)
    left_behind = sqlite_library_left_behind(settings)
    if left_behind:  # DATABASE_URL moved to PostgreSQL: the old library is not in the new one
        log.warning("%s", left_behind)
    configure_endpoints(settings)
    guild = settings.discord_dev_guild_id
    log.info("starting: commands sync to %s; REST %s; gateway %s; %s",
             f"guild {guild}" if guild else "all guilds", discord.http.Route.BASE,
             settings.discord_gateway_url or "from Discord", settings.describe_sharding())
    bot = SummitDesk(settings)
    try:
        asyncio.run(serve(bot, settings.discord_token.get_secret_value(),
                          health_file(settings)))
    except discord.LoginFailure:
        return fail("Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token "
                    "again from the Developer Portal (Bot > Reset Token)")
    except discord.PrivilegedIntentsRequired:
        return fail(gateway_refusal(4014, settings))
    except discord.ConnectionClosed as exc:  # a wrong shard set-up (4010, 4011), the token...
        return fail(gateway_refusal(exc.code, settings))
    except KnowledgeError as exc:
        return fail(str(exc))
    except DBAPIError as exc:  # the library could not open its database
        return fail(database_failure(exc, settings.resolved_database_url))
    except OSError as exc:
        if exc.filename is not None and not isinstance(exc, aiohttp.ClientError):
            # A file of the library (DATA_DIR is checked at start, but a disk can fill up or a
            # file inside be another user's), not the network.
            return fail(f"cannot use {exc.filename}: {exc.strerror or exc}")
        return fail(f"cannot reach Discord ({discord.http.Route.BASE}): {exc}")
    except discord.GatewayNotFound:
        return fail("the Discord gateway could not be found")
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (also `summit-bot`)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("run", "check", "health"), default="run",
                        help="run the bot (default), check the set-up without connecting, or "
                             "report whether the running bot is connected")
    args = parser.parse_args(argv)
    commands = {"check": run_check, "health": run_health, "run": run_bot}
    try:
        status = commands[args.command]()
        sys.stdout.flush()  # a closed pipe fails here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        # The reader went away (`check | head -1`): stop quietly. Python's final flush of
        # stdout would raise again, so stdout is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
