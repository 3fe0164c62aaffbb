"""Another topic from TOPIC_DIR (docs/topics.md): a library on it through the real CLI and
`bot check`, what a missing or malformed file of it means, and FOUNDING_CORPUS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from knowledge.corpus import founding_metadata
from knowledge.errors import ConfigurationError
from knowledge.settings import Settings
from knowledge.topic import MAX_FILE_BYTES, Topic
from knowledge.topic_check import check_topic

REPO = Path(__file__).resolve().parents[2]

# A made-up pair of countries, written here and nowhere else: the code knows none of it.
SCOPE = {
    "title": "Arvenia–Belmora meetings",
    "parties": [
        {"country": "Arvenia", "names": ["Arvenia"], "demonyms": ["Arvenian"]},
        {"country": "Belmora", "names": ["Belmora"], "demonyms": ["Belmoran"]},
    ],
    "bilateral_terms": ["Arvenia-Belmora"],
    "outside_parties": [{"country": "Quell", "names": ["Quell"], "demonyms": ["Quellish"]}],
    "non_name_words": ["lutz", "veska"],
}
REGISTRY = {"meetings": [
    {"id": "2020-05-lutz-summit", "name": "First Arvenia-Belmora summit in Lutz",
     "date": "2020-05-12", "date_precision": "day", "place": "Lutz", "country": "Arvenia",
     "kind": "summit", "ordinal": 1, "participants": ["Tomas Reyn", "Ilse Grau"],
     "description": "The leaders' first summit.", "aliases": ["Lutz summit"]},
    {"id": "2022-10-veska-summit", "name": "Second Arvenia-Belmora summit in Veska",
     "date": "2022-10-03", "date_precision": "day", "place": "Veska", "country": "Belmora",
     "kind": "summit", "ordinal": 2, "participants": ["Tomas Reyn", "Ilse Grau"],
     "description": "The leaders' second summit.", "aliases": ["Veska summit"]},
]}
PLACES = {"cities": {"Lutz": "Arvenia", "Veska": "Belmora"},
          "countries": {"Arvenia": "Arvenia", "Belmora": "Belmora", "Quell": "Quell"}}
SUBJECTS = {"subjects": [
    {"name": "Tomas Reyn", "country": "Arvenia", "office": "President of Arvenia",
     "aliases": ["Reyn"]},
    {"name": "Ilse Grau", "country": "Belmora", "office": "Chancellor of Belmora",
     "aliases": ["Grau"]},
]}
FILES = {"scope.json": SCOPE, "registry.json": REGISTRY, "places.json": PLACES,
         "subjects.json": SUBJECTS}
ARTICLES = {
    "lutz.md": """---
title: What the Lutz summit may bring
authors: Nora Falk
date: 2020-05-02
---
Nora Falk, Professor of History at the University of Veska, said the first summit in Lutz
would test whether Reyn and Grau can settle the river dispute. Nora Falk expects a joint
statement on shipping and little else before the summer.
""",
    "veska.md": """---
title: After the Veska summit
authors: Emil Sarto
date: 2022-10-20
---
Emil Sarto, Director of the Lutz Centre for Border Studies, said the second summit in Veska
ended with a fisheries deal. Emil Sarto thinks the Arvenia-Belmora thaw will last a year.
""",
}


def write_topic(folder: Path, files: dict[str, Any] = FILES) -> Path:
    """A topic folder holding the given data files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content), encoding="utf-8")
    return folder


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh data dir, the fast test embedder, no developer settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "DATABASE_", "TOPIC_", "FOUNDING_", "EMBEDDING_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), EMBEDDING_MODEL="hashing:256",
               PYTHONPATH=str(REPO), **extra)
    return env


def run(module: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m <module> <args>` in a subprocess (one topic per process) in a bare folder."""
    cwd = Path(env["DATA_DIR"]).parent
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def test_a_library_on_another_topic(tmp_path: Path) -> None:
    """With TOPIC_DIR on a fictional topic and FOUNDING_CORPUS off, a new library holds only
    the articles added to it; a question naming a meeting by its ordinal or its place, and an
    expert by their role, is read in the topic's terms; `bot check` names the topic."""
    topic = write_topic(tmp_path / "topic")
    for name, text in ARTICLES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = environment(tmp_path, TOPIC_DIR=str(topic), FOUNDING_CORPUS="false")

    added = run("knowledge", ["add", *(str(tmp_path / name) for name in ARTICLES)], env)
    assert added.returncode == 0, added.stderr
    listed = run("knowledge", ["list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    titles = {a["title"] for a in json.loads(listed.stdout)}
    assert titles == {"What the Lutz summit may bring", "After the Veska summit"}
    assert not titles & {m["title"] for m in founding_metadata()}

    def reading(question: str) -> dict[str, Any]:
        out = run("knowledge", ["search", question, "--explain", "--json"], env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["interpreted"]  # type: ignore[no-any-return]

    by_ordinal = reading("What did experts expect from the second summit?")
    assert [m["id"] for m in by_ordinal["meetings"]][:1] == ["2022-10-veska-summit"]
    by_place = reading("How did the Lutz summit end?")
    assert [m["id"] for m in by_place["meetings"]][:1] == ["2020-05-lutz-summit"]
    by_role = reading("What did the Veska history professor expect?")
    assert [(p["name"], p["via"]) for p in by_role["people"]] == [("Nora Falk", "role")]

    checked = run("bot", ["check"], {**env, "DISCORD_TOKEN": "x"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    line = next(x for x in checked.stdout.splitlines() if x.startswith("topic:"))
    assert "'Arvenia–Belmora meetings'" in line and str(topic) in line
    assert "2 meetings, 5 places, 2 officials" in line and "founding corpus off" in line


def test_a_malformed_topic_file_is_one_line_naming_it(tmp_path: Path) -> None:
    """A topic file that is not valid JSON stops the CLI with one line naming the file, not a
    traceback, and nothing of the bundled topic is used instead."""
    topic = write_topic(tmp_path / "topic")
    (topic / "registry.json").write_text('{"meetings": [', encoding="utf-8")
    out = run("knowledge", ["list"], environment(tmp_path, TOPIC_DIR=str(topic)))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"error: TOPIC_DIR: {topic / 'registry.json'}: not valid JSON")


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("scope.json", {**SCOPE, "parties": SCOPE["parties"][:1]}, "two different countries"),
    ("scope.json", {"parties": SCOPE["parties"]}, "lacks the field 'title'"),
    ("registry.json", {"meetings": [{**REGISTRY["meetings"][0], "kind": "banquet"}]},
     "unknown kind 'banquet'"),
    ("places.json", {"cities": ["Lutz"]}, "'cities' must be an object"),
    ("subjects.json", {"subjects": [{"name": "Tomas Reyn"}]}, "lacks the field 'country'"),
])
def test_each_malformed_file_is_named(tmp_path: Path, name: str, content: object,
                                      problem: str) -> None:
    """Whichever file is wrong, the error is one line naming it and what is wrong."""
    topic = write_topic(tmp_path / "topic", {**FILES, name: content})
    with pytest.raises(ConfigurationError) as caught:
        check_topic(Topic(topic))
    message = str(caught.value)
    assert "\n" not in message and str(topic / name) in message and problem in message


def test_missing_files_leave_their_part_empty(tmp_path: Path) -> None:
    """Without registry.json, places.json and subjects.json a topic has no meetings, places or
    officials (never the bundled topic's); without scope.json it is refused."""
    topic = write_topic(tmp_path / "topic", {"scope.json": SCOPE})
    assert check_topic(Topic(topic)) == (
        f"'Arvenia–Belmora meetings' (TOPIC_DIR {topic}): 0 meetings, 0 places, 0 officials; "
        "no registry.json, places.json, subjects.json")
    with pytest.raises(ConfigurationError, match=r"has no scope\.json"):
        check_topic(Topic(write_topic(tmp_path / "empty", {})))
    with pytest.raises(ConfigurationError, match=r"absent does not exist \(in Docker: is the "
                                                 r"folder mounted there\?\)"):
        check_topic(Topic(tmp_path / "absent"))  # it said "is not a folder"
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="a-file is not a folder"):
        check_topic(Topic(tmp_path / "a-file"))


def test_founding_corpus_follows_the_topic_unless_set() -> None:
    """FOUNDING_CORPUS unset: on for the bundled topic, off with TOPIC_DIR; set, it decides."""
    def loads(**values: Any) -> bool:
        return Settings(_env_file=None, **values).loads_founding_corpus  # type: ignore[call-arg]

    assert loads() and not loads(topic_dir="/topics/eu-china")
    assert not loads(founding_corpus=False)
    assert loads(topic_dir="/topics/eu-china", founding_corpus=True)
    assert loads(founding_corpus="") and not loads(topic_dir="/t", founding_corpus="")


def test_the_examples_of_docs_topics_make_a_valid_topic(tmp_path: Path) -> None:
    """The four examples docs/topics.md gives, written to a folder, are a topic that loads."""
    text = (REPO / "docs" / "topics.md").read_text(encoding="utf-8")
    examples = {}
    for heading, block in re.findall(r"^### (\S+\.json):.*?^```json\n(.*?)^```", text,
                                     re.MULTILINE | re.DOTALL):
        examples[heading] = json.loads(block)
    assert sorted(examples) == sorted(FILES)
    topic = write_topic(tmp_path / "topic", examples)
    assert check_topic(Topic(topic)).startswith(
        f"'Arvenia–Belmora meetings' (TOPIC_DIR {topic}): 1 meeting, 6 places, 2 officials")


def _meeting(**changes: object) -> dict[str, Any]:
    """registry.json with its first meeting changed."""
    return {"meetings": [{**REGISTRY["meetings"][0], **changes}]}


def _refusal(topic: Path, name: str) -> str:
    """The one-line refusal of a topic, checked to name ``name`` of it."""
    with pytest.raises(ConfigurationError) as caught:
        check_topic(Topic(topic))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TOPIC_DIR: {topic / name}: "), message
    return message


@pytest.mark.parametrize(("changes", "field"), [
    ({"id": 5}, "'id'"), ({"id": " "}, "'id'"), ({"ordinal": 10**30}, "'ordinal'"),
    ({"ordinal": [1]}, "'ordinal'"), ({"ordinal": "first"}, "'ordinal'"),
    ({"ordinal": float("nan")}, "'ordinal'"), ({"ordinal": 0}, "'ordinal'"),
    ({"ordinal": True}, "'ordinal'"), ({"place": 5}, "'place'"),
    ({"aliases": "Lutz summit"}, "'aliases'"), ({"participants": "Tomas Reyn"}, "'participants'"),
    ({"name": 5}, "'name'"), ({"description": 5}, "'description'"),
])
def test_a_meeting_field_of_the_wrong_type_is_refused(tmp_path: Path, changes: dict[str, object],
                                                      field: str) -> None:
    """Every registry field's type and range is checked when the topic is read, naming the
    file, the meeting and the field: what passes is stored as it is, so an integer id or an
    ordinal too large for SQLite would otherwise break every later start."""
    topic = write_topic(tmp_path / "topic", {**FILES, "registry.json": _meeting(**changes)})
    message = _refusal(topic, "registry.json")
    assert "meeting #1" in message and field in message


def test_an_integer_meeting_id_never_reaches_the_database(tmp_path: Path) -> None:
    """A registry meeting whose id is a number stops the first start with one line naming
    registry.json, instead of being stored and failing every later start on the database."""
    topic = write_topic(tmp_path / "topic", {**FILES, "registry.json": _meeting(id=5)})
    env = environment(tmp_path, TOPIC_DIR=str(topic))
    for _ in range(2):
        out = run("knowledge", ["summits"], env)
        assert out.returncode == 2, out.stdout + out.stderr
        assert out.stderr.startswith(f"error: TOPIC_DIR: {topic / 'registry.json'}: meeting #1")


@pytest.mark.parametrize(("name", "content"), [
    ("places.json", {"cities": {"": "Arvenia", "Lutz": "Arvenia"}}),
    ("places.json", {"cities": {"Lutz": "Arvenia"}, "countries": {" ": "Belmora"}}),
    ("places.json", {"cities": {"-": "Arvenia"}}),
    ("subjects.json", {"subjects": [{**SUBJECTS["subjects"][0], "aliases": ["", "Reyn"]}]}),
    ("subjects.json", {"subjects": [{**SUBJECTS["subjects"][0], "aliases": ["."]}]}),
    ("scope.json", {**SCOPE, "formats": {"dash": {"terms": ["-"]}}}),
    ("scope.json", {**SCOPE, "formats": {"": {"terms": ["dash"]}}}),
    ("scope.json", {**SCOPE, "bilateral_terms": ["-"]}),
    ("registry.json", _meeting(aliases=["", "Lutz summit"])),
])
def test_an_empty_or_punctuation_name_is_refused(tmp_path: Path, name: str,
                                                 content: object) -> None:
    """A name or term with no letter or digit (empty, blank, "-") would make the patterns built
    from it match in every text: it is refused, naming the file."""
    topic = write_topic(tmp_path / "topic", {**FILES, name: content})
    assert "letter or digit" in _refusal(topic, name)


def test_the_bundled_topic_passes_every_check() -> None:
    """The bundled files pass the checks a TOPIC_DIR's files get (no empty names, types)."""
    assert check_topic(Topic()).startswith("'Russia–Japan meetings' (bundled): 11 meetings")


def test_a_topic_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    """A topic file over MAX_FILE_BYTES is refused before it is read, naming it and its size
    (parsing JSON takes many times a file's size in memory)."""
    topic = write_topic(tmp_path / "topic")
    size = MAX_FILE_BYTES + 1
    (topic / "registry.json").write_text('{"meetings": []}'.ljust(size), encoding="utf-8")
    message = _refusal(topic, "registry.json")
    assert f"{size:,} bytes" in message and "limit" in message


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("subjects.json", {"subjects": [{**SUBJECTS["subjects"][0], "name": ""}]}, "'name'"),
    ("subjects.json", {"subjects": [{**SUBJECTS["subjects"][0], "name": " "}]}, "'name'"),
    ("subjects.json", {"subjects": [{**SUBJECTS["subjects"][0], "name": 5}]}, "'name'"),
    ("scope.json", {**SCOPE, "title": ["a"]}, "'title'"),
    ("scope.json", {**SCOPE, "title": 5}, "'title'"),
    ("registry.json", "[" * 100_000, "nested too deeply"),
    ("scope.json", "[" * 100_000, "nested too deeply"),
    ("places.json", b'{"cities": {"L\xfctz": "Arvenia"}}', "not UTF-8 (byte 0xfc"),
])
def test_each_fault_names_its_own_file(tmp_path: Path, name: str, content: object,
                                       problem: str) -> None:
    """Faults that raised IndexError, AttributeError or RecursionError, or blamed another
    file, are one line naming the right file and the fault."""
    topic = write_topic(tmp_path / "topic", {**FILES, name: {}})
    path = topic / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding="utf-8")
    assert problem in _refusal(topic, name)


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    """A UTF-8 file starting with a byte-order mark (as Windows editors write) is read."""
    topic = write_topic(tmp_path / "topic")
    path = topic / "scope.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert check_topic(Topic(topic)).startswith("'Arvenia–Belmora meetings'")


@pytest.mark.parametrize(("name", "make", "problem"), [
    ("registry.json", lambda path: path.symlink_to("/dev/zero"), "not a regular file"),
    ("scope.json", lambda path: path.symlink_to("/dev/zero"), "not a regular file"),
    ("places.json", lambda path: path.symlink_to(path.parent / "nowhere"), "does not exist"),
    ("places.json", lambda path: path.mkdir(), "not a regular file (a folder)"),
    ("subjects.json", lambda path: os.mkfifo(path), "not a regular file"),
])
def test_a_topic_file_that_is_not_a_regular_file_says_so(
        tmp_path: Path, name: str, make: Callable[[Path], None], problem: str) -> None:
    """A device, dangling symlink, folder or FIFO in a topic file's place is one line saying
    what it is, not a silently empty part; a FIFO is never waited on."""
    files = {k: v for k, v in FILES.items() if k != name}
    topic = write_topic(tmp_path / "topic", files)
    make(topic / name)
    assert problem in _refusal(topic, name)
