"""Reading a whole topic at start-up: every file of TOPIC_DIR through its loader, so that a
mistake is one line naming the file before anything uses the topic (knowledge/topic.py says
which topic the loaders read; docs/topics.md describes the files)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from knowledge.errors import ConfigurationError
from knowledge.meetings.registry import load_registry
from knowledge.meetings.vocabulary import build_vocabulary, load_places
from knowledge.people.subjects import load_subjects
from knowledge.scope import load_scope
from knowledge.topic import REQUIRED, Topic, select_topic

T = TypeVar("T")


def use_topic(directory: Path | None) -> Topic:
    """Follow the topic in ``directory`` (None: the bundled one) from now on in this process,
    after reading every file of it; ConfigurationError in one line for a folder or file that
    cannot be used, or when this process already follows another topic."""
    topic = Topic(None if directory is None else directory.expanduser().resolve())
    if topic.directory is not None:  # (the bundled files are checked by the tests)
        check_topic(topic)
    select_topic(topic)
    return topic


def check_topic(topic: Topic) -> str:
    """Read and validate every file of a topic; returns one line saying what it holds.
    ConfigurationError naming the folder or the file that cannot be used."""
    if topic.directory is not None and not topic.directory.is_dir():
        what = "is not a folder" if topic.directory.exists() else \
            "does not exist (in Docker: is the folder mounted there?)"
        raise ConfigurationError(f"TOPIC_DIR: {topic.directory} {what}")
    scope_file = topic.file(REQUIRED)
    if scope_file is None:
        raise ConfigurationError(f"TOPIC_DIR: {topic.directory} has no {REQUIRED} (a topic "
                                 "needs at least its title and two parties: docs/topics.md)")
    scope = _read(scope_file, load_scope)
    registry, places, subjects = (topic.file(name) for name in
                                  ("registry.json", "places.json", "subjects.json"))
    meetings = _read(registry, lambda path: load_registry(path, scope)) if registry else ()
    known_places = _read(places, load_places) if places else {}
    officials = _read(subjects, load_subjects) if subjects else ()
    build_vocabulary(scope, known_places, officials)
    missing = topic.missing()
    counts = ", ".join(f"{n} {what}{'s' * (n != 1)}" for n, what in (
        (len(meetings), "meeting"), (len(known_places), "place"), (len(officials), "official")))
    return (f"{scope.title!r} ({topic.describe()}): {counts}"
            + (f"; no {', '.join(missing)}" if missing else ""))


def _read(path: Path, load: Callable[[Path], T]) -> T:
    """One topic file through its loader; what goes wrong is one line naming the file."""
    try:
        return load(path)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
    except KeyError as exc:
        problem = f"an entry lacks the field {exc}"
    except OSError as exc:
        problem = f"cannot read it ({exc.strerror or exc})"
    except (TypeError, AttributeError) as exc:  # a list where an object belongs, or the like
        problem = f"not in the shape docs/topics.md describes ({exc})"
    except ValueError as exc:  # the scope's and registry's checks (which may name the file)
        problem = " ".join(str(exc).split()).removeprefix(f"{path}: ") or type(exc).__name__
    raise ConfigurationError(f"TOPIC_DIR: {path}: {problem}")
