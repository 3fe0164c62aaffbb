"""`python -m bot` runs the bot; `python -m bot check` validates the set-up without connecting."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable

import aiohttp
import discord
from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.logs import setup_logging
from knowledge.settings import Settings, load_settings, settings_problems

log = logging.getLogger("bot")


def fail(message: str) -> int:
    """Print one line to stderr and return the exit status for a start-up failure."""
    print(f"summit-desk: {message}", file=sys.stderr)
    return 1


# ----- python -m bot check -----------------------------------------------------------------------
class Checklist:
    """Runs named checks, printing one line each; remembers whether any failed."""

    def __init__(self) -> None:
        self.failed = False

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; print `name: ok (detail)` or `name: FAILED: reason`."""
        try:
            detail = check()
        except (KnowledgeError, ValueError, OSError, ImportError, RuntimeError) as exc:
            print(f"{name}: FAILED: {exc}")
            self.failed = True
            return False
        except Exception as exc:  # any other failure is still a failed check, not a crash
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}")
            self.failed = True
            return False
        print(f"{name}: ok ({detail})" if detail else f"{name}: ok")
        return True

    def fail(self, name: str, reason: str) -> None:
        """Record a failure found outside `run`."""
        print(f"{name}: FAILED: {reason}")
        self.failed = True


def run_check() -> int:
    """Validate settings, database, model and index; print what is wrong; never connect."""
    from sqlalchemy.engine import make_url

    from bot.client import DEFAULT_API_BASE
    from bot.settings import load_bot_settings
    from knowledge.corpus.seed import restore_seed
    from knowledge.embedding import Embedder, embedder_from_settings
    from knowledge.service import KnowledgeService
    from knowledge.store.db import make_engine, migrate

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
        print(f"settings: ok (token set, commands sync to "
              f"{f'guild {guild}' if guild else 'all guilds (global)'}; REST "
              f"{bot_settings.discord_api_base_url or DEFAULT_API_BASE}; gateway "
              f"{bot_settings.discord_gateway_url or 'Discord default'}; not contacted)")
    setup_logging("WARNING", settings.log_format)

    def database() -> str:
        settings.ensure_data_dir()
        seeded = restore_seed(settings)  # a new embedded library starts as the bot's would
        engine = make_engine(settings.resolved_database_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        return f"{url}, schema migrated" + (", new library from the seed database" if seeded
                                            else "")

    embedders: list[Embedder] = []

    def model() -> str:
        started = time.perf_counter()
        embedder = embedder_from_settings(settings)
        embedders.append(embedder)
        vectors = embedder.embed(["The two leaders held a summit."])
        if vectors.shape != (1, embedder.dim):
            raise RuntimeError(f"the model returned shape {vectors.shape}")
        return (f"{settings.embedding_model}, {embedder.fingerprint}, dim {embedder.dim}, "
                f"{time.perf_counter() - started:.1f} s")

    def index() -> str:
        service = KnowledgeService.open(settings, embedder=embedders[0])
        try:
            stats = service.stats()
            if stats.passages == 0:
                raise RuntimeError("the library has no passages")
            hits = service.search("summit", top=1)
        finally:
            service.close()
        return (f"{stats.articles} articles, {stats.passages} passages, "
                f"probe search {'answered' if hits else 'found nothing'}")

    if checks.run("database", database):
        checks.run("model", model) and checks.run("index", index)
    return 1 if checks.failed else 0


# ----- python -m bot -----------------------------------------------------------------------------
async def serve(bot: discord.Client, token: str) -> None:
    """Run until the connection ends or SIGINT/SIGTERM asks for a clean shutdown."""
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
            await bot.start(token)
    except asyncio.CancelledError:
        log.info("stopped")


def run_bot() -> int:
    """Start the bot from settings; start-up problems end as one line and a non-zero status."""
    from bot.client import SummitDesk, configure_endpoints
    from bot.settings import load_bot_settings

    try:
        settings = load_bot_settings()
    except ValidationError as exc:
        return fail("; ".join(settings_problems(exc)))
    setup_logging(settings.log_level, settings.log_format)
    configure_endpoints(settings)
    guild = settings.discord_dev_guild_id
    log.info("starting: commands sync to %s; REST %s; gateway %s",
             f"guild {guild}" if guild else "all guilds", discord.http.Route.BASE,
             settings.discord_gateway_url or "from Discord")
    bot = SummitDesk(settings)
    try:
        asyncio.run(serve(bot, settings.discord_token.get_secret_value()))
    except discord.LoginFailure:
        return fail("Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token "
                    "again from the Developer Portal (Bot > Reset Token)")
    except discord.PrivilegedIntentsRequired:
        return fail("Discord refused the requested gateway intents")
    except KnowledgeError as exc:
        return fail(str(exc))
    except (aiohttp.ClientConnectorError, OSError) as exc:
        return fail(f"cannot reach Discord ({discord.http.Route.BASE}): {exc}")
    except discord.GatewayNotFound:
        return fail("the Discord gateway could not be found")
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (also `summit-bot`)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("run", "check"), default="run",
                        help="run the bot (default) or check the set-up without connecting")
    args = parser.parse_args(argv)
    if args.command == "check":
        return run_check()
    return run_bot()


if __name__ == "__main__":
    sys.exit(main())
