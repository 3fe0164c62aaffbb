"""Self-tests: the fake Discord speaks well enough for a real discord.py bot, and checks like Discord."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from .discord_server import FakeDiscord
from .interactions import CommandNotAvailable, FakeFile, InteractionHandle
from .process import BotProcess
from .world import World

SAMPLE_BOT = str(Path(__file__).with_name("sample_bot.py"))
module_loop = pytest.mark.asyncio(loop_scope="module")


def bot_env(fake: FakeDiscord, **extra: str) -> dict[str, str]:
    """Environment pointing the sample bot at the fake."""
    return {"FAKE_API_BASE": fake.api_base, "FAKE_GATEWAY_URL": fake.gateway_url,
            "FAKE_TOKEN": fake.token, **extra}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running() -> AsyncIterator[tuple[FakeDiscord, BotProcess]]:
    """One fake and one sample bot shared by the module's end-to-end tests."""
    async with FakeDiscord(World.default(), heartbeat_interval=0.2) as fake:
        guild = fake.world.guild()
        bot = BotProcess([sys.executable, SAMPLE_BOT], env=bot_env(fake, FAKE_GUILD_ID=str(guild.id)))
        async with bot:
            await bot.wait_for_output("READY")
            await fake.wait_for_commands(guild)
            yield fake, bot
            fake.assert_no_errors()
            bot.assert_no_errors()


@pytest_asyncio.fixture(loop_scope="module")
async def fake(running: tuple[FakeDiscord, BotProcess]) -> FakeDiscord:
    """The shared fake."""
    return running[0]


@pytest_asyncio.fixture
async def bare_fake() -> AsyncIterator[FakeDiscord]:
    """A fake with no bot attached, for raw HTTP checks."""
    async with FakeDiscord(World.default()) as fake_server:
        yield fake_server


async def http(fake: FakeDiscord, method: str, path: str, *, auth: bool = True, **kwargs: Any
               ) -> tuple[int, Any, Any]:
    """One raw request to the fake: (status, headers, json body or None)."""
    headers = {"Authorization": f"Bot {fake.token}"} if auth else {}
    async with aiohttp.ClientSession() as session, session.request(
        method, fake.api_base + path, headers=headers, **kwargs
    ) as resp:
        body = await resp.json(content_type=None) if resp.status != 204 else None
        return resp.status, resp.headers, body


# -- end to end with the sample bot ----------------------------------------------------------


@module_loop
@pytest.mark.e2e
async def test_sync_records_global_and_guild_commands(fake: FakeDiscord) -> None:
    """Tree sync PUTs are recorded and answered with ids; the guild-only command is guild-scoped."""
    names = {c["name"] for c in fake.global_commands}
    assert {"ping", "slow", "fruit", "upload", "summit", "adminonly"} <= names
    assert all(c["id"] and c["application_id"] == str(fake.application_id) for c in fake.global_commands)
    guild_commands = fake.guild_commands[fake.world.guild().id]
    assert [c["name"] for c in guild_commands] == ["guildping"]


@module_loop
@pytest.mark.e2e
async def test_ready_handshake_recorded(fake: FakeDiscord) -> None:
    """The bot IDENTIFYed unsharded with the members intent and chunked the guild over op 8."""
    assert fake.identified_shards == [None]
    assert fake.identifies[0]["intents"] & (1 << 1)
    assert fake.member_requests[0]["guild_id"] == fake.world.guild().id


@module_loop
@pytest.mark.e2e
async def test_slash_round_trip(fake: FakeDiscord) -> None:
    """A type 4 reply is the final answer, with its content and allowed_mentions visible."""
    reply = await (await fake.slash("ping")).wait_done()
    assert reply.callback_type == 4
    assert reply.content == "pong"
    assert not reply.ephemeral
    assert reply.allowed_mentions == {"parse": []}
    assert reply.message in fake.channel_messages("general")


@module_loop
@pytest.mark.e2e
async def test_guild_command_carries_data_guild_id(fake: FakeDiscord) -> None:
    """A guild-scoped command gets data.guild_id, without which discord.py reports CommandNotFound."""
    reply = await (await fake.slash("guildping")).wait_done()
    assert reply.payload["data"]["guild_id"] == str(fake.world.guild().id)
    assert reply.content == f"guild pong {fake.world.guild().id}"


@module_loop
@pytest.mark.e2e
async def test_subcommand_path(fake: FakeDiscord) -> None:
    """"summit list" is sent as a type 1 option under the group and reaches the subcommand."""
    reply = await (await fake.slash("summit list")).wait_done()
    assert reply.payload["data"]["options"][0] == {"name": "list", "type": 1, "options": []}
    assert reply.content == "summits: 1956, 1993"


@module_loop
@pytest.mark.e2e
async def test_deferred_followup_edits_original(fake: FakeDiscord) -> None:
    """After a type 5 deferral the first followup replaces the thinking message, as on Discord."""
    reply = await (await fake.slash("slow")).wait_done()
    assert reply.callback_type == 5
    assert reply.followups == []
    assert reply.original is not None and not reply.original.loading
    assert reply.content == "done slowly"
    assert reply.embeds[0]["title"] == "Slow"


@module_loop
@pytest.mark.e2e
async def test_original_and_followup_edits(fake: FakeDiscord) -> None:
    """GET/PATCH @original, PATCH/DELETE of a followup and a channel message edit all land."""
    reply = await fake.slash("edits")
    await reply.wait_for(lambda h: bool(h.followups) and h.followups[0].deleted)
    assert reply.original is not None
    assert reply.content == f"edited {reply.original.id}"
    [extra] = reply.followups
    assert (extra.content, extra.ephemeral, extra.deleted) == ("extra edited", True, True)
    routes = [r.route.replace(reply.token, "T") for r in reply.requests]
    app = fake.application_id
    assert routes == [
        f"POST /interactions/{reply.id}/T/callback",
        f"GET /webhooks/{app}/T/messages/@original",
        f"PATCH /webhooks/{app}/T/messages/@original",
        f"POST /webhooks/{app}/T",
        f"PATCH /webhooks/{app}/T/messages/{extra.id}",
        f"DELETE /webhooks/{app}/T/messages/{extra.id}",
    ]
    await fake.wait_until(lambda: "channel note edited" in
                          [m.content for m in fake.channel_messages("general")])


@module_loop
@pytest.mark.e2e
async def test_direct_message(fake: FakeDiscord) -> None:
    """user.send() opens a DM channel (POST /users/@me/channels) and posts into it."""
    reply = await (await fake.slash("dmme")).wait_done()
    assert reply.content == "sent"
    bob = fake.world.user("bob")
    [dm] = fake.channel_messages(fake.world.dm_channel(bob))
    assert dm.content == "psst"


@module_loop
@pytest.mark.e2e
async def test_prefix_command_via_message_create(fake: FakeDiscord) -> None:
    """A user's MESSAGE_CREATE reaches commands.Bot's prefix commands, which answer in the channel."""
    await fake.user_message("!hello", user="alice", channel="summit-news")
    await fake.wait_until(lambda: "hi alice" in [m.content for m in fake.channel_messages("summit-news")])


@module_loop
@pytest.mark.e2e
async def test_message_context_menu_gets_the_whole_message(fake: FakeDiscord) -> None:
    """A message command (type 3) carries its target in data.resolved, content included even
    without the message content intent; only synced message commands can be run."""
    posted = await fake.user_message("quiet words", user="alice", channel="general")
    reply = await (await fake.message_command("Shout", posted, user="bob")).wait_done()
    assert reply.content == "QUIET WORDS" and reply.ephemeral
    with pytest.raises(CommandNotAvailable):
        await fake.message_command("Whisper", posted)


@module_loop
@pytest.mark.e2e
async def test_autocomplete_choices(fake: FakeDiscord) -> None:
    """An autocomplete interaction (type 4) is answered with callback type 8 and choices."""
    reply = await (await fake.autocomplete("fruit", "name", "ap")).wait_done()
    assert reply.callback_type == 8
    assert [c["value"] for c in reply.choices] == ["apple", "apricot"]


@module_loop
@pytest.mark.e2e
async def test_button_click_updates_message(fake: FakeDiscord) -> None:
    """Clicking the button of an earlier reply reaches the persistent view, which edits in place."""
    shown = await (await fake.slash("buttons")).wait_done()
    assert shown.message.custom_ids == ["sample:click"]
    click = await (await fake.component("sample:click", message=shown)).wait_done()
    assert click.callback_type == 7
    assert shown.message.content == "clicked by bob"
    assert shown.message.components == []


@module_loop
@pytest.mark.e2e
async def test_attachment_download_and_upload(fake: FakeDiscord) -> None:
    """The bot downloads a type 11 attachment from the fake and answers with a multipart file."""
    reply = await (await fake.slash("upload", attachments={"file": FakeFile("notes.txt", b"hello")})
                   ).wait_done()
    assert any(path.endswith("/notes.txt") for path in fake.downloads)
    assert reply.content == "got notes.txt 5 bytes"
    assert reply.ephemeral
    [attachment] = reply.attachments
    assert (attachment["filename"], attachment["size"]) == ("reversed.bin", 5)
    assert fake.attachment_bytes(attachment) == b"olleh"
    callback = reply.requests[0]
    assert [(f.filename, f.size) for f in callback.files] == [("reversed.bin", 5)]


@module_loop
@pytest.mark.e2e
async def test_modal_round_trip(fake: FakeDiscord) -> None:
    """A modal (callback type 9) can be submitted back and the bot reads the typed value."""
    opened = await (await fake.slash("feedback")).wait_done()
    assert opened.modal["title"] == "Feedback"
    submitted = await (await fake.modal_submit(opened, {"feedback:text": "great"})).wait_done()
    assert submitted.content == "thanks: great"


@module_loop
@pytest.mark.e2e
async def test_member_chunk_fills_cache(fake: FakeDiscord) -> None:
    """The GUILD_MEMBERS_CHUNK answer to op 8 populates the bot's member cache."""
    reply = await (await fake.slash("members")).wait_done()
    assert reply.content == f"members: {len(fake.world.guild().members)}"


@module_loop
@pytest.mark.e2e
async def test_default_permissions_enforced(fake: FakeDiscord) -> None:
    """Like the Discord client, slash() refuses users lacking default_member_permissions."""
    with pytest.raises(CommandNotAvailable):
        await fake.slash("adminonly", user="bob")
    reply = await (await fake.slash("adminonly", user="alice")).wait_done()
    assert reply.content == "admin ok"


@module_loop
@pytest.mark.e2e
async def test_channel_post_429_is_retried(fake: FakeDiscord) -> None:
    """A 429 with retry_after and Via makes discord.py wait and retry the channel post."""
    fake.inject_429("POST /channels/", retry_after=0.1)
    reply = await (await fake.slash("post", {"text": "rate limited hello"})).wait_done()
    posts = [r for r in fake.requests if r.route.startswith("POST /channels/")
             and r.json["content"] == "rate limited hello"]
    assert [r.status for r in posts] == [429, 200]
    assert reply.content.startswith("posted ")
    assert [m.content for m in fake.channel_messages("general")].count("rate limited hello") == 1


@module_loop
@pytest.mark.e2e
async def test_channel_post_500_is_retried(fake: FakeDiscord) -> None:
    """A 500 is retried by discord.py (after its 1 s back-off)."""
    fake.inject_500("POST /channels/")
    reply = await (await fake.slash("post", {"text": "server error hello"})).wait_done(timeout=8)
    posts = [r for r in fake.requests if r.route.startswith("POST /channels/")
             and r.json["content"] == "server error hello"]
    assert [r.status for r in posts] == [500, 200]
    assert reply.content.startswith("posted ")


@module_loop
@pytest.mark.e2e
async def test_heartbeats_are_recorded_and_acked(fake: FakeDiscord) -> None:
    """Every op 1 is recorded per connection with its arrival time and the bot's last sequence."""
    conn = fake.current_connection()
    await fake.wait_until(lambda: len(conn.heartbeats) >= 3)
    assert all(hb.connection_id == conn.id for hb in conn.heartbeats)
    assert len(fake.heartbeat_gaps(conn)) == len(conn.heartbeats) - 1
    acks = [p for p in conn.received if p.get("op") == 1]
    assert len(acks) == len(conn.heartbeats)


@module_loop
@pytest.mark.e2e
async def test_reconnect_resumes_session(fake: FakeDiscord) -> None:
    """Op 7 makes the bot open a new socket and RESUME (not IDENTIFY); commands keep working."""
    identifies = len(fake.identifies)
    connections = len(fake.connections)
    resumes = len(fake.resumes)
    await fake.send_reconnect()
    await fake.wait_resumed(resumes + 1)
    assert len(fake.connections) == connections + 1
    assert len(fake.identifies) == identifies
    reply = await (await fake.slash("ping")).wait_done()
    assert reply.content == "pong"


@module_loop
@pytest.mark.e2e
async def test_dropped_connection_replays_missed_interaction(fake: FakeDiscord) -> None:
    """An interaction sent while the socket is down is replayed on RESUME and still answered."""
    resumes = len(fake.resumes)
    await fake.drop_connection()
    await fake.wait_until(lambda: not any(c.open for c in fake.connections))
    pending = await fake.slash("ping")
    await fake.wait_resumed(resumes + 1)
    assert (await pending.wait_done()).content == "pong"


@pytest.mark.asyncio
@pytest.mark.e2e
async def test_two_shard_processes_each_get_their_guilds() -> None:
    """Two processes (shard 0/2 and 1/2) identify with their shard; each guild routes to its shard."""
    world = World()
    first = world.add_guild("Shard Zero", shard=(0, 2))
    second = world.add_guild("Shard One", shard=(1, 2))
    world.add_user("bob", guild=first)
    world.add_user("carol", guild=second)
    async with FakeDiscord(world, shard_count=2) as fake:
        zero = BotProcess([sys.executable, SAMPLE_BOT], env=bot_env(fake, SAMPLE_SHARD="0/2"))
        one = BotProcess([sys.executable, SAMPLE_BOT],
                         env=bot_env(fake, SAMPLE_SHARD="1/2", SAMPLE_SYNC="0"))
        async with zero, one:
            await zero.wait_for_output("READY")
            await one.wait_for_output("READY")
            await fake.wait_for_commands()
            assert sorted(s for s in fake.identified_shards if s) == [(0, 2), (1, 2)]
            for session in fake.sessions.values():
                ready = session.events[0]["d"]
                guild_ids = [int(g["id"]) for g in ready["guilds"]]
                assert ready["shard"] == list(session.shard or ())
                assert guild_ids == [first.id] if session.shard == (0, 2) else [second.id]
            replies = [await fake.slash("ping", guild=first), await fake.slash("ping", guild=second)]
            for reply in replies:
                assert (await reply.wait_done()).content == "pong"
            zero.assert_no_errors()
            one.assert_no_errors()
        fake.assert_no_errors()


@pytest.mark.asyncio
@pytest.mark.e2e
async def test_autosharded_bot_asks_gateway_bot() -> None:
    """An AutoShardedBot without a shard count reads GET /gateway/bot and identifies as [0, 1]."""
    async with FakeDiscord(World.default()) as fake:
        async with BotProcess([sys.executable, SAMPLE_BOT], env=bot_env(fake, SAMPLE_SHARD="auto")) as bot:
            await bot.wait_for_output("READY")
            assert any(r.route == "GET /gateway/bot" for r in fake.requests)
            assert fake.identified_shards == [(0, 1)]
            assert (await (await fake.slash("ping")).wait_done()).content == "pong"
            bot.assert_no_errors()
        fake.assert_no_errors()


@pytest.mark.asyncio
async def test_raw_gateway_handshake_and_content_intent(bare_fake: FakeDiscord) -> None:
    """HELLO, IDENTIFY -> READY + GUILD_CREATE with rising `s`; no MESSAGE_CONTENT intent: no content."""
    fake = bare_fake
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
            hello = await ws.receive_json()
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250
            await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1 << 9,
                                               "properties": {}}})
            ready, guild_create = await ws.receive_json(), await ws.receive_json()
            assert (ready["t"], ready["s"], guild_create["t"], guild_create["s"]) == (
                "READY", 1, "GUILD_CREATE", 2)
            assert ready["d"]["resume_gateway_url"] == fake.gateway_url
            assert [m["user"]["id"] for m in guild_create["d"]["members"]] == [
                str(fake.world.bot.id)]
            await fake.user_message("secret words")
            await fake.user_message(f"{fake.world.bot.mention} hello")
            plain, mention = await ws.receive_json(), await ws.receive_json()
            assert (plain["t"], plain["d"]["content"]) == ("MESSAGE_CREATE", "")
            assert mention["d"]["content"].endswith("hello")
        async with session.ws_connect(fake.gateway_url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
            closing = await ws.receive()
            assert ws.close_code == 4004, closing


# -- raw HTTP: what the fake answers and rejects ---------------------------------------------


@pytest.mark.asyncio
async def test_json_and_rate_limit_headers(bare_fake: FakeDiscord) -> None:
    """Responses say exactly application/json and carry the rate-limit headers discord.py reads."""
    status, headers, body = await http(bare_fake, "GET", "/users/@me")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset-After",
                 "X-RateLimit-Bucket"):
        assert name in headers
    assert body["id"] == str(bare_fake.world.bot.id)


@pytest.mark.asyncio
async def test_unknown_route_is_404_and_recorded(bare_fake: FakeDiscord) -> None:
    """An unimplemented route answers 404 JSON and lands in `errors`."""
    status, _, body = await http(bare_fake, "GET", "/guilds/1/audit-logs")
    assert (status, body["code"]) == (404, 0)
    assert [e.kind for e in bare_fake.errors] == ["unknown route"]
    with pytest.raises(AssertionError, match="audit-logs"):
        bare_fake.assert_no_errors()


@pytest.mark.asyncio
async def test_bad_token_is_401(bare_fake: FakeDiscord) -> None:
    """REST calls without the bot token are rejected like Discord does."""
    status, _, _ = await http(bare_fake, "GET", "/users/@me", auth=False)
    assert status == 401


@pytest.mark.asyncio
async def test_oversized_message_is_invalid_form_body(bare_fake: FakeDiscord) -> None:
    """Content over 2000 characters gets 400 / 50035 with the field named, and is recorded."""
    channel = bare_fake.world.guild().channel("general")
    status, _, body = await http(bare_fake, "POST", f"/channels/{channel.id}/messages",
                                 json={"content": "x" * 2001})
    assert (status, body["code"]) == (400, 50035)
    assert "content" in body["errors"]
    assert bare_fake.channel_messages(channel) == []


@pytest.mark.asyncio
async def test_select_with_repeated_option_values_is_refused(bare_fake: FakeDiscord) -> None:
    """A select whose options share a value gets 400 / 50035 with Discord's
    SELECT_COMPONENT_OPTION_VALUE_DUPLICATED on its options, and is not stored."""
    channel = bare_fake.world.guild().channel("general")
    options = [{"label": f"Option {n}", "value": value}
               for n, value in enumerate(("p4:20", "p6:32", "p6:32"))]
    select = {"type": 3, "custom_id": "read:pick", "options": options}
    status, _, body = await http(bare_fake, "POST", f"/channels/{channel.id}/messages",
                                 json={"content": "pick", "components": [
                                     {"type": 1, "components": [select]}]})
    assert (status, body["code"]) == (400, 50035)
    [error] = body["errors"]["components"]["0"]["components"]["0"]["options"]["_errors"]
    assert error["code"] == "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED"
    assert bare_fake.channel_messages(channel) == []
    options[2]["value"] = "p7:1"
    status, _, _ = await http(bare_fake, "POST", f"/channels/{channel.id}/messages",
                              json={"content": "pick", "components": [
                                  {"type": 1, "components": [select]}]})
    assert status == 200


@pytest.mark.asyncio
async def test_multipart_channel_post_records_files(bare_fake: FakeDiscord) -> None:
    """payload_json plus files[n] parts become a message with attachments served by the fake."""
    channel = bare_fake.world.guild().channel("general")
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", '{"content": "report", "attachments": [{"id": 0, "filename": "r.png"}]}')
    form.add_field("files[0]", b"\x89PNG....", filename="r.png", content_type="application/octet-stream")
    status, _, body = await http(bare_fake, "POST", f"/channels/{channel.id}/messages", data=form)
    assert status == 200
    [attachment] = body["attachments"]
    assert (attachment["filename"], attachment["size"], attachment["content_type"]) == (
        "r.png", 8, "image/png")
    [request] = bare_fake.requests
    assert request.json["content"] == "report"
    assert [(f.field, f.filename, f.content_type) for f in request.files] == [
        ("files[0]", "r.png", "application/octet-stream")]
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as resp:
        assert await resp.read() == b"\x89PNG...."


@pytest.mark.asyncio
async def test_interaction_rules(bare_fake: FakeDiscord) -> None:
    """Double acks (40060), followups before any ack and late acks (10062) are rejected."""
    fake = bare_fake
    handle = await _raw_interaction(fake)
    callback = f"/interactions/{handle.id}/{handle.token}/callback"
    status, _, _ = await http(fake, "POST", f"/webhooks/{fake.application_id}/{handle.token}?wait=1",
                              auth=False, json={"content": "too early"})
    assert status == 404
    status, _, body = await http(fake, "POST", callback, auth=False, json={"type": 4, "data": {"content": "hi"}})
    assert status == 200
    assert handle.original is not None
    assert body["interaction"]["response_message_id"] == str(handle.original.id)
    status, _, body = await http(fake, "POST", callback, auth=False, json={"type": 4, "data": {"content": "again"}})
    assert (status, body["code"]) == (400, 40060)
    fake.ack_deadline = 0.0
    late = await _raw_interaction(fake)
    status, _, body = await http(fake, "POST", f"/interactions/{late.id}/{late.token}/callback",
                                 auth=False, json={"type": 5})
    assert (status, body["code"]) == (404, 10062)
    assert [e.kind for e in fake.errors] == ["rejected", "rejected", "acknowledged too late"]


async def _raw_interaction(fake: FakeDiscord) -> InteractionHandle:
    """Register a slash interaction without a gateway (no bot) to answer over raw HTTP."""
    guild = fake.world.guild()
    user = fake.default_user(guild)
    payload = fake.interaction_payload(2, {"id": "1", "name": "x", "type": 1}, user=user,
                                       guild=guild, channel=guild.text_channels[0],
                                       locale="en-US", permissions=None)
    return fake.register_interaction(payload, user=user, guild=guild)


@pytest.mark.asyncio
async def test_invalid_command_sync_is_rejected(bare_fake: FakeDiscord) -> None:
    """Upper-case names and over-long descriptions fail the bulk overwrite like on Discord."""
    status, _, body = await http(
        bare_fake, "PUT", f"/applications/{bare_fake.application_id}/commands",
        json=[{"name": "Ping", "description": "d" * 101, "type": 1}])
    assert (status, body["code"]) == (400, 50035)
    assert set(body["errors"]["0"]) == {"name", "description"}
    assert bare_fake.global_commands == []


@pytest.mark.asyncio
async def test_interaction_token_expires_after_its_lifetime(bare_fake: FakeDiscord) -> None:
    """Followups and @original edits work within 15 minutes and are refused (10015) after."""
    fake = bare_fake
    handle = await _raw_interaction(fake)
    await http(fake, "POST", f"/interactions/{handle.id}/{handle.token}/callback", auth=False,
               json={"type": 5})
    hook = f"/webhooks/{fake.application_id}/{handle.token}"
    status, _, _ = await http(fake, "PATCH", hook + "/messages/@original", auth=False,
                              json={"content": "progress"})
    assert status == 200
    fake.expire_token(handle)
    status, _, body = await http(fake, "PATCH", hook + "/messages/@original", auth=False,
                                 json={"content": "too late"})
    assert (status, body["code"]) == (404, 10015)
    assert handle.original is not None and handle.original.content == "progress"
    assert [e.kind for e in fake.errors] == ["token expired"]


@pytest.mark.asyncio
async def test_channel_overwrites_decide_what_the_bot_may_do(bare_fake: FakeDiscord) -> None:
    """A denied Send Messages refuses posts (50013), a denied Read Message History empties
    the history, a hidden channel is Missing Access (50001); the overwrite is in the payload."""
    from .world import READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL

    fake = bare_fake
    world = fake.world
    guild = world.guild()
    news, log, general = (guild.channel(n) for n in ("summit-news", "bot-log", "general"))
    status, _, _ = await http(fake, "POST", f"/channels/{general.id}/messages",
                              json={"content": "visible"})
    assert status == 200
    world.deny(news, SEND_MESSAGES, user=world.bot)
    world.deny(general, READ_MESSAGE_HISTORY, user=world.bot)
    world.deny(log, VIEW_CHANNEL)  # @everyone, and the bot has no allow of its own
    assert news.payload()["permission_overwrites"][0]["deny"] == str(SEND_MESSAGES)
    status, _, body = await http(fake, "POST", f"/channels/{news.id}/messages",
                                 json={"content": "hi"})
    assert (status, body["code"]) == (403, 50013)
    status, _, body = await http(fake, "GET", f"/channels/{general.id}/messages")
    assert (status, body) == (200, [])
    status, _, body = await http(fake, "POST", f"/channels/{log.id}/messages",
                                 json={"content": "hi"})
    assert (status, body["code"]) == (403, 50001)
    world.allow(log, VIEW_CHANNEL, user=world.bot)
    assert guild.channel_permissions_for(world.bot.id, log) & SEND_MESSAGES
    assert guild.channel_permissions_for(guild.owner_id, news) & SEND_MESSAGES  # owner: all


@pytest.mark.asyncio
async def test_dm_to_a_user_with_closed_dms_is_refused(bare_fake: FakeDiscord) -> None:
    """Opening the DM channel works; posting to a user who closed DMs is 403 50007."""
    fake = bare_fake
    bob = fake.world.user("bob")
    bob.dms_open = False
    status, _, channel = await http(fake, "POST", "/users/@me/channels",
                                    json={"recipient_id": str(bob.id)})
    assert status == 200
    status, _, body = await http(fake, "POST", f"/channels/{channel['id']}/messages",
                                 json={"content": "hello"})
    assert (status, body["code"]) == (403, 50007)
