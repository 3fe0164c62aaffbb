"""Discord's documented payload limits, checked the way the API does (400, code 50035)."""

from __future__ import annotations

import re
from typing import Any

# "errors" maps a dotted field path to a message; the server turns it into Discord's nested shape.
Problems = dict[str, str]

DUPLICATE_OPTION_VALUES = "Select component option values must be unique"
# The error code Discord gives a message (BASE_TYPE_INVALID for any other).
ERROR_CODES = {DUPLICATE_OPTION_VALUES: "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED"}

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
BUTTON = 2
TEXT_INPUT = 4
ACTION_ROW = 1
SELECT_TYPES = {3, 5, 6, 7, 8}
V2_LAYOUT_TYPES = {9, 10, 11, 12, 13, 14, 17, 18}
IS_COMPONENTS_V2 = 1 << 15


def _length(problems: Problems, path: str, value: Any, limit: int, minimum: int = 0) -> None:
    if value is None:
        return
    text = str(value)
    if len(text) > limit:
        problems[path] = f"Must be {limit} or fewer in length."
    elif len(text) < minimum:
        problems[path] = f"Must be {minimum} or more in length."


def validate_embeds(embeds: list[dict[str, Any]], problems: Problems) -> None:
    """Embed count, per-field and 6000-character total limits."""
    if len(embeds) > 10:
        problems["embeds"] = "Must be 10 or fewer in length."
    total = 0
    for i, embed in enumerate(embeds):
        p = f"embeds.{i}"
        _length(problems, f"{p}.title", embed.get("title"), 256)
        _length(problems, f"{p}.description", embed.get("description"), 4096)
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        _length(problems, f"{p}.footer.text", footer.get("text"), 2048)
        _length(problems, f"{p}.author.name", author.get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems[f"{p}.fields"] = "Must be 25 or fewer in length."
        for j, fld in enumerate(fields):
            _length(problems, f"{p}.fields.{j}.name", fld.get("name"), 256, 1)
            _length(problems, f"{p}.fields.{j}.value", fld.get("value"), 1024, 1)
        for url_key in ("url",):
            url = embed.get(url_key)
            if url is not None and not str(url).startswith(("http://", "https://")):
                problems[f"{p}.{url_key}"] = "Not a well formed URL."
        total += sum(
            len(str(x or ""))
            for x in (embed.get("title"), embed.get("description"), footer.get("text"), author.get("name"))
        )
        total += sum(len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in fields)
    if total > 6000:
        problems["embeds"] = "Embed size exceeds maximum size of 6000"


def _walk_components(components: list[dict[str, Any]], problems: Problems, path: str) -> None:
    for i, comp in enumerate(components):
        p = f"{path}.{i}"
        ctype = comp.get("type")
        if ctype == BUTTON:
            _length(problems, f"{p}.label", comp.get("label"), 80)
            if comp.get("style") == 5:
                if not comp.get("url"):
                    problems[f"{p}.url"] = "Link buttons require a url."
            elif comp.get("style") != 6 and not comp.get("custom_id"):
                problems[f"{p}.custom_id"] = "This field is required"
        if ctype in SELECT_TYPES or ctype in (BUTTON, TEXT_INPUT):
            _length(problems, f"{p}.custom_id", comp.get("custom_id"), 100)
        if ctype == 3:
            options = comp.get("options") or []
            if not 1 <= len(options) <= 25:
                problems[f"{p}.options"] = "Must be between 1 and 25 in length."
            for j, option in enumerate(options):
                _length(problems, f"{p}.options.{j}.label", option.get("label"), 100, 1)
                _length(problems, f"{p}.options.{j}.value", option.get("value"), 100, 1)
                _length(problems, f"{p}.options.{j}.description", option.get("description"), 100)
            values = [option.get("value") for option in options]
            if len(set(values)) != len(values):
                problems[f"{p}.options"] = DUPLICATE_OPTION_VALUES
        if ctype == ACTION_ROW:
            children = comp.get("components") or []
            if not 1 <= len(children) <= 5:
                problems[f"{p}.components"] = "Must be between 1 and 5 in length."
            _walk_components(children, problems, f"{p}.components")
        elif "components" in comp:
            _walk_components(comp["components"], problems, f"{p}.components")
        if isinstance(comp.get("accessory"), dict):
            _walk_components([comp["accessory"]], problems, f"{p}.accessory")
        if isinstance(comp.get("component"), dict):
            _walk_components([comp["component"]], problems, f"{p}.component")


def validate_components(components: list[dict[str, Any]], flags: int, problems: Problems) -> None:
    """Top-level row count and per-component limits."""
    if not flags & IS_COMPONENTS_V2:
        if len(components) > 5:
            problems["components"] = "Must be 5 or fewer in length."
        for i, comp in enumerate(components):
            if comp.get("type") != ACTION_ROW:
                problems[f"components.{i}.type"] = "Top-level components must be action rows."
    _walk_components(components, problems, "components")


def validate_message(
    body: dict[str, Any], *, file_count: int, existing_attachments: int = 0, is_edit: bool = False
) -> Problems:
    """Problems Discord would report for a message create/edit body (empty dict = valid)."""
    problems: Problems = {}
    content = body.get("content")
    flags = int(body.get("flags") or 0)
    _length(problems, "content", content, 2000)
    embeds = body.get("embeds") or []
    validate_embeds(embeds, problems)
    components = body.get("components") or []
    validate_components(components, flags, problems)
    if file_count > 10:
        problems["files"] = "Must be 10 or fewer in length."
    if flags & IS_COMPONENTS_V2 and (content or embeds):
        problems["content"] = "The 'content' and 'embeds' fields cannot be used with IS_COMPONENTS_V2."
    if not is_edit:
        has_body = bool(content) or embeds or components or file_count or body.get("sticker_ids")
        has_body = has_body or body.get("poll")
        if not has_body:
            problems["_message"] = "Cannot send an empty message"
    return problems


def validate_choices(choices: Any) -> Problems:
    """Autocomplete result limits: up to 25 choices, names 1-100 characters, string values <= 100."""
    problems: Problems = {}
    if not isinstance(choices, list):
        problems["data.choices"] = "This field is required"
        return problems
    if len(choices) > 25:
        problems["data.choices"] = "Must be 25 or fewer in length."
    for i, choice in enumerate(choices):
        _length(problems, f"data.choices.{i}.name", choice.get("name"), 100, 1)
        value = choice.get("value")
        if isinstance(value, str):
            _length(problems, f"data.choices.{i}.value", value, 100)
    return problems


def _validate_options(options: list[dict[str, Any]], problems: Problems, path: str) -> None:
    if len(options) > 25:
        problems[path] = "Must be 25 or fewer in length."
    seen: set[str] = set()
    optional_seen = False
    for i, opt in enumerate(options):
        p = f"{path}.{i}"
        name = opt.get("name", "")
        if not COMMAND_NAME.match(name) or name != name.lower():
            problems[f"{p}.name"] = "Command name is invalid"
        if name in seen:
            problems[f"{p}.name"] = "Option names must be unique"
        seen.add(name)
        _length(problems, f"{p}.description", opt.get("description"), 100, 1)
        choices = opt.get("choices") or []
        if len(choices) > 25:
            problems[f"{p}.choices"] = "Must be 25 or fewer in length."
        if opt.get("type") in (1, 2):
            _validate_options(opt.get("options") or [], problems, f"{p}.options")
            continue
        if opt.get("required"):
            if optional_seen:
                problems[f"{p}.required"] = "Required options must be placed before non-required options"
        else:
            optional_seen = True


def validate_commands(commands: list[dict[str, Any]]) -> Problems:
    """Bulk-overwrite limits: names, descriptions, options, duplicates, 100 chat-input commands."""
    problems: Problems = {}
    seen: set[tuple[str, int]] = set()
    chat_input = 0
    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        name = cmd.get("name", "")
        if ctype == 1:
            chat_input += 1
            if not COMMAND_NAME.match(name) or name != name.lower():
                problems[f"{i}.name"] = "Command name is invalid"
            _length(problems, f"{i}.description", cmd.get("description"), 100, 1)
            _validate_options(cmd.get("options") or [], problems, f"{i}.options")
        else:
            _length(problems, f"{i}.name", name, 32, 1)
        if (name, ctype) in seen:
            problems[f"{i}.name"] = "Application command names must be unique"
        seen.add((name, ctype))
    if chat_input > 100:
        problems["_commands"] = "Maximum number of application commands reached (100)"
    return problems


def form_errors(problems: Problems) -> dict[str, Any]:
    """Discord's nested `errors` object for an Invalid Form Body response."""
    root: dict[str, Any] = {}
    for path, message in problems.items():
        node = root
        for part in path.split("."):
            node = node.setdefault(part, {})
        code = ERROR_CODES.get(message, "BASE_TYPE_INVALID")
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return root
