"""What the question reader recognises, compiled from data only: the stored experts and their
roles, the meetings (the registry as stored), and the topic's scope, places and officials
(knowledge/meetings/vocabulary.py). A new topic works by adding data, never code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from knowledge.meetings.vocabulary import Vocabulary
from knowledge.people.names import name_tokens
from knowledge.text.tokens import tokenize

# Words that say a meeting is meant (generic English); some also name one ("forum").
MEETING_NOUNS = frozenset(tokenize(
    "meeting meetings summit summits visit visits visited trip trips talks meet met gathering "
    "forum format ministerial session sidelines conference encounter negotiations round"))
# Nouns that say a person is meant ("the Kyoto professor"); generic English.
PERSON_NOUNS = frozenset(tokenize(
    "professor fellow director chairman chairwoman chair president head researcher lecturer "
    "editor analyst dean scholar ambassador adviser advisor founder expert chief historian "
    "economist specialist rector commentator academic author writer observer journalist "
    "columnist scientist diplomat"))
# Words that ask about a meeting or a person rather than say what about ("What did Togo
# write about the Lima meeting?"): meeting and person nouns and verbs of saying.
ASKING_WORDS = MEETING_NOUNS | PERSON_NOUNS | frozenset(tokenize(
    "view views opinion opinions comment comments write wrote written writes argue argued "
    "argues believe believed explain explained describe described discuss discussed mention "
    "mentioned expect expected expectations mean meant analysis commentary experts "
    "interview interviews article articles piece essay paper compare compared comparison "
    "versus vs"))


@dataclasses.dataclass(frozen=True, slots=True)
class ExpertEntry:
    """A stored expert as the reader knows them: name, every role the texts give them."""

    id: int
    name: str
    roles: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingEntry:
    """A registry meeting as the reader knows it."""

    id: str
    name: str
    start: dt.date
    end: dt.date
    place: str
    kind: str
    ordinal: int | None = None
    participants: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""


_NAME_WORD = re.compile(r"\b[A-Z][\w'’-]*")


def _idf(bags: Sequence[Iterable[str]]) -> dict[str, float]:
    """Inverse frequency of each word across the bags (a word in every bag weighs least)."""
    df: Counter[str] = Counter(w for bag in bags for w in set(bag))
    n = len(bags)
    return {w: math.log(1.0 + n / c) for w, c in df.items()}


def _rare(bags: Sequence[Iterable[str]]) -> frozenset[str]:
    """Words found in at most a quarter of the bags (in one, when there are few)."""
    df: Counter[str] = Counter(w for bag in bags for w in set(bag))
    return frozenset(w for w, c in df.items() if c <= max(1, len(bags) // 4))


@dataclasses.dataclass(frozen=True, eq=False)
class QuestionVocabulary:
    """Experts, meetings and topic words, with the word weights the reader scores them by."""

    topic: Vocabulary
    experts: tuple[ExpertEntry, ...]
    meetings: tuple[MeetingEntry, ...]
    expert_words: tuple[frozenset[str], ...]  # role words (stems) per expert
    official_words: tuple[frozenset[str], ...]  # office words per official (subjects.json)
    role_idf: Mapping[str, float]  # over experts' roles and officials' offices
    place_words: frozenset[str]  # places and the parties' names: common in descriptions
    surnames: Mapping[str, tuple[int, ...]]  # folded surname -> expert positions
    meeting_words: tuple[frozenset[str], ...]  # what names the meeting
    meeting_context: tuple[frozenset[str], ...]  # who took part, their offices, the country
    meeting_idf: Mapping[str, float]
    rare_meeting_words: frozenset[str]  # words naming at most a quarter of the meetings
    aliases: tuple[tuple[re.Pattern[str], int], ...]  # alias phrase -> meeting position
    any_alias: re.Pattern[str] | None  # matches where some alias does (None: no aliases)
    format_words: Mapping[str, frozenset[str]]  # format kind -> words of its description
    # The library's publishers' names ("East Asia Forum"): they name no meeting (None: none)
    publishers: re.Pattern[str] | None = None
    # Names a question may carry: cities, the two parties, officials and meeting participants
    # ("Tokyo", "Japanese", "Putin"); None: no names
    names: re.Pattern[str] | None = None
    # The countries each meeting was held in, from its place (places.json): "the summit in
    # Japan" (() when built without them)
    meeting_countries: tuple[frozenset[str], ...] = ()

    def names_in(self, question: str) -> tuple[str, tuple[str, ...]] | None:
        """The names the question carries, alone ("Tokyo"), and the words it says besides
        them (["weather"]); None when it names nothing or says nothing else. Words that ask
        about a meeting or a person ("What did Togo say about the Lima meeting?") and figures
        ("2017") are not counted as saying something else."""
        if self.names is None:
            return None
        found = [m.group(0) for m in self.names.finditer(question)]
        if not found:
            return None
        rest = tuple(dict.fromkeys(t for t in tokenize(self.names.sub(" ", question))
                                   if t not in ASKING_WORDS and not t.isdigit()))
        return (" ".join(found), rest) if rest else None

    def meeting(self, meeting_id: str) -> MeetingEntry:
        """A meeting by id."""
        return next(m for m in self.meetings if m.id == meeting_id)


def build_question_vocabulary(topic: Vocabulary, experts: Sequence[ExpertEntry],
                              meetings: Sequence[MeetingEntry],
                              publishers: Sequence[str] = ()) -> QuestionVocabulary:
    """Compile the reader's word tables from the topic, the experts, the meetings and the
    publishers' names."""
    expert_words = tuple(frozenset(w for role in e.roles for w in tokenize(role))
                         for e in experts)
    surnames: dict[str, list[int]] = {}
    for i, e in enumerate(experts):
        tokens = name_tokens(e.name)
        if tokens and len(tokens[-1]) >= 3:
            surnames.setdefault(tokens[-1], []).append(i)
    officials = {s.name: s for s in topic.people.values()}
    official_words = tuple(frozenset(tokenize(s.office)) for s in officials.values())
    formats = {f.kind: f for f in topic.scope.formats}
    # The parties' own names say nothing about which of their meetings is meant.
    scope = topic.scope
    party_words = {w for text in (*scope.bilateral_terms, *(n for p in scope.parties for n in
                                                              (p.country, *p.names, *p.demonyms)))
                   for w in tokenize(text)}
    offices = {s.name: s.office for s in topic.people.values()}
    meeting_words, meeting_context = [], []
    for m in meetings:
        named = [m.name, m.place, *m.aliases]
        named += [place.country for name, place in topic.places.items() if name in m.place]
        for key, pattern in topic.events.items():
            if any(pattern.search(text) for text in (m.name, *m.aliases)):
                named += list(dict(topic.scope.events)[key])
        # The names in them (capitalised words: "Nagato", "Forum", "Naryshkin"), not the
        # common words of an alias ("new approach"); formats and events are matched whole.
        words = {w for text in named for word in _NAME_WORD.findall(text)
                 for w in tokenize(word)} - party_words
        context = {w for text in (*m.participants, *(offices.get(p, "") for p in m.participants),
                                  m.description)
                   for w in tokenize(text)} - words - party_words
        meeting_words.append(frozenset(words))
        meeting_context.append(frozenset(context))
    phrases = [(a, i) for i, m in enumerate(meetings) for a in (m.name, *m.aliases) if len(a) >= 4]
    aliases = tuple((re.compile(rf"(?<![\w-]){re.escape(a)}(?![\w-])", re.IGNORECASE), i)
                    for a, i in phrases)
    # One pass that finds a match wherever any alias would: most questions name no alias, and
    # then the aliases need not be tried one by one.
    any_alias = re.compile(rf"(?<![\w-])(?:{'|'.join(re.escape(a) for a, _ in phrases)})"
                           rf"(?![\w-])", re.IGNORECASE) if phrases else None
    format_words = {kind: frozenset(tokenize(f.description)) - MEETING_NOUNS
                    for kind, f in formats.items()}
    return QuestionVocabulary(
        topic=topic, experts=tuple(experts), meetings=tuple(meetings),
        expert_words=expert_words, official_words=official_words,
        role_idf=_idf([*expert_words, *official_words]),
        place_words=frozenset(w for name in topic.places for w in tokenize(name)) | party_words,
        surnames={k: tuple(v) for k, v in surnames.items()},
        meeting_words=tuple(meeting_words), meeting_context=tuple(meeting_context),
        meeting_idf=_idf([w | c for w, c in zip(meeting_words, meeting_context, strict=True)]),
        rare_meeting_words=_rare([w | c for w, c in zip(meeting_words, meeting_context,
                                                        strict=True)]),
        aliases=aliases, any_alias=any_alias, format_words=format_words,
        publishers=_phrases(publishers), names=_names(topic, meetings),
        meeting_countries=tuple(frozenset(place.country for name, place in topic.places.items()
                                          if not place.is_country and name in m.place)
                                for m in meetings))


def _names(topic: Vocabulary, meetings: Sequence[MeetingEntry]) -> re.Pattern[str] | None:
    """One pattern for every name a question may carry, in any case ("tokyo"), but for
    short capitals ("US", "EU", "U.S."), which must be written so ("tell us" names no one).
    The topic's own names only: experts are a server's (knowledge/visibility.py), and what
    one server stored must not change how another's questions are answered."""
    scope = topic.scope
    # Cities, the two parties and people: a question about a third country ("the Korean
    # Peninsula", "Ukraine") is about that country, one of the library's subjects.
    names = {*(name for name, place in topic.places.items() if not place.is_country),
             *topic.people, *scope.bilateral_terms,
             *(n for p in scope.parties for n in (p.country, *p.names, *p.demonyms)),
             *(p for m in meetings for p in m.participants)}
    names = {" ".join(n.split()) for n in names if n.strip()}
    exact = sorted((n for n in names if len(n.replace(".", "")) <= 4 and n.upper() == n),
                   key=len, reverse=True)
    spelt = sorted(names.difference(exact), key=len, reverse=True)
    parts = [f"(?i:{'|'.join(re.escape(n) for n in spelt)})"] if spelt else []
    parts += [re.escape(n) for n in exact]
    if not parts:
        return None
    return re.compile(rf"(?<![\w-])(?:{'|'.join(parts)})(?![\w-])")


def _phrases(names: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern finding any of the names as whole words, longest first (None: no names).
    Only names of two words or more: a one-word publisher ("Kommersant") is read as a word."""
    names = sorted({" ".join(n.split()) for n in names if len(n.split()) >= 2}, key=len,
                   reverse=True)
    if not names:
        return None
    return re.compile(rf"(?<![\w-])(?:{'|'.join(re.escape(n) for n in names)})(?![\w-])",
                      re.IGNORECASE)
