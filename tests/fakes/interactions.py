"""INTERACTION_CREATE payloads and the handle a test awaits for the bot's answer."""

# The waiting API deliberately takes timeout= arguments (asked for by the test writers).
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .records import FakeError, RecordedRequest, StoredMessage
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser

if TYPE_CHECKING:
    from .discord_server import FakeDiscord

# Interaction types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback (response) types.
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9
LAUNCH_ACTIVITY = 12

ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL, LAUNCH_ACTIVITY},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL,
        LAUNCH_ACTIVITY,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}

# Option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11


@dataclass(frozen=True)
class FakeFile:
    """A file a test user attaches to a slash command option (type 11)."""

    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


class CommandNotAvailable(LookupError):
    """Discord would not let this user invoke this command (not synced, or no permission)."""


class InteractionHandle:
    """Everything the bot did with one interaction token; await `wait_done()` for the answer."""

    def __init__(
        self,
        fake: FakeDiscord,
        payload: dict[str, Any],
        *,
        user: FakeUser,
        guild: FakeGuild | None,
        source_message: StoredMessage | None = None,
    ) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.user = user
        self.guild = guild
        self.channel_id = int(payload["channel_id"])
        self.source_message = source_message
        self.created_at = time.monotonic()
        self.requests: list[RecordedRequest] = []
        self.errors: list[FakeError] = []
        self.callback_type: int | None = None
        self.callback_data: dict[str, Any] | None = None
        self.original: StoredMessage | None = None
        self.followups: list[StoredMessage] = []
        self.updates_after_ack = 0

    # -- state ------------------------------------------------------------------------

    @property
    def acknowledged(self) -> bool:
        """Whether the bot sent an initial callback that Discord accepted."""
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        """Whether the initial callback was a deferral (type 5 or 6)."""
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def done(self) -> bool:
        """Whether a final, user-visible answer exists (not just a "thinking..." placeholder)."""
        kind = self.callback_type
        if kind is None:
            return False
        if kind == DEFERRED_CHANNEL_MESSAGE:
            # A deleted "thinking…" placeholder is no answer: a followup (a new message) is.
            original = self.original
            finished = original is not None and not original.loading and not original.deleted
            return finished or bool(self.followups)
        if kind == DEFERRED_UPDATE_MESSAGE:
            return self.updates_after_ack > 0 or bool(self.followups)
        return True

    @property
    def messages(self) -> list[StoredMessage]:
        """The original response (if any) followed by followups."""
        return ([self.original] if self.original is not None else []) + self.followups

    @property
    def message(self) -> StoredMessage:
        """The final visible message: the (edited) original, else the first followup."""
        if self.original is not None and not self.original.loading and not self.original.deleted:
            return self.original
        if self.followups:
            return self.followups[0]
        raise AssertionError(f"interaction {self.describe()} has no visible message")

    @property
    def content(self) -> str:
        """Content of the final visible message."""
        return self.message.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds of the final visible message."""
        return self.message.embeds

    @property
    def components(self) -> list[dict[str, Any]]:
        """Components of the final visible message."""
        return self.message.components

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """Attachments (filename, size, content_type, url) of the final visible message."""
        return self.message.attachments

    @property
    def flags(self) -> int:
        """Flags of the final visible message."""
        return self.message.flags

    @property
    def ephemeral(self) -> bool:
        """Whether the final visible message is ephemeral (flag 64)."""
        return self.message.ephemeral

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """allowed_mentions the bot sent with the final visible message."""
        return self.message.allowed_mentions

    @property
    def text(self) -> str:
        """Content and embed text of the final visible message."""
        return self.message.text

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot returned (callback type 8)."""
        if self.callback_type != AUTOCOMPLETE_RESULT or self.callback_data is None:
            raise AssertionError(f"interaction {self.describe()} got no autocomplete result")
        return list(self.callback_data.get("choices") or [])

    @property
    def modal(self) -> dict[str, Any]:
        """The modal the bot opened (callback type 9): custom_id, title, components."""
        if self.callback_type != MODAL or self.callback_data is None:
            raise AssertionError(f"interaction {self.describe()} opened no modal")
        return self.callback_data

    # -- waiting ----------------------------------------------------------------------

    async def wait_done(self, timeout: float = 5.0) -> InteractionHandle:
        """Wait for the final answer (see `done`); raises TimeoutError with what was seen."""
        await self._fake.wait_until(lambda: self.done, timeout, self.describe)
        return self

    async def wait_for(
        self, predicate: Callable[[InteractionHandle], bool], timeout: float = 5.0
    ) -> InteractionHandle:
        """Wait until predicate(handle) is true (e.g. lambda h: len(h.followups) >= 2)."""
        await self._fake.wait_until(lambda: predicate(self), timeout, self.describe)
        return self

    async def wait_followups(self, count: int, timeout: float = 5.0) -> list[StoredMessage]:
        """Wait until at least `count` followup messages exist."""
        await self.wait_for(lambda h: len(h.followups) >= count, timeout)
        return self.followups

    def describe(self) -> str:
        """A one-paragraph summary used in assertion and timeout messages."""
        name = (self.payload.get("data") or {}).get("name") or (self.payload.get("data") or {}).get(
            "custom_id"
        )
        lines = [
            f"#{self.id} type={self.type} {name!r} callback={self.callback_type} "
            f"original={self.original!r} followups={self.followups!r}",
            f"  requests: {self.requests!r}",
        ]
        if self.errors:
            lines.append(f"  errors: {[str(e) for e in self.errors]}")
        if self._fake.errors:
            lines.append(f"  fake errors: {[str(e) for e in self._fake.errors]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<InteractionHandle {self.describe()}>"


# -- payload building ------------------------------------------------------------------

UserLike = FakeUser | FakeMember | int | str
AttachmentHost = Callable[[FakeFile, int], dict[str, Any]]


def resolve_user_value(
    fake: FakeDiscord, value: Any, guild: FakeGuild | None, resolved: dict[str, Any]
) -> str:
    """Option value for a user/member, filling data.resolved.users/members."""
    user = fake.world.user(value)
    resolved.setdefault("users", {})[str(user.id)] = user.payload()
    if guild is not None:
        member = guild.member(user.id)
        if member is not None:
            resolved.setdefault("members", {})[str(user.id)] = member.payload(
                with_user=False, permissions=guild.permissions_for(user.id)
            )
    return str(user.id)


def _resolve_channel_value(
    fake: FakeDiscord, value: Any, guild: FakeGuild | None, resolved: dict[str, Any]
) -> str:
    if isinstance(value, FakeChannel):
        channel = value
    elif guild is not None:
        channel = guild.channel(value)
    else:
        found = fake.world.find_channel(int(value))
        if found is None:
            raise KeyError(f"no channel {value!r}")
        channel = found
    data = channel.payload()
    data["permissions"] = str(guild.permissions_for(fake.world.bot.id) if guild else 0)
    resolved.setdefault("channels", {})[str(channel.id)] = data
    return str(channel.id)


def _resolve_role_value(value: Any, guild: FakeGuild | None, resolved: dict[str, Any]) -> str:
    if guild is None:
        raise ValueError("role options need a guild")
    role = value if isinstance(value, FakeRole) else guild.role(value)
    resolved.setdefault("roles", {})[str(role.id)] = role.payload()
    return str(role.id)


def _as_file(value: Any) -> FakeFile:
    if isinstance(value, FakeFile):
        return value
    if isinstance(value, tuple):
        return FakeFile(*value)
    raise TypeError(f"attachment options take FakeFile or (filename, bytes), not {type(value)!r}")


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, (FakeUser, FakeMember)):
        return USER
    if isinstance(value, FakeChannel):
        return CHANNEL
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, (FakeFile, tuple)):
        return ATTACHMENT
    return STRING


def _check_choice(spec: dict[str, Any], value: Any) -> None:
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(
            f"option {spec['name']!r}: {value!r} is not one of the choices "
            f"{[c['value'] for c in choices]}"
        )


def _check_range(spec: dict[str, Any], value: Any) -> None:
    name = spec["name"]
    if isinstance(value, str):
        if "min_length" in spec and len(value) < spec["min_length"]:
            raise ValueError(f"option {name!r} is shorter than min_length {spec['min_length']}")
        if "max_length" in spec and len(value) > spec["max_length"]:
            raise ValueError(f"option {name!r} is longer than max_length {spec['max_length']}")
    elif isinstance(value, (int, float)):
        if spec.get("min_value") is not None and value < spec["min_value"]:
            raise ValueError(f"option {name!r} is below min_value {spec['min_value']}")
        if spec.get("max_value") is not None and value > spec["max_value"]:
            raise ValueError(f"option {name!r} is above max_value {spec['max_value']}")


def build_options(
    fake: FakeDiscord,
    specs: list[dict[str, Any]] | None,
    values: Mapping[str, Any],
    *,
    guild: FakeGuild | None,
    channel_id: int,
    resolved: dict[str, Any],
    focused: str | None,
) -> list[dict[str, Any]]:
    """The `options` list for values, typed and validated against the synced schema if known."""
    by_name = {spec["name"]: spec for spec in specs or []}
    if specs is not None:
        unknown = [name for name in values if name not in by_name]
        if unknown:
            raise ValueError(f"unknown options {unknown}; the command takes {sorted(by_name)}")
        if focused is None:
            missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
            if missing:
                raise ValueError(f"required options missing: {missing}")
    options: list[dict[str, Any]] = []
    for name, value in values.items():
        spec = by_name.get(name) or {"name": name, "type": _infer_type(value)}
        kind = spec["type"]
        option: dict[str, Any] = {"name": name, "type": kind}
        if name == focused:
            option["value"] = value if isinstance(value, str) else str(value)
            option["focused"] = True
            options.append(option)
            continue
        if kind == STRING:
            option["value"] = str(value)
        elif kind == INTEGER:
            option["value"] = int(value)
        elif kind == NUMBER:
            option["value"] = float(value)
        elif kind == BOOLEAN:
            option["value"] = bool(value)
        elif kind == USER:
            option["value"] = resolve_user_value(fake, value, guild, resolved)
        elif kind == CHANNEL:
            option["value"] = _resolve_channel_value(fake, value, guild, resolved)
            allowed = spec.get("channel_types")
            chan = resolved["channels"][option["value"]]
            if allowed and chan["type"] not in allowed:
                raise ValueError(f"option {name!r} accepts channel types {allowed}")
        elif kind == ROLE:
            option["value"] = _resolve_role_value(value, guild, resolved)
        elif kind == MENTIONABLE:
            if isinstance(value, FakeRole):
                option["value"] = _resolve_role_value(value, guild, resolved)
            else:
                option["value"] = resolve_user_value(fake, value, guild, resolved)
        elif kind == ATTACHMENT:
            attachment = fake.host_attachment(_as_file(value), channel_id, ephemeral=True)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            option["value"] = attachment["id"]
        else:
            raise ValueError(f"option {name!r} has unsupported type {kind}")
        if specs is not None:
            _check_choice(spec, option["value"])
            _check_range(spec, option["value"])
        options.append(option)
    return options


Sender = Callable[[dict[str, Any], FakeGuild | None], Awaitable[None]]
