"""Driving the bot as a user would: slash, autocomplete, components, modals, messages."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from .gateway import MESSAGE_CONTENT_INTENT
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    CommandNotAvailable,
    FakeFile,
    InteractionHandle,
    build_options,
    resolve_user_value,
)
from .records import StoredMessage
from .state import FakeState
from .world import (
    ATTACH_FILES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeUser,
)

if TYPE_CHECKING:
    from .discord_server import FakeDiscord

class DrivingMixin(FakeState):
    """The user side of FakeDiscord: what a person in the guild does."""

    # -- driving the bot ----------------------------------------------------------------

    def default_user(self, guild: FakeGuild | None = None) -> FakeUser:
        """The least privileged human member (in the default world: bob)."""
        guild = guild or self.world.guild()
        humans = [m for m in guild.members if not m.user.bot and m.user.id != guild.owner_id]
        plain = [m for m in humans if not m.roles]
        chosen = (plain or humans or [FakeMember(self.world.owner)])[0]
        return chosen.user

    def interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild: FakeGuild | None,
        channel: FakeChannel,
        locale: str,
        permissions: int | None,
        message: StoredMessage | None = None,
    ) -> dict[str, Any]:
        """A complete INTERACTION_CREATE `d` payload of interaction type `kind`."""
        payload: dict[str, Any] = {
            "id": str(self.world.ids.next()),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": "itok_" + secrets.token_urlsafe(32),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
            "channel": channel.payload(),
            "channel_id": str(channel.id),
        }
        if guild is not None:
            member = guild.member(user.id)
            if member is None:
                raise CommandNotAvailable(f"{user.username} is not a member of {guild.name}")
            # Both are the totals in the interaction's channel, overwrites included.
            perms = guild.channel_permissions_for(user.id, channel) if permissions is None \
                else permissions
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member.payload(permissions=perms),
                app_permissions=str(guild.channel_permissions_for(self.world.bot.id, channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions=str(VIEW_CHANNEL | SEND_MESSAGES | ATTACH_FILES),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.payload
        return payload

    def register_interaction(
        self, payload: dict[str, Any], *, user: FakeUser, guild: FakeGuild | None,
        source_message: StoredMessage | None = None,
    ) -> InteractionHandle:
        """Track an INTERACTION_CREATE payload's token without sending it (raw-HTTP tests)."""
        fake = cast("FakeDiscord", self)
        handle = InteractionHandle(fake, payload, user=user, guild=guild,
                                   source_message=source_message)
        self.interactions[handle.token] = handle
        return handle

    async def _deliver(self, payload: dict[str, Any], *, user: FakeUser, guild: FakeGuild | None,
                       source_message: StoredMessage | None = None) -> InteractionHandle:
        session = self._session_for(guild)
        handle = self.register_interaction(payload, user=user, guild=guild, source_message=source_message)
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        handle.created_at = time.monotonic()
        return handle

    def _where(self, guild: int | str | FakeGuild | None, channel: int | str | FakeChannel | None,
               user: Any, dm: bool) -> tuple[FakeGuild | None, FakeChannel, FakeUser]:
        if dm:
            account = self.world.user(user) if user is not None else self.default_user()
            return None, self.world.dm_channel(account), account
        where = self.world.guild(guild)
        account = self.world.user(user) if user is not None else self.default_user(where)
        if isinstance(channel, FakeChannel):
            place = channel
        elif channel is None:
            place = where.text_channels[0]
        else:
            place = where.channel(channel)
        return where, place, account

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        strict: bool,
        focused: str | None,
    ) -> dict[str, Any]:
        path = name.split()
        found = self.find_command(path[0], guild)
        if found is None and strict:
            known = sorted({c["name"] for c in self.global_commands}
                           | {c["name"] for c in self.guild_commands.get(guild.id if guild else 0, [])})
            raise CommandNotAvailable(f"/{path[0]} was never synced; synced commands: {known}")
        schema, command_guild = found if found else (None, None)
        if schema is not None and strict:
            self._check_command_access(schema, guild, user)
        resolved: dict[str, Any] = {}
        specs = schema.get("options") if schema is not None else None
        values = dict(options or {})
        leaf_holder: dict[str, Any] = {}
        data: dict[str, Any] = {
            "id": schema["id"] if schema else str(self.world.ids.next()),
            "name": path[0],
            "type": 1,
        }
        container = data
        for part in path[1:]:
            spec = next((s for s in specs or [] if s["name"] == part), None) if schema else None
            if schema is not None and (spec is None or spec["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP)):
                raise CommandNotAvailable(f"/{name}: {part!r} is not a subcommand")
            kind = spec["type"] if spec else (SUB_COMMAND if part == path[-1] else SUB_COMMAND_GROUP)
            leaf_holder = {"name": part, "type": kind, "options": []}
            container.setdefault("options", []).append(leaf_holder)
            container = leaf_holder
            specs = spec.get("options", []) if spec else None
        if specs and any(s["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for s in specs):
            raise CommandNotAvailable(f"/{name} needs a subcommand: {[s['name'] for s in specs]}")
        built = build_options(cast("FakeDiscord", self), specs, values, guild=guild, channel_id=channel.id,
                              resolved=resolved, focused=focused)
        if built or container is data:
            container["options"] = built
        if resolved:
            data["resolved"] = resolved
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        return data

    def _check_command_access(self, schema: dict[str, Any], guild: FakeGuild | None, user: FakeUser) -> None:
        if guild is None:
            contexts = schema.get("contexts")
            if schema.get("guild_id") or schema.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                raise CommandNotAvailable(f"/{schema['name']} is not available in DMs")
            return
        required = schema.get("default_member_permissions")
        if required is not None:
            needed = int(required)
            if guild.permissions_for(user.id) & needed != needed:
                raise CommandNotAvailable(
                    f"{user.username} lacks default_member_permissions {needed} for /{schema['name']}")

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
        attachments: Mapping[str, FakeFile | tuple[str, bytes]] | None = None,
        dm: bool = False,
        locale: str = "en-US",
        permissions: int | None = None,
        strict: bool | None = None,
    ) -> InteractionHandle:
        """Invoke a chat-input command ("group sub" for subcommands) as a user would."""
        where, place, account = self._where(guild, channel, user, dm)
        values = dict(options or {})
        values.update(attachments or {})
        data = self._command_data(name, values, guild=where, channel=place, user=account,
                                  strict=self.strict_commands if strict is None else strict,
                                  focused=None)
        payload = self.interaction_payload(APPLICATION_COMMAND, data, user=account, guild=where, channel=place,
                                 locale=locale, permissions=permissions)
        return await self._deliver(payload, user=account, guild=where)

    async def message_command(
        self,
        name: str,
        message: StoredMessage | InteractionHandle | int,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        locale: str = "en-US",
        strict: bool | None = None,
    ) -> InteractionHandle:
        """Run a message context-menu command ("Apps > name" on a message) as a user would.

        As on Discord, the target message arrives whole (content included, whatever the
        bot's intents) under data.resolved.messages.
        """
        target = self._message_from(message)
        channel = self.world.find_channel(target.channel_id)
        assert channel is not None
        guild = self._guild_of(channel)
        account = self.world.user(user) if user is not None else self.default_user(guild)
        found = self.find_command(name, guild, kind=3)
        if found is None and (self.strict_commands if strict is None else strict):
            raise CommandNotAvailable(f"message command {name!r} was never synced")
        schema, command_guild = found if found else (None, None)
        if schema is not None and (self.strict_commands if strict is None else strict):
            self._check_command_access(schema, guild, account)
        data: dict[str, Any] = {
            "id": schema["id"] if schema else str(self.world.ids.next()),
            "name": name,
            "type": 3,
            "target_id": str(target.id),
            "resolved": {"messages": {str(target.id): target.payload}},
        }
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        payload = self.interaction_payload(APPLICATION_COMMAND, data, user=account, guild=guild,
                                           channel=channel, locale=locale, permissions=None)
        return await self._deliver(payload, user=account, guild=guild)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
        dm: bool = False,
        locale: str = "en-US",
        strict: bool | None = None,
    ) -> InteractionHandle:
        """Type `value` into option `focused` of a command; `handle.choices` has the answer."""
        where, place, account = self._where(guild, channel, user, dm)
        values = {**dict(options or {}), focused: value}
        data = self._command_data(name, values, guild=where, channel=place, user=account,
                                  strict=self.strict_commands if strict is None else strict,
                                  focused=focused)
        payload = self.interaction_payload(AUTOCOMPLETE, data, user=account, guild=where, channel=place,
                                 locale=locale, permissions=None)
        return await self._deliver(payload, user=account, guild=where)

    def _message_from(self, message: StoredMessage | InteractionHandle | int) -> StoredMessage:
        if isinstance(message, InteractionHandle):
            return message.message
        if isinstance(message, StoredMessage):
            return message
        return self.messages[int(message)]

    async def component(
        self,
        custom_id: str,
        *,
        message: StoredMessage | InteractionHandle | int,
        user: FakeUser | FakeMember | int | str | None = None,
        values: list[Any] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Click a button (or pick select `values`) on a message the bot sent."""
        source = self._message_from(message)
        if source.deleted:
            raise ValueError(f"message {source.id} was deleted")
        component = source.find_component(custom_id)
        if component is None:
            raise ValueError(f"no component {custom_id!r} on {source!r}; it has {source.custom_ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        channel = self.world.find_channel(source.channel_id)
        assert channel is not None
        guild = self._guild_of(channel)
        if user is None:
            owner_handle = self.interactions.get(source.interaction_token or "")
            account = owner_handle.user if owner_handle else self.default_user(guild)
        else:
            account = self.world.user(user)
        if source.ephemeral and source.interaction_token:
            owner_handle = self.interactions[source.interaction_token]
            if owner_handle.user.id != account.id:
                raise ValueError("only the invoking user can see (and click) an ephemeral message")
        kind = component["type"]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
        if "id" in component:
            data["id"] = component["id"]
        if kind != 2:
            resolved: dict[str, Any] = {}
            picked = list(values or [])
            if kind == 5:
                picked = [resolve_user_value(cast("FakeDiscord", self), v, guild, resolved) for v in picked]
            data["values"] = [str(v) if kind != 3 else v for v in picked]
            if resolved:
                data["resolved"] = resolved
        payload = self.interaction_payload(MESSAGE_COMPONENT, data, user=account, guild=guild, channel=channel,
                                 locale=locale, permissions=None, message=source)
        return await self._deliver(payload, user=account, guild=guild, source_message=source)

    async def modal_submit(
        self,
        opened_by: InteractionHandle,
        values: Mapping[str, str | list[str]],
        *,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Submit the modal the bot opened in answer to `opened_by`, filling text inputs by custom_id."""
        modal = opened_by.modal
        remaining = dict(values)

        def fill(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for item in items:
                kind = item.get("type")
                if kind == 1:
                    out.append({"type": 1, "components": fill(item.get("components") or [])})
                elif kind == 18:
                    out.append({"type": 18, "component": fill([item["component"]])[0]})
                elif item.get("custom_id"):
                    value = remaining.pop(item["custom_id"], "" if kind == 4 else [])
                    key = "value" if kind == 4 else "values"
                    out.append({"type": kind, "custom_id": item["custom_id"], key: value})
                else:
                    out.append({"type": kind})
            return out

        components = fill(modal.get("components") or [])
        if remaining:
            raise ValueError(f"the modal has no inputs {sorted(remaining)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        channel = self.world.find_channel(opened_by.channel_id)
        assert channel is not None
        payload = self.interaction_payload(MODAL_SUBMIT, data, user=opened_by.user, guild=opened_by.guild,
                                 channel=channel, locale=locale, permissions=None,
                                 message=opened_by.source_message)
        return await self._deliver(payload, user=opened_by.user, guild=opened_by.guild,
                                   source_message=opened_by.source_message)

    async def user_message(
        self,
        content: str,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
    ) -> StoredMessage:
        """A user posts a message (MESSAGE_CREATE), e.g. for prefix commands.

        As on Discord, a session without the MESSAGE_CONTENT intent gets empty content unless
        the message mentions the bot.
        """
        where, place, account = self._where(guild, channel, user, dm=False)
        stored = self._create_message(place, {"content": content}, [], author=account)
        data = dict(stored.payload)
        member = where.member(account.id) if where else None
        if member is not None:
            data["member"] = member.payload(with_user=False)
        session = self._session_for(where)
        mentioned = any(m["id"] == str(self.world.bot.id) for m in data["mentions"])
        if not session.intents & MESSAGE_CONTENT_INTENT and not mentioned:
            data.update(content="", embeds=[], attachments=[], components=[])
        await self._dispatch(session, "MESSAGE_CREATE", data)
        return stored

    def guild_payload(self, guild: int | str | FakeGuild | None = None) -> dict[str, Any]:
        """The GUILD_CREATE payload the fake sends for a guild."""
        return self.world.guild(guild).payload(bot_user_id=self.world.bot.id,
                                               all_members=self.guild_create_members)


