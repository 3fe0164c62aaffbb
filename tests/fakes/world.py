"""The fake Discord's world: users, guilds, channels, roles, members and their wire payloads."""

from __future__ import annotations

import datetime
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
# 2024-01-01T00:00:00Z; ids are deterministic so test output is reproducible.
_BASE_MS = 1704067200000 - DISCORD_EPOCH_MS

# Permission bits, as in Discord's developer documentation ("Permissions" topic).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_MESSAGES
SUMMIT_ADMIN_PERMISSIONS = MANAGE_GUILD | MANAGE_MESSAGES | MANAGE_CHANNELS

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
GUILD_FORUM = 15


def now_iso() -> str:
    """Current UTC time in Discord's ISO-8601 format."""
    return datetime.datetime.now(datetime.UTC).isoformat()


class SnowflakeFactory:
    """Deterministic, strictly increasing snowflakes (one millisecond apart)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last_timed = 0

    def next(self) -> int:
        """Return a fresh snowflake."""
        return (_BASE_MS + next(self._counter)) << 22

    def timed(self) -> int:
        """A fresh snowflake carrying the current time, as Discord gives a new message (discord.py
        reads a message's `created_at` from its id); strictly increasing."""
        now = (time.time_ns() // 1_000_000 - DISCORD_EPOCH_MS) << 22
        self._last_timed = max(now, self._last_timed + 1)
        return self._last_timed

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """Return a fresh snowflake whose guild shard ((id >> 22) % count) is shard_id."""
        while True:
            value = self.next()
            if (value >> 22) % shard_count == shard_id:
                return value


def shard_for(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes a guild's events to."""
    return (guild_id >> 22) % shard_count


@dataclass
class FakeUser:
    """A Discord user (or bot account); dms_open=False refuses DMs from the bot (50007)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    @property
    def mention(self) -> str:
        """The user mention markup."""
        return f"<@{self.id}>"


@dataclass
class FakeRole:
    """A guild role."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    managed: bool = False
    bot_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """The role object as Discord sends it."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    @property
    def mention(self) -> str:
        """The role mention markup."""
        return f"<@&{self.id}>"


@dataclass
class FakeOverwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        """The overwrite object as Discord sends it."""
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow),
                "deny": str(self.deny)}


@dataclass
class FakeChannel:
    """A guild channel (text by default) or a DM channel."""

    id: int
    name: str
    guild_id: int | None = None
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    recipients: list[FakeUser] = field(default_factory=list)
    overwrites: list[FakeOverwrite] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The channel object as Discord sends it."""
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.payload() for user in self.recipients],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT, GUILD_FORUM):
            data.update(
                topic=self.topic,
                last_message_id=None,
                rate_limit_per_user=0,
                default_auto_archive_duration=1440,
                default_thread_rate_limit_per_user=0,
            )
        if self.type == GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        return data

    @property
    def mention(self) -> str:
        """The channel mention markup."""
        return f"<#{self.id}>"


@dataclass
class FakeMember:
    """A user's membership in a guild."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        """The guild member object as Discord sends it."""
        data: dict[str, Any] = {
            "roles": [str(role_id) for role_id in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    """A guild with its channels, roles and members; roles[0] is @everyone (id == guild id)."""

    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)

    def channel(self, key: int | str) -> FakeChannel:
        """Find a channel by id or name."""
        for channel in self.channels:
            if channel.id == key or channel.name == key:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {key!r}")

    def role(self, key: int | str) -> FakeRole:
        """Find a role by id or name."""
        for role in self.roles:
            if role.id == key or role.name == key:
                return role
        raise KeyError(f"guild {self.name!r} has no role {key!r}")

    def member(self, user_id: int) -> FakeMember | None:
        """The member for a user id, if the user is in this guild."""
        for member in self.members:
            if member.user.id == user_id:
                return member
        return None

    @property
    def text_channels(self) -> list[FakeChannel]:
        """Channels a message can be posted in."""
        return [c for c in self.channels if c.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT)]

    def permissions_for(self, user_id: int) -> int:
        """Guild-level permissions of a member (owner and administrators get everything)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.member(user_id)
        value = self.roles[0].permissions if self.roles else 0
        if member is not None:
            for role_id in member.roles:
                value |= self.role(role_id).permissions
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def channel_permissions_for(self, user_id: int, channel: FakeChannel) -> int:
        """Permissions of a member in a channel: Discord's order of @everyone, role and member
        overwrites on top of the guild-level permissions."""
        value = self.permissions_for(user_id)
        if value & ADMINISTRATOR or user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.member(user_id)
        by_target = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_target.get((0, self.id))
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles if member is not None else []:
            role = by_target.get((0, role_id))
            if role is not None:
                allow |= role.allow
                deny |= role.deny
        value = (value & ~deny) | allow
        own = by_target.get((1, user_id))
        if own is not None:
            value = (value & ~own.deny) | own.allow
        if not value & VIEW_CHANNEL:
            return 0  # a hidden channel grants nothing else
        return value

    def payload(self, *, bot_user_id: int, all_members: bool) -> dict[str, Any]:
        """The GUILD_CREATE payload (members: only the bot unless all_members)."""
        members = [
            m for m in self.members if all_members or m.user.id == bot_user_id
        ]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw": False,
            "incidents_data": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "roles": [role.payload() for role in self.roles],
            "channels": [channel.payload() for channel in self.channels],
            "members": [member.payload() for member in members],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


class World:
    """Everything the fake Discord knows: the bot, its application, users and guilds."""

    def __init__(
        self,
        *,
        token: str = "fake-token",
        bot_name: str = "Summit Desk",
        owner_name: str = "owner",
    ) -> None:
        self.ids = SnowflakeFactory()
        self.token = token
        self.bot = FakeUser(self.ids.next(), bot_name.lower().replace(" ", "-"), bot_name, bot=True)
        self.application_id = self.bot.id
        self.application_name = bot_name
        self.owner = FakeUser(self.ids.next(), owner_name, owner_name.title())
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: list[FakeGuild] = []
        self.dm_channels: dict[int, FakeChannel] = {}

    @classmethod
    def default(cls, **kwargs: Any) -> World:
        """The standard test world: guild "Summit Desk" with a "Summit Admin" role and 3 people.

        Users: `owner` (application and guild owner), `alice` (Summit Admin), `bob` (no role).
        Channels: #general, #summit-news, #bot-log.
        """
        world = cls(**kwargs)
        guild = world.add_guild("Summit Desk", channels=("general", "summit-news", "bot-log"))
        world.add_role(guild, "Summit Admin", SUMMIT_ADMIN_PERMISSIONS)
        world.add_user("alice", guild=guild, roles=("Summit Admin",))
        world.add_user("bob", guild=guild)
        return world

    # -- building -------------------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        channels: tuple[str, ...] = ("general",),
        shard: tuple[int, int] | None = None,
        owner: FakeUser | None = None,
    ) -> FakeGuild:
        """Add a guild the bot is in; shard=(id, count) picks an id routed to that shard."""
        guild_id = self.ids.next_on_shard(*shard) if shard else self.ids.next()
        owner = owner or self.owner
        guild = FakeGuild(id=guild_id, name=name, owner_id=owner.id)
        guild.roles.append(FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0))
        bot_role = FakeRole(
            self.ids.next(), self.application_name, BOT_ROLE_PERMISSIONS, 1, managed=True,
            bot_id=self.bot.id,
        )
        guild.roles.append(bot_role)
        for position, channel_name in enumerate(channels):
            self.add_channel(guild, channel_name, position=position)
        guild.members.append(FakeMember(self.bot, [bot_role.id]))
        guild.members.append(FakeMember(owner))
        self.guilds.append(guild)
        return guild

    def add_channel(
        self, guild: FakeGuild, name: str, *, type: int = GUILD_TEXT, position: int | None = None
    ) -> FakeChannel:
        """Add a channel to a guild."""
        channel = FakeChannel(
            self.ids.next(), name, guild.id, type,
            position=len(guild.channels) if position is None else position,
        )
        guild.channels.append(channel)
        return channel

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        """Add a role to a guild."""
        role = FakeRole(self.ids.next(), name, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return role

    def add_user(
        self,
        username: str,
        *,
        guild: FakeGuild | None = None,
        roles: tuple[str, ...] = (),
        bot: bool = False,
    ) -> FakeUser:
        """Add a user, optionally as a member of a guild holding the named roles."""
        user = FakeUser(self.ids.next(), username, username.title(), bot=bot)
        self.users[user.id] = user
        if guild is not None:
            self.add_member(guild, user, roles=roles)
        return user

    def add_member(self, guild: FakeGuild, user: FakeUser, *, roles: tuple[str, ...] = ()) -> FakeMember:
        """Make a user a member of a guild."""
        member = FakeMember(user, [guild.role(name).id for name in roles])
        guild.members.append(member)
        return member

    def deny(self, channel: FakeChannel, permissions: int, *, role: str | None = None,
             user: FakeUser | None = None) -> None:
        """Add a channel overwrite denying `permissions` to a role (default @everyone) or a
        user (e.g. the bot: `world.deny(channel, EMBED_LINKS, user=world.bot)`)."""
        self._overwrite(channel, permissions, role=role, user=user, deny=True)

    def allow(self, channel: FakeChannel, permissions: int, *, role: str | None = None,
              user: FakeUser | None = None) -> None:
        """Add a channel overwrite allowing `permissions` to a role or a user."""
        self._overwrite(channel, permissions, role=role, user=user, deny=False)

    def _overwrite(self, channel: FakeChannel, permissions: int, *, role: str | None,
                   user: FakeUser | None, deny: bool) -> None:
        guild = self.guild(channel.guild_id)
        target = (1, user.id) if user is not None else (0, guild.role(role or "@everyone").id)
        found = next((o for o in channel.overwrites if (o.type, o.id) == target), None)
        if found is None:
            found = FakeOverwrite(target[1], target[0])
            channel.overwrites.append(found)
        if deny:
            found.deny |= permissions
            found.allow &= ~permissions
        else:
            found.allow |= permissions
            found.deny &= ~permissions

    # -- lookup ---------------------------------------------------------------------------

    def guild(self, key: int | str | FakeGuild | None = None) -> FakeGuild:
        """Find a guild by id or name (None: the first guild)."""
        if isinstance(key, FakeGuild):
            return key
        if key is None:
            if not self.guilds:
                raise KeyError("the world has no guilds")
            return self.guilds[0]
        for guild in self.guilds:
            if guild.id == key or guild.name == key:
                return guild
        raise KeyError(f"no guild {key!r}")

    def user(self, key: int | str | FakeUser | FakeMember) -> FakeUser:
        """Find a user by id or username."""
        if isinstance(key, FakeUser):
            return key
        if isinstance(key, FakeMember):
            return key.user
        for user in self.users.values():
            if user.id == key or user.username == key:
                return user
        raise KeyError(f"no user {key!r}")

    def find_channel(self, channel_id: int) -> FakeChannel | None:
        """A guild or DM channel by id."""
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return channel
        return self.dm_channels.get(channel_id)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and a user (created on first use)."""
        for channel in self.dm_channels.values():
            if channel.recipients and channel.recipients[0].id == user.id:
                return channel
        channel = FakeChannel(self.ids.next(), "", None, DM, recipients=[user])
        self.dm_channels[channel.id] = channel
        return channel

    def guilds_for_shard(self, shard: tuple[int, int] | None) -> list[FakeGuild]:
        """Guilds whose events go to the given shard (all of them when unsharded)."""
        if shard is None:
            return list(self.guilds)
        shard_id, count = shard
        return [g for g in self.guilds if shard_for(g.id, count) == shard_id]

    def application_payload(self) -> dict[str, Any]:
        """GET /oauth2/applications/@me."""
        return {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "Fake application for tests",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner.payload(),
            "team": None,
            "flags": 0,
            "hook": True,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.guilds),
            "bot": self.bot.payload(),
            "integration_types_config": {"0": {}},
        }
