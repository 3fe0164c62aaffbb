"""The fake Discord's state, declared once: what every part (gateway, REST, messaging, driving)
reads and writes, and the few helpers they all use."""

# The waiting API deliberately takes timeout= arguments (asked for by the test writers).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .interactions import InteractionHandle
from .records import FakeError, RecordedFile, RecordedRequest, StoredMessage
from .world import FakeChannel, FakeGuild, FakeUser, World

if TYPE_CHECKING:
    from .gateway import GatewayConnection, GatewaySession
    from .rest import Fault

API_PREFIX = "/api/v10"
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
# Discord: an interaction token (callbacks, followups, @original edits) lives 15 minutes.
INTERACTION_TOKEN_LIFETIME = 15 * 60.0


class FakeState:
    """Everything the fake Discord knows and records; the mixins add behaviour on top."""

    def __init__(
        self,
        world: World | None = None,
        *,
        heartbeat_interval: float = 41.25,
        shard_count: int = 1,
        ack_deadline: float = 3.0,
        token_lifetime: float = INTERACTION_TOKEN_LIFETIME,
        strict_commands: bool = True,
        privileged_intents: bool = True,
        guild_create_members: bool = False,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_LIMIT,
        rate_limit: int = 50,
        max_guilds_per_shard: int = 2500,
    ) -> None:
        self.world = world or World.default()
        self.heartbeat_interval = heartbeat_interval
        self.shard_count = shard_count
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.strict_commands = strict_commands
        self.privileged_intents = privileged_intents
        self.guild_create_members = guild_create_members
        self.attachment_size_limit = attachment_size_limit
        self.rate_limit = rate_limit
        # Discord closes an IDENTIFY whose session would hold more guilds with 4011.
        self.max_guilds_per_shard = max_guilds_per_shard

        self.requests: list[RecordedRequest] = []
        self.errors: list[FakeError] = []
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[tuple[str, tuple[int, int] | None]] = []
        self.member_requests: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[str, InteractionHandle] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.faults: list[Fault] = []
        self._blobs: dict[int, tuple[str, bytes, str | None]] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- addresses and identity ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for discord.http.Route.BASE."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for DiscordWebSocket.DEFAULT_GATEWAY (and READY's resume_gateway_url)."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        """The bot token the fake accepts."""
        return self.world.token

    @property
    def application_id(self) -> int:
        """The application id (same as the bot user id, as on Discord)."""
        return self.world.application_id

    # -- shared helpers -----------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everything waiting in wait_until (a request or gateway event arrived)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.world.guild(channel.guild_id) if channel.guild_id else None

    # Implemented by one part and used by another (the parts are combined in FakeDiscord).
    if TYPE_CHECKING:
        async def _gateway(self, request: web.Request) -> web.WebSocketResponse: ...
        def _session_for(self, guild: FakeGuild | None) -> GatewaySession: ...
        async def _dispatch(self, session: GatewaySession, event: str, data: Any) -> None: ...
        def find_command(
            self, name: str, guild: FakeGuild | None, kind: int = 1,
        ) -> tuple[dict[str, Any], int | None] | None: ...
        def channel_messages(self, channel: int | str | FakeChannel) -> list[StoredMessage]: ...
        def _create_message(
            self, channel: FakeChannel, body: dict[str, Any], files: list[RecordedFile], *,
            author: FakeUser, kind: int = 0, flags: int | None = None,
            interaction: InteractionHandle | None = None, validate: bool = True,
        ) -> StoredMessage: ...
        def _apply_edit(
            self, stored: StoredMessage, body: dict[str, Any], files: list[RecordedFile]
        ) -> None: ...
        async def _callback(self, request: web.Request) -> web.Response: ...
        async def _followup(self, request: web.Request) -> web.Response: ...
        async def _get_webhook_message(self, request: web.Request) -> web.Response: ...
        async def _edit_webhook_message(self, request: web.Request) -> web.Response: ...
        async def _delete_webhook_message(self, request: web.Request) -> web.Response: ...
        def host_attachment(
            self, file: Any, channel_id: int, *, ephemeral: bool = False,
            description: str | None = None,
        ) -> dict[str, Any]: ...
        async def wait_until(
            self, predicate: Any, timeout: float = 5.0, describe: Any = None,
        ) -> Any: ...
