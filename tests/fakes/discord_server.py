"""A faithful fake Discord (REST v10 + JSON gateway) on 127.0.0.1 for end-to-end bot tests.

Run the real, unmodified bot against it over real sockets (tests/fakes/sample_bot.py and
test_discord_server.py show a complete example)::

    async with FakeDiscord(World.default(), heartbeat_interval=0.5) as fake:
        env = {...: fake.token, ...: fake.api_base, ...: fake.gateway_url}   # the bot's settings
        async with BotProcess([sys.executable, "-m", "bot"], env=env) as bot:
            await fake.wait_for_commands()              # the bot synced its tree (global)
            reply = await fake.slash("ask", {"question": "When is the next summit?"})
            await reply.wait_done()                     # type 4, or type 5 + followup/edit
            assert "summit" in reply.text and not reply.ephemeral
            click = await (await fake.component("more:1", message=reply)).wait_done()
            bot.assert_no_errors()                      # nothing logged at ERROR, no traceback
        fake.assert_no_errors()                         # unknown routes, invalid bodies, late acks

Inside the bot process, two settings point discord.py here (the bot should expose them as
config, empty meaning Discord's own)::

    discord.http.Route.BASE = fake.api_base   # REST, interaction callbacks and followups
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

pytest: `pytest_plugins = ["tests.fakes.plugin"]` gives the `fake_discord` fixture (override
`fake_world` / `fake_discord_options` to change it). Modules: world.py (users, guilds, roles,
channels), gateway.py, rest.py, messaging.py (message store, interaction callbacks/webhooks),
driving.py (slash/autocomplete/message_command/component/modal/user_message),
interactions.py (the handle), records.py (what gets recorded), validation.py (Discord's limits),
process.py (BotProcess), state.py (the state every part shares).

What it checks like Discord does: the bot token (REST 401, gateway close 4004), IDENTIFY shard,
guilds per shard and privileged intents (4010/4011/4014), the 3 s interaction acknowledgement deadline, double acks
(40060), the 15-minute interaction token (`expire_token`: followups and @original edits then
fail with 10015), channel permission overwrites (`world.deny/allow`, `channel_updated`: posting
needs View Channel and Send Messages there, history needs Read Message History), closed DMs
(50007), callback types per interaction type, message/embed/component/autocomplete limits and
command-sync schemas (400 Invalid Form Body, 50035), unknown channels/messages/webhooks, and
unknown routes. Every such rejection is appended to `fake.errors`.

Faithful quirks worth knowing: after a type 5 deferral, the first followup *edits the original*
(keeping the deferral's ephemeral flag) instead of creating a message; the GUILD_CREATE member
list holds only the bot (members come from op 8 chunking or REST) unless
`guild_create_members=True`; MESSAGE_CREATE content is blank without the MESSAGE_CONTENT intent
unless the bot is mentioned; slash() refuses commands the bot never synced and users lacking a
command's default_member_permissions (pass `strict=False` to bypass), as the Discord client would.
"""

# The waiting API deliberately takes timeout= arguments (asked for by the test writers).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .driving import DrivingMixin
from .gateway import GatewayConnection, GatewayMixin, GatewaySession
from .interactions import CommandNotAvailable, FakeFile, InteractionHandle
from .messaging import MessagingMixin
from .process import BotProcess
from .records import FakeError, Heartbeat, RecordedFile, RecordedRequest, StoredMessage
from .rest import FakeDiscordError, Fault, RestMixin
from .state import API_PREFIX, FakeState
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, World

__all__ = [
    "API_PREFIX",
    "BotProcess",
    "CommandNotAvailable",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeError",
    "FakeFile",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeState",
    "FakeUser",
    "GatewayConnection",
    "GatewaySession",
    "Heartbeat",
    "InteractionHandle",
    "RecordedFile",
    "RecordedRequest",
    "StoredMessage",
    "World",
]

class FakeDiscord(GatewayMixin, RestMixin, MessagingMixin, DrivingMixin):
    """The fake Discord server: start(), point the bot at api_base/gateway_url, drive it.

    Keyword arguments (see FakeState): heartbeat_interval, shard_count, ack_deadline,
    token_lifetime, strict_commands, privileged_intents, guild_create_members,
    attachment_size_limit, rate_limit, max_guilds_per_shard (Discord's 2,500: an IDENTIFY whose
    shard would hold more guilds is closed with 4011, sharding required).
    """

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        """Bind 127.0.0.1 on a free port and serve."""
        app = web.Application(middlewares=[self._middleware], client_max_size=100 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, shutdown_timeout=0.5).start()
        return self

    async def stop(self) -> None:
        """Close every gateway connection and stop serving."""
        for conn in self.connections:
            if conn.open:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- waiting ------------------------------------------------------------------------

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0,
        describe: Callable[[], str] | None = None,
    ) -> Any:
        """Wait until predicate() is truthy (re-checked on every request/gateway event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                detail = describe() if describe else f"requests so far: {self.requests!r}"
                raise TimeoutError(f"condition not met within {timeout}s\n{detail}")
            event = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest:
        """The first recorded request (past or future) matching predicate."""

        def find() -> RecordedRequest | None:
            return next((r for r in self.requests if r.status and predicate(r)), None)

        return await self.wait_until(find, timeout)

    async def wait_for_commands(
        self, guild: int | str | FakeGuild | None = None, *, global_: bool | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Wait for a command sync: global (default), or for the given guild."""
        if guild is not None and not global_:
            guild_id = self.world.guild(guild).id
            await self.wait_until(lambda: any(g == guild_id for g, _ in self.command_syncs), timeout)
            return self.guild_commands[guild_id]
        await self.wait_until(lambda: any(g is None for g, _ in self.command_syncs), timeout)
        return self.global_commands

    async def wait_identified(self, count: int = 1, timeout: float = 10.0) -> list[GatewaySession]:
        """Wait until `count` sessions have IDENTIFYed (READY and GUILD_CREATEs sent)."""
        await self.wait_until(lambda: len(self.sessions) >= count, timeout)
        return list(self.sessions.values())

    async def wait_resumed(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` RESUMEs in total have succeeded."""
        await self.wait_until(lambda: len(self.resumes) >= count, timeout)

    def assert_no_errors(self) -> None:
        """Fail if the bot hit unknown routes or sent anything Discord would reject."""
        if self.errors:
            lines = "\n".join(f"  {e}" for e in self.errors)
            raise AssertionError(f"fake Discord rejected {len(self.errors)} request(s):\n{lines}")

    # -- fault injection ----------------------------------------------------------------

    def inject_429(
        self, route: str, times: int = 1, retry_after: float = 0.2, *, global_: bool = False
    ) -> None:
        """Answer the next `times` requests whose "METHOD /path" contains route with a 429."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after,
                "global": global_, "code": 0}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": "global" if global_ else "user",
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        self.faults.append(Fault(route, 429, times, body, headers))

    def inject_500(self, route: str, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` matching requests with a 5xx (discord.py retries after 1 s, 3 s...)."""
        self.faults.append(Fault(route, status, times, {"message": f"{status}: Server Error", "code": 0}))

    def inject_error(
        self, route: str, status: int, code: int, message: str, times: int = 1
    ) -> None:
        """Answer matching requests with any Discord error, e.g. 403 / 50013 Missing Permissions."""
        self.faults.append(Fault(route, status, times, {"message": message, "code": code}))
