"""Read a question for who, when and which meeting it means: `interpret(question, vocabulary)`.

People: an expert's name or surname in any spelling, or a description next to a person noun
("the Kyoto professor", "the former foundation president") matched against the roles the
texts give each expert. Meetings: a registry alias, an ordinal ("the 17th meeting"), a format
as the scope spells or describes it ("the ministers' joint format"), an event ("APEC"), or the
words that name a meeting (its place, name, participants). Time: years, months, seasons, "early
2014", and relative phrases hung on a meeting ("before the Lima summit", "the year after the
Olympics", "two months before the G20", "the year of the Olympics"). Every topic word comes from the vocabulary (data); a reading is evidence for the
ranking, never a filter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal, overload

from knowledge.people.names import match_names, name_tokens
from knowledge.text.months import MONTH_NAMES, MONTHS
from knowledge.text.tokens import STOP_WORDS, stem, tokenize
from knowledge.understand.times import (
    Offset,
    Period,
    Relation,
    Side,
    anchored_periods,
    explicit_periods,
    is_day_of_month,
    neighbour_before,
    relation_before,
)
from knowledge.understand.vocabulary import (
    ASKING_WORDS,
    MEETING_NOUNS,
    PERSON_NOUNS,
    MeetingEntry,
    QuestionVocabulary,
)

# A role word counts only this many words away from a person noun ("professor ... Kyoto").
ROLE_WINDOW = 4
ROLE_CLARITY = 1.0
# Scores of the meeting signals; a meeting is read at MEETING_MIN and above.
ALIAS_SCORE = 3.0
ORDINAL_SCORE = 4.0
FORMAT_SCORE = 3.0
EVENT_SCORE = 3.0
MEETING_MIN = 2.0
RELATIVE = 0.6  # readings below this share of the best are dropped (people and meetings)
MAX_MEETINGS = 3
PEOPLE_RELATIVE = 0.7  # a described expert is read beside the best one above this share
FORMAT_WORD = stem("format")
_ORDINAL = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)\b", re.IGNORECASE)
# Ordinals in words: "the seventeenth meeting", "their twenty-fifth summit".
_UNITS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
          "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth").split()
_TENS = "twent thirt fort fift sixt sevent eight ninet".split()  # twenty/twentieth, ...
_ORDINAL_WORD = re.compile(
    rf"\b(?:(?P<tens>{'|'.join(_TENS)})(?:ieth|y[\s-]*(?P<unit>{'|'.join(_UNITS[:9])}))"
    rf"|(?P<alone>{'|'.join(_UNITS)}))\b", re.IGNORECASE)
# An ordinal that counts something else: "the 17th century", "the 25th anniversary".
_NOT_A_MEETING = re.compile(r"[\s-]+(?:centur(?:y|ies)|anniversar(?:y|ies)|birthdays?|years?|"
                            r"days?|times?|rounds?|sessions?|congress(?:es)?|editions?|"
                            r"amendments?|articles?|paragraphs?|generations?|places?|floors?|"
                            r"decades?|percent|per\s+cent|half|halves|quarters?)\b",
                            re.IGNORECASE)
# Between an ordinal and the format it counts: "the third 2+2", "the 2nd Russia-Japan 2+2".
_FORMAT_ORDINAL = re.compile(r"[\s-]+(?:[\w'’-]+\s+){0,2}?", re.IGNORECASE)
# A meeting's noun phrase before where its date or place was found ("before the Moscow summit
# in <January 2019>"): its relation word stands before the phrase, not before the date.
_PHRASE_BEFORE = re.compile(r"(?<![\w'’-])(?:(?:the|a|an|his|her|their)\s+)?"
                            r"(?:(?!(?:before|after|since|following|ahead|prior|until|preceding|"
                            r"during|at|in|of)\b)[\w'’-]+\s+){0,3}?"
                            r"(?:summit|meeting|visit|talks|forum|conference)s?\s+"
                            r"(?:in|at|of|on)\s+(?:[\w'’-]+\s+(?:in|on)\s+)?$", re.IGNORECASE)
_WORD = re.compile(r"[\w][\w'’\-]*")
_YEAR_NEXT = re.compile(r"\.?,?\s+(?:of\s+)?(?:19|20)\d\d\b")
# Between a name and a person noun describing it: "Togo, the former" (a comma, no "and").
_APPOSITION = re.compile(r"[’']?s?\s*,[^,;:.?!]*")
_JOINED = re.compile(r"\b(?:and|or|with|than|versus|vs|nor)\b", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class PersonReading:
    """An expert the question names or describes."""

    expert_id: int
    name: str
    via: str  # "name" or "role"
    words: tuple[str, ...] = ()  # the question's words that matched


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingReading:
    """A meeting the question names, and whether it asks about before or after it."""

    meeting_id: str
    name: str
    start: dt.date
    end: dt.date
    side: Side | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Interpretation:
    """Who, when and which meeting a question was read to be about (empty parts unknown)."""

    people: tuple[PersonReading, ...] = ()
    # Date windows, apart from each other and in date order: "in 2015 and 2019" is two.
    windows: tuple[Period, ...] = ()
    meetings: tuple[MeetingReading, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.people or self.windows or self.meetings)

    @property
    def window(self) -> Period | None:
        """The span from the first window's start to the last one's end (None without any)."""
        if not self.windows:
            return None
        if len(self.windows) == 1:
            return self.windows[0]
        return Period(self.windows[0].start, self.windows[-1].end,
                      " / ".join(w.label for w in self.windows))

    def describe(self) -> str:
        """One line for people: "read as: <expert> · <month year> · <meeting>" ("" if empty),
        so a user can see the reading and correct it with filters."""
        parts = []
        if self.people:
            parts.append(" / ".join(p.name for p in self.people))
        if self.windows:
            parts.append(" / ".join(w.label for w in self.windows))
        if self.meetings:
            parts.append(" / ".join(f"{m.side} {m.name}" if m.side else m.name
                                    for m in self.meetings))
        return "read as: " + " · ".join(parts) if parts else ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's `interpreted`)."""
        return {
            "people": [{"expert_id": p.expert_id, "name": p.name, "via": p.via,
                        "words": list(p.words)} for p in self.people],
            "window": _period_json(self.window) if self.window else None,
            "windows": [_period_json(w) for w in self.windows],
            "meetings": [{"id": m.meeting_id, "name": m.name, "side": m.side}
                         for m in self.meetings],
            "line": self.describe(),
        }


def interpret(question: str, vocabulary: QuestionVocabulary,
              experts: Collection[int] | None = None) -> Interpretation:
    """Read a question's people, time window and meetings from the vocabulary's data; people
    only among `experts` (ids; None: every expert), the ones the asker may see."""
    words = _stems(question, raw=True)  # read once, for people and for meetings
    periods = explicit_periods(question)
    people = _people(question, vocabulary, words, experts)
    # A publisher's name ("the East Asia Forum article") names no meeting (the Eastern
    # Economic Forum): the meetings are read with it blanked out, offsets kept.
    unnamed = vocabulary.publishers.sub(lambda m: " " * len(m.group(0)), question) \
        if vocabulary.publishers is not None else question
    if unnamed != question:
        meetings, relations = _meetings(unnamed, vocabulary, _stems(unnamed, raw=True), periods)
    else:
        meetings, relations = _meetings(question, vocabulary, words, periods)
    readings = []
    for index, _at in meetings:
        m = vocabulary.meetings[index]
        relation = relations.get(index)
        side: Side | None = None
        if isinstance(relation, Offset):
            # "the year before the Moscow 2019 summit", "a year before Abe's Moscow visit in
            # April 2017": its own date only names the meeting; "two years before it" is
            # 2017, "a month after the 2+2" April 2017.
            own = [p for p in periods if _names_the_day(p, m)]
            periods = [p for p in periods if p not in own]
            periods.append(relation.period(m.start, m.end, month=any(
                (p.end - p.start).days < 31 for p in own)))
            side = relation.side
        elif relation is not None:
            side = relation
        readings.append(MeetingReading(m.id, m.name, m.start, m.end, side))
    if (between := _between(readings)) is not None:
        # "between Putin's visit to Japan and the Moscow summit in 2019": a date a meeting
        # with a side is named by gives way to the time between the two
        sided = [r for r in readings if r.side is not None]
        periods = [p for p in periods if not any(_names_the_day(p, r) for r in sided)]
        if not periods:
            periods = [between]
    if not periods and readings:
        periods = anchored_periods(question, readings[0].start.year)
    return Interpretation(tuple(people), windows_of(periods), tuple(readings))


def _names_the_day(period: Period, meeting: MeetingEntry | MeetingReading) -> bool:
    """Whether a period is a date the meeting is named by ("the Moscow visit in April
    2017"): one that holds its first day and is no longer than a year."""
    return period.start <= meeting.start <= period.end \
        and (period.end - period.start).days <= 366


def _between(readings: Sequence[MeetingReading]) -> Period | None:
    """"After the Nagato summit and before the April visit": the time between them (from the
    end of the first meeting asked after to the start of the last one asked before)."""
    afters = [m.end for m in readings if m.side == "after"]
    befores = [m.start for m in readings if m.side == "before"]
    if not afters or not befores:
        return None
    start, end = min(afters) + dt.timedelta(days=1), max(befores) - dt.timedelta(days=1)
    if start > end:
        return None
    return Period(start, end, f"{_day(start)} – {_day(end)}")


def _day(day: dt.date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def windows_of(periods: Collection[Period]) -> tuple[Period, ...]:
    """The periods as date windows: overlapping or touching ones joined ("November 2016" and
    "December 2016"; "2016" and "December 2016" is 2016), separate ones kept apart, in date
    order."""
    windows: list[list[Period]] = []
    for period in sorted(periods, key=lambda p: (p.start, p.end)):
        if windows and period.start <= max(p.end for p in windows[-1]) + dt.timedelta(days=1):
            windows[-1].append(period)
        else:
            windows.append([period])
    out = []
    for group in windows:
        start, end = group[0].start, max(p.end for p in group)
        whole = next((p for p in group if p.start == start and p.end == end), None)
        if whole is not None:  # one of them covers the others
            out.append(Period(start, end, whole.label))
        else:
            last = max(group, key=lambda p: (p.end, p.start))
            out.append(Period(start, end, f"{group[0].label} – {last.label}"))
    return tuple(out)


def _period_json(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(),
            "label": period.label}


def match_people(text: str, vocabulary: QuestionVocabulary,
                 experts: Collection[int] | None = None) -> tuple[PersonReading, ...]:
    """The experts (among `experts`, ids; None: all) a loosely written name ("strel", "Dmitri
    Streltsov") or a description ("the Kyoto professor", "former foundation president")
    denotes: the name matcher first (knowledge.people.names.match_names), else the stored
    roles; () when nobody fits."""
    named = match_names(text, ((i, e.name) for i, e in enumerate(vocabulary.experts)
                               if experts is None or e.id in experts))
    if named:
        return tuple(PersonReading(vocabulary.experts[i].id, vocabulary.experts[i].name, "name",
                                   (text,)) for i in named)
    typed = name_tokens(text)
    # A surname with other names ("D. Streltsov", "Streltsov Dmitry"): only an expert whose
    # names those fit ("Pavel Streltsov" is not Dmitry Streltsov).
    found = tuple(p for p in _people(text, vocabulary, experts=experts)
                  if p.via != "name" or _fits_names(typed, name_tokens(p.name)))
    return found or _misspelt(text, vocabulary, experts)


_HONORIFIC = re.compile(r"[\s-]+(?:san|sama|sensei|shi|kun)\s*$", re.IGNORECASE)
MISSPELT_SIMILARITY = 0.8  # difflib ratio of a typed name word to an expert's name word


def _misspelt(text: str, vocabulary: QuestionVocabulary, experts: Collection[int] | None
              ) -> tuple[PersonReading, ...]:
    """The one expert a name typed with a slip or an honorific denotes ("Streltzov",
    "Akiyma", "Akiyama-san"): every typed word of four letters or more close to one of their
    name words, the others their initials; () when nobody or several fit."""
    typed = name_tokens(_HONORIFIC.sub("", text))
    if not typed or max(len(t) for t in typed) < 5:
        return ()
    if name_tokens(text) != typed:  # only the honorific was in the way
        named = match_names(" ".join(typed), ((i, e.name) for i, e in
                                              enumerate(vocabulary.experts)
                                              if experts is None or e.id in experts))
        if len(named) == 1:
            e = vocabulary.experts[named[0]]
            return (PersonReading(e.id, e.name, "name", (text,)),)
    fits = []
    for e in vocabulary.experts:
        if experts is not None and e.id not in experts:
            continue
        names = name_tokens(e.name)
        if all(any(n.startswith(t) if len(t) < 4 else
                   difflib.SequenceMatcher(None, t, n).ratio() >= MISSPELT_SIMILARITY
                   for n in names) for t in typed):
            fits.append(e)
    if len(fits) != 1:
        return ()
    return (PersonReading(fits[0].id, fits[0].name, "name", (text,)),)


def _fits_names(typed: list[str], names: list[str]) -> bool:
    """Whether every typed name is one of the expert's names, or an initial or the start of
    one (the surname is among them)."""
    return all(any(n.startswith(t) for n in names) for t in typed)


@overload
def _stems(question: str) -> list[tuple[str, int]]: ...
@overload
def _stems(question: str, *, raw: Literal[True]) -> list[tuple[str, int, str]]: ...
def _stems(question: str, *, raw: bool = False) -> list[Any]:
    """(stem, character offset[, the word as written]) of every word but stop words."""
    out: list[tuple[str, int, str]] = []
    for m in _WORD.finditer(question):
        written = m.group(0).strip("'’-")
        word = written.casefold()
        if word and word not in STOP_WORDS:
            out.append((stem(word), m.start(), written))
            if "-" in word:  # "ex-diplomat": each part too, where it is written
                at = m.start() + m.group(0).index(written)
                for part, as_written in zip(word.split("-"), written.split("-"), strict=True):
                    if part and part not in STOP_WORDS:
                        out.append((stem(part), at, as_written))
                    at += len(as_written) + 1
    return out if raw else [(s, o) for s, o, _ in out]


def _people(question: str, vocabulary: QuestionVocabulary,
            words: list[tuple[str, int, str]] | None = None,
            experts: Collection[int] | None = None) -> list[PersonReading]:
    """Experts (among `experts`, ids; None: all) named (any spelling of a surname, written
    with a capital) or described, the named ones first ("Akiyama and the Moscow professor"
    is two); `words` are the question's `_stems(question, raw=True)` when the caller has
    them."""
    found: dict[int, PersonReading] = {}
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(question):
        if not m.group(0)[0].isupper():
            continue
        word = _HONORIFIC.sub("", m.group(0))  # "Akiyama-san", "Togo-sensei"
        folded = name_tokens(word)
        key = folded[-1] if folded else ""
        positions = vocabulary.surnames.get(key, ()) or _surname_like(key, word, vocabulary,
                                                                       experts)
        for position in positions:
            expert = vocabulary.experts[position]
            if experts is None or expert.id in experts:
                found[position] = PersonReading(expert.id, expert.name, "name", (m.group(0),))
                spans.append(m.span())
    named = list(found.values())
    if named:  # beside a name, a description read is of one more expert, the clearest
        return named + _described(question, vocabulary, words, experts, set(found),
                                  spans)[:1]
    return _described(question, vocabulary, words, experts)


def _surname_like(key: str, word: str, vocabulary: QuestionVocabulary,
                  experts: Collection[int] | None) -> tuple[int, ...]:
    """The experts (among `experts`, ids; None: all) of the one surname a capitalised word
    of five letters or more is a slip of ("Streltzov", "Akiyamma", "Tougou"); () when none
    or several are that close, or the word is another name the topic knows ("Tokyo")."""
    if len(key) < 5 or (vocabulary.names is not None and vocabulary.names.fullmatch(word)):
        return ()
    # a slip in a question keeps the surname's first letter ("Streltzov", "Akiyamma"): only
    # those surnames are compared, so a large library's thousands cost little per search
    close = [seen for surname, positions in vocabulary.surnames.items()
             if surname[:1] == key[:1] and _similar(key, surname) and (seen := tuple(
                 p for p in positions if experts is None or vocabulary.experts[p].id in experts))]
    return close[0] if len(close) == 1 else ()


def _similar(typed: str, name: str) -> bool:
    """difflib ratio >= MISSPELT_SIMILARITY, with its cheap upper bounds tried first."""
    if 2 * min(len(typed), len(name)) < MISSPELT_SIMILARITY * (len(typed) + len(name)):
        return False  # the ratio's bound by length alone
    m = difflib.SequenceMatcher(None, typed, name)
    return (m.real_quick_ratio() >= MISSPELT_SIMILARITY and m.quick_ratio() >= MISSPELT_SIMILARITY
            and m.ratio() >= MISSPELT_SIMILARITY)


def _apposed(question: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether the person noun at ``question[start:end]`` describes a name beside it: "Togo,
    the former ambassador" or "the Kyoto professor Togo" (not "Akiyama and the professor")."""
    for a, b in spans:
        between = question[b:start]
        if b <= start and _APPOSITION.fullmatch(between) and not _JOINED.search(between):
            return True
        if end <= a and not question[end:a].strip():
            return True
    return False


def _described(question: str, vocabulary: QuestionVocabulary,
               words: list[tuple[str, int, str]] | None, experts: Collection[int] | None,
               named: Collection[int] = (), spans: list[tuple[int, int]] | None = None
               ) -> list[PersonReading]:
    """Experts (among `experts`, but not the `named` positions) the question describes by a
    stored role or affiliation near a person noun ("the Kyoto professor"), the clearest
    first; a noun in apposition to a name (`spans`, where the names are) describes that name
    and is not read."""
    tokens = _stems(question, raw=True) if words is None else words
    # A singular person noun: "heads of state" describes nobody in particular ("the Kyoto
    # professor's take" does: a possessive is no plural).
    nouns = [i for i, (s, at, word) in enumerate(tokens) if s in PERSON_NOUNS
             and not (word.endswith("s") and not word.endswith(("'s", "’s"))
                      and stem(word[:-1]) == s)
             and not (spans and _apposed(question, at, at + len(word), spans))]
    if not nouns:
        return []
    # "the MGIMO professor and the former foundation president": two descriptions, each read
    # by itself (its words end where a joining word stands between two person nouns).
    groups = [nouns[:1]]
    for n in nouns[1:]:
        previous = groups[-1][-1]
        if _JOINED.search(question[tokens[previous][1]:tokens[n][1]]):
            groups.append([n])
        else:
            groups[-1].append(n)
    found = {p.expert_id: p for p in
             _fitting(question, vocabulary, tokens, nouns, range(len(tokens)), experts, named)}
    for k, group in enumerate(groups if len(groups) > 1 else ()):
        # the words from the joining word before this description to the one after it; its
        # clearest expert is read too, when the whole question's reading left them out
        low = _joined_after(question, tokens, groups[k - 1][-1], group[0]) if k else 0
        high = _joined_after(question, tokens, group[-1], groups[k + 1][0]) \
            if k + 1 < len(groups) else len(tokens)
        for person in _fitting(question, vocabulary, tokens, group, range(low, high), experts,
                               named)[:1]:
            found.setdefault(person.expert_id, person)
    return list(found.values())


def _joined_after(question: str, tokens: list[tuple[str, int, str]], a: int, b: int) -> int:
    """The first word (index into `tokens`) after the joining word between words a and b."""
    join = _JOINED.search(question, tokens[a][1], tokens[b][1])
    assert join is not None
    return next(i for i in range(a + 1, b + 1) if tokens[i][1] >= join.end())


# Between two words of one proper name: "Institute for World Affairs", "Kyoto Sangyo".
# ("Horvat and the Szohod director", "Akiyama's Tokyo Foundation" are two names).
_IN_A_NAME = re.compile(r"\s+(?:(?:of|for|the)\s+)*", re.IGNORECASE)


def _proper_names(question: str, tokens: list[tuple[str, int, str]], near: set[int]
                  ) -> list[tuple[str, ...]]:
    """The names of two words or more near the person nouns ("Moscow State University",
    "Institute for World Affairs"), as stems, person nouns left out ("the Kyoto Sangyo
    University Professor" is "Kyoto Sangyo University")."""
    runs: list[list[int]] = []
    for i in sorted(near):
        s, at, word = tokens[i]
        if not word[:1].isupper() or s in PERSON_NOUNS:
            continue
        if runs and runs[-1][-1] == i - 1 and not tokens[i - 1][2].endswith(("'s", "’s")) \
                and _IN_A_NAME.fullmatch(question, tokens[i - 1][1] + len(tokens[i - 1][2]), at):
            runs[-1].append(i)
        else:
            runs.append([i])
    return [tuple(tokenize(question[tokens[run[0]][1]:tokens[run[-1]][1]
                                    + len(tokens[run[-1]][2])]))
            for run in runs if len(run) > 1]


def _names_in(name: tuple[str, ...], roles: Sequence[str]) -> bool:
    """Whether a role holds the name's words one after another ("Kyoto Sangyo University"
    holds "Kyoto Sangyo", not "Kyoto University")."""
    for role in roles:
        words = tokenize(role)
        if any(tuple(words[k:k + len(name)]) == name for k in range(len(words))):
            return True
    return False


def _fitting(question: str, vocabulary: QuestionVocabulary, tokens: list[tuple[str, int, str]],
             nouns: list[int], allowed: range, experts: Collection[int] | None,
             named: Collection[int]) -> list[PersonReading]:
    """The experts whose stored roles fit the words near the person nouns (`allowed` words
    only), the clearest first. A name of several words counts only for an expert whose role
    holds it whole: "the Moscow State University professor" is not Streltsov (Moscow State
    Institute of International Relations), though each word is in his role."""
    stems = [s for s, _, _ in tokens]
    near = {i for i in allowed if any(abs(i - n) <= ROLE_WINDOW for n in nouns)}
    names = _proper_names(question, tokens, near)
    # A proper name of an affiliation ("Kyoto", "MGIMO") describes someone more clearly than
    # a common word; place and party names ("Tokyo") are common here.
    proper = {stems[i] for i in near if tokens[i][2][:1].isupper() and i not in nouns
              and stems[i] not in vocabulary.place_words}
    near_stems = {stems[i] for i in near}

    def fit(role_words: frozenset[str], roles: Sequence[str] | None = None
            ) -> tuple[float, tuple[str, ...]] | None:
        # the words of a name the expert's roles do not hold whole say nothing about them
        other = {w for name in names if roles is not None and not _names_in(name, roles)
                 for w in name}
        matched = tuple(sorted((near_stems - other) & role_words))
        weights = [1.0 if w in proper else 0.5 for w in matched if w not in PERSON_NOUNS]
        if not weights or sum(weights) + 0.5 * (len(matched) > len(weights)) < ROLE_CLARITY:
            return None
        return sum(vocabulary.role_idf.get(w, 0.0) * (1.0 if w in proper else 0.5)
                   for w in matched), matched

    scores = {p: f for p, words in enumerate(vocabulary.expert_words)
              if (experts is None or vocabulary.experts[p].id in experts) and p not in named
              and (f := fit(words, vocabulary.experts[p].roles))}
    if not scores:
        return []
    best = max(score for score, _ in scores.values())
    # Described as an official ("the Duma chairman")? Then it is no expert.
    if any((f := fit(words)) and f[0] > best for words in vocabulary.official_words):
        return []
    return [PersonReading(vocabulary.experts[p].id, vocabulary.experts[p].name, "role", matched)
            for p, (score, matched) in sorted(scores.items(), key=lambda kv: -kv[1][0])
            if score >= PEOPLE_RELATIVE * best]


def _ordinals(question: str) -> list[tuple[re.Match[str], int]]:
    """The ordinals in the question, in figures ("17th") or words ("seventeenth", "twenty-
    fifth"), with their numbers."""
    found = [(m, int(m.group(1))) for m in _ORDINAL.finditer(question)]
    for m in _ORDINAL_WORD.finditer(question):
        if m.group("alone"):
            number = _UNITS.index(m.group("alone").lower()) + 1
        else:
            number = (_TENS.index(m.group("tens").lower()) + 2) * 10 + (
                _UNITS.index(m.group("unit").lower()) + 1 if m.group("unit") else 0)
        found.append((m, number))
    return found


# A season's or a year's edges are loose ("summer 2016" for a meeting on 2 September 2016);
# a month's are not ("the April 2017 talks" are not the 2+2 of 20 March).
PERIOD_SLACK = dt.timedelta(days=14)
LOOSE_FROM = dt.timedelta(days=80)


def _inside(meeting: MeetingEntry, periods: Sequence[Period]) -> bool:
    """Whether a meeting falls in any of the periods (a season or longer: give or take
    `PERIOD_SLACK`)."""
    def slack(period: Period) -> dt.timedelta:
        return PERIOD_SLACK if period.end - period.start >= LOOSE_FROM else dt.timedelta(0)
    return any(meeting.start <= period.end + slack(period)
               and meeting.end >= period.start - slack(period) for period in periods)


def _phrase_start(question: str, at: int) -> int:
    """Where the meeting named at ``at`` starts being named: the start of "the Moscow summit
    in" when ``at`` is the date or place after it, else ``at``."""
    m = _PHRASE_BEFORE.search(question[:at])
    return m.start() if m else at


@dataclasses.dataclass
class _Named:
    """The meetings a question's words point at: a score each, where each was first named,
    and those singled out by a number, a format or an occasion."""

    scores: dict[int, float] = dataclasses.field(default_factory=dict)
    first: dict[int, int] = dataclasses.field(default_factory=dict)
    specific: set[int] = dataclasses.field(default_factory=set)
    aliased: set[int] = dataclasses.field(default_factory=set)  # by an alias of several words
    # every place each was named at: a relation stands before one of them ("two years before
    # the Klow summit", where "two" is also a word of the summit's description)
    named_at: dict[int, set[int]] = dataclasses.field(default_factory=dict)

    def add(self, position: int, score: float, at: int, *, specific: bool = False,
            also: Iterable[int] = ()) -> None:
        self.scores[position] = self.scores.get(position, 0.0) + score
        self.first[position] = min(self.first.get(position, at), at)
        self.named_at.setdefault(position, set()).update((at, *also))
        if specific:
            self.specific.add(position)


def _meetings(question: str, vocabulary: QuestionVocabulary,
              words: list[tuple[str, int, str]], periods: list[Period]
              ) -> tuple[list[tuple[int, int]], dict[int, Relation]]:
    """Meetings the question names, best first, as (position, where first named), and the
    relation in front of each ("before", "after", or a distance: "the year after"); `words` and
    `periods` are the question's `_stems(question, raw=True)` and `explicit_periods`."""
    stems = [(s, o) for s, o, _ in words]
    named = _Named()
    _by_name_or_kind(question, vocabulary, stems, named)
    _by_words(vocabulary, stems, periods, named)
    _by_month_or_place(question, vocabulary, words, periods, named)
    _by_own_words(vocabulary, stems, named)
    _weighed(vocabulary, {s for s, _ in stems}, periods, named)
    return _chosen(question, vocabulary, named)


def _by_name_or_kind(question: str, vocabulary: QuestionVocabulary,
                     stems: list[tuple[str, int]], named: _Named) -> None:
    """Aliases ("the Nagato summit"), numbers ("the 17th meeting"), formats ("the 2+2", "the
    ministers' joint format") and occasions ("the Winter Games")."""
    ordinals = [(m, number) for m, number in _ordinals(question)
                if not is_day_of_month(question, m.start(), m.end())  # "17th December"
                and not _NOT_A_MEETING.match(question, m.end())]  # "the 17th century"
    counted: set[int] = set()  # the ordinals that count a format's meetings
    counted_at: dict[str, int] = {}  # format kind -> where an ordinal counts it
    stem_set = {s for s, _ in stems}
    for kind, pattern in vocabulary.topic.formats.items():
        m = pattern.search(question)
        described = vocabulary.format_words.get(kind, frozenset()) & stem_set
        # Described rather than named: most of its description, or part of it and "format".
        if m is None and len(described) < (1 if FORMAT_WORD in stem_set else 3):
            continue
        at = m.start() if m else min(o for s, o in stems if s in described)
        of_kind = sorted((p for p, meeting in enumerate(vocabulary.meetings)
                          if meeting.kind == kind), key=lambda p: vocabulary.meetings[p].start)
        # "the third 2+2": the format's third meeting by date, when the registry holds it;
        # none when it does not (as a leaders' ordinal the registry lacks reads nothing)
        count = next((k for k, (o, _) in enumerate(ordinals)
                      if _FORMAT_ORDINAL.fullmatch(question, o.end(), at)), None)
        if count is not None:
            counted.add(count)
            counted_at[kind] = at
            number = ordinals[count][1]
            of_kind = of_kind[number - 1:number]
        for position in of_kind:
            named.add(position, FORMAT_SCORE, at, specific=True)
    if vocabulary.any_alias is not None and vocabulary.any_alias.search(question):
        for pattern, position in vocabulary.aliases:
            if (m := pattern.search(question)) is None:
                continue
            counted_here = counted_at.get(vocabulary.meetings[position].kind, -1)
            if not m.start() <= counted_here < m.end():  # "the second two-plus-two" is counted
                named.add(position, ALIAS_SCORE, m.start())
                if len(tokenize(m.group(0))) > 1:
                    named.aliased.add(position)
    for k, (m, number) in enumerate(ordinals):
        if k in counted:
            continue
        for position, meeting in enumerate(vocabulary.meetings):
            if meeting.ordinal == number:
                named.add(position, ORDINAL_SCORE, m.start(), specific=True)
    for key, pattern in vocabulary.topic.events.items():
        if (m := pattern.search(question)) is None:
            continue
        for position, words in enumerate(vocabulary.meeting_words):
            if stem(key.lower()) in words:
                named.add(position, EVENT_SCORE, m.start(), specific=True)


def _by_words(vocabulary: QuestionVocabulary, stems: list[tuple[str, int]],
              periods: list[Period], named: _Named) -> None:
    """Beside a meeting noun: words that name few meetings ("Nagato", "Kishida"), a shared
    place with a participant few meetings have ("Lavrov in Tokyo"), or a shared place and a
    date only one meeting fits ("the Moscow summit in 2017")."""
    stem_set = {s for s, _ in stems}
    if not stem_set & MEETING_NOUNS:
        return
    rare = vocabulary.rare_meeting_words
    for position, (words, context) in enumerate(zip(vocabulary.meeting_words,
                                                    vocabulary.meeting_context, strict=True)):
        hits = [(s, o) for s, o in stems if s in words and s in rare]
        near = [(s, o) for s, o in stems if s in context and s in rare]
        if not hits and near:
            hits = [(s, o) for s, o in stems if s in words and s in vocabulary.place_words]
        if not hits:
            continue
        # and the shared places naming it too, at half ("Moscow" in "Kishida's Moscow visit")
        shared = {s for s, _ in stems if s in words and s not in rare
                  and s in vocabulary.place_words}
        score = sum(vocabulary.meeting_idf[s] for s in {s for s, _ in hits}) + 0.5 * sum(
            vocabulary.meeting_idf[s] for s in {s for s, _ in near} | shared)
        named.add(position, score, min(o for _, o in hits + near),
                  also=[o for _, o in hits + near])
    if periods:
        fitting = [(p, o) for p, words in enumerate(vocabulary.meeting_words)
                   for o in [min((o for s, o in stems if s in words and s not in rare
                                  and s not in MEETING_NOUNS), default=-1)]
                   if o >= 0 and _inside(vocabulary.meetings[p], periods)]
        if len(fitting) > 1:
            # several: the one whose own name has the question's noun ("Putin's 2016 visit":
            # "Putin visits Japan", not the Abe-Putin meetings of 2016)
            nouns = stem_set & MEETING_NOUNS
            fitting = [(p, o) for p, o in fitting
                       if nouns & set(tokenize(vocabulary.meetings[p].name))]
        if len(fitting) == 1:
            named.add(fitting[0][0], MEETING_MIN, fitting[0][1])


# A place after a meeting's noun: "the summit in Japan", "the chairman's visit to Japan".
_PLACE_AFTER = re.compile(r"\s+(?:in|to|at)\s+", re.IGNORECASE)
FEW_FITTING = 2  # a month, shared place or country names at most this many meetings


def _by_month_or_place(question: str, vocabulary: QuestionVocabulary,
                       words: list[tuple[str, int, str]], periods: list[Period],
                       named: _Named) -> None:
    """A meeting noun with a month ("the April visit"), a place several meetings share ("the
    Moscow summit") or the country one was held in ("the summit in Japan"): that month's,
    place's or country's meetings the noun fits (their kind or name: "summit"), narrowed by
    the question's date and by words only some of them have ("the State Duma chairman's
    visit": Naryshkin's); read when one or two are left."""
    # the words that tell the meetings apart, but for the month, the nouns themselves and the
    # words that ask ("expect": "what did experts expect from the summit in Japan?")
    said = {s for s, _, w in words if not MONTHS.get(w.casefold())} - ASKING_WORDS
    other = said & vocabulary.rare_meeting_words
    meetings = vocabulary.meetings
    places = vocabulary.topic.places
    for i, (noun, at, _) in enumerate(words):
        if noun not in MEETING_NOUNS:
            continue
        found: list[tuple[int, set[int]]] = []  # (where, the meetings it names)
        for s, o, written in words[max(0, i - 2):i]:
            month = MONTHS.get(written.casefold()) if written[:1].isupper() else None
            if month is not None and not _YEAR_NEXT.match(question, o + len(written)):
                found.append((o, {p for p, m in enumerate(meetings)
                                  if month in (m.start.month, m.end.month)}))
            elif s in vocabulary.place_words:  # a place one meeting has is _by_words' job
                sharing = {p for p, w in enumerate(vocabulary.meeting_words) if s in w}
                if len(sharing) > 1:
                    found.append((o, sharing))
        linked = _PLACE_AFTER.match(question, at + len(words[i][2]))
        if linked and (name := vocabulary.topic.place_re.match(question, linked.end())):
            place = places[name.group(0)]
            found.append((at, {p for p, countries in enumerate(vocabulary.meeting_countries)
                               if place.country in countries} if place.is_country else
                          {p for p, w in enumerate(vocabulary.meeting_words)
                           if set(tokenize(place.name)) <= w}))
        for where, candidates in found:
            # the noun must fit: "the Szohod trip" names neither of the meetings there
            fitting = [p for p in candidates if noun == stem(meetings[p].kind)
                       or noun in tokenize(meetings[p].name)]
            if periods:
                fitting = [p for p in fitting if _inside(meetings[p], periods)]
            own = {p: len(other & (vocabulary.meeting_words[p] | vocabulary.meeting_context[p]))
                   for p in fitting}
            if own and max(own.values()):
                fitting = [p for p in fitting if own[p] == max(own.values())]
            # then a name only some of them carry in their own name, however common it is
            # elsewhere ("Abe's Moscow visit": "Abe visits Moscow", not Kishida's)
            shared = frozenset.intersection(*(vocabulary.meeting_words[q] for q in fitting)) \
                if fitting else frozenset()
            titled = {p: len(said & vocabulary.meeting_words[p] - shared) for p in fitting}
            if titled and max(titled.values()):
                fitting = [p for p in fitting if titled[p] == max(titled.values())]
            if 1 <= len(fitting) <= FEW_FITTING:
                for p in fitting:
                    named.add(p, MEETING_MIN, min(where, at), also=[where, at])


def _by_own_words(vocabulary: QuestionVocabulary, stems: list[tuple[str, int]],
                  named: _Named) -> None:
    """A place several meetings share and one of them has for an alias, with words that name
    only another ("the Sochi Games opening ceremony": the Olympics, not the 2016 Sochi
    meeting, though "Sochi" alone is that meeting's alias): that one, singled out as an
    occasion is, with or without a meeting noun."""
    rare = vocabulary.rare_meeting_words
    for place, at in stems:
        if place not in vocabulary.place_words:
            continue
        sharing = [p for p, words in enumerate(vocabulary.meeting_words) if place in words]
        # only where the place alone is one of them's alias ("Sochi"): elsewhere a shared
        # place names none of them by itself, and the words beside it are _by_words' job
        if len(sharing) < 2 or not any(tokenize(alias) == [place] for p in sharing
                                       for alias in vocabulary.meetings[p].aliases):
            continue
        own: dict[int, tuple[float, list[int]]] = {}
        for p in sharing:
            names = {(s, o) for s, o in stems if s != place and s in rare
                     and s in vocabulary.meeting_words[p] and s not in MEETING_NOUNS}
            if not names:  # by a name ("Games"); its description's words only add to it
                continue
            context = {(s, o) for s, o in stems if s in rare and s not in MEETING_NOUNS
                       and s in vocabulary.meeting_context[p]}
            score = sum(vocabulary.meeting_idf[s] for s in {s for s, _ in names}) + 0.5 * sum(
                vocabulary.meeting_idf[s] for s in {s for s, _ in context} | {place})
            own[p] = score, [o for _, o in names | context]
        if len(own) == 1:
            (p, (score, where)), = own.items()
            named.add(p, score, at, specific=True, also=where)


def _weighed(vocabulary: QuestionVocabulary, stem_set: set[str], periods: list[Period],
             named: _Named) -> None:
    """Drop a meeting named only by words that also name one singled out by its number,
    format or occasion ("the Sochi Winter Games"), or one the question's date fits ("the
    Sochi meeting in 2014"); halve the others outside the question's date."""
    scores, specific = named.scores, named.specific

    def naming(p: int) -> set[str]:
        return {s for s in stem_set if s in vocabulary.meeting_words[p]} - MEETING_NOUNS

    # (an alias of several words, "Putin's visit to Japan", names its meeting whatever other
    # meeting a word of it names: "the 25th Putin-Abe summit")
    for p in [p for p in scores if p not in specific and p not in named.aliased]:
        if (words := naming(p)) and any(words <= vocabulary.meeting_words[q]
                                        for q in specific if q != p):
            del scores[p]
    if not periods:
        return
    inside = [p for p in scores if _inside(vocabulary.meetings[p], periods)]
    for p in [p for p in scores if p not in inside]:
        if p not in specific and (words := naming(p)) and any(
                words <= vocabulary.meeting_words[q] for q in inside):
            del scores[p]
        else:
            scores[p] *= 0.5


def _chosen(question: str, vocabulary: QuestionVocabulary, named: _Named
            ) -> tuple[list[tuple[int, int]], dict[int, Relation]]:
    """The meetings read (at MEETING_MIN, near the best), each replaced by its neighbour when
    the question asks for the one before or after it, with the relation word before each."""
    read = {p: s for p, s in named.scores.items() if s >= MEETING_MIN}
    if not read:
        return [], {}
    best = max(read.values())
    first = dict(named.first)

    def places(p: int) -> set[int]:
        return named.named_at.get(p, set()) | {first[p]}

    def relation(p: int) -> Relation | None:
        return next((r for a in sorted(places(p))
                     if (r := relation_before(question, _phrase_start(question, a)))), None)

    ranked = sorted(read, key=lambda p: -read[p])
    # "between the 2+2 and the 17th meeting", "from the Olympics to the Naryshkin visit": both
    # read, however much more clearly one is named, the earlier asked after, the later before
    paired = _paired(question, vocabulary, ranked, first)
    chosen = list(paired) + [p for p in ranked if read[p] >= RELATIVE * best and p not in paired]
    # "after Lima and before the December visit": a meeting named apart, with a side of its
    # own, is read however much more clearly the other one is named
    chosen += [p for p in ranked if p not in chosen and relation(p) is not None
               and not any(places(p) & places(q) for q in chosen)]
    out: list[int] = []
    relations: dict[int, Relation] = {}
    for p in chosen[:MAX_MEETINGS]:
        at = _phrase_start(question, first[p])
        step = neighbour_before(question, at)
        if step is not None:  # the meeting before or after the one named
            q = p - 1 if step == "previous" else p + 1  # (the meetings are oldest first)
            if 0 <= q < len(vocabulary.meetings) and q not in out:
                out.append(q)
                first[q] = first[p]
            continue
        if p not in out:
            out.append(p)
            if p in paired:
                relations[p] = paired[p]
            elif (r := relation(p)) is not None:
                relations[p] = r
    return [(p, first[p]) for p in out], relations


# Two meetings as the ends of a time: "between <A> and <B>", "from <A> to/until <B>".
_PAIR = re.compile(r"\b(?:between\s+(?P<a>[^,;:.?!]+?)\s+and"
                   r"|from\s+(?P<c>[^,;:.?!]+?)\s+(?:to|until|till|through|up\s+to))"
                   r"\s+(?P<b>[^,;:.?!]+)", re.IGNORECASE)


def _paired(question: str, vocabulary: QuestionVocabulary, ranked: Sequence[int],
            first: dict[int, int]) -> dict[int, Side]:
    """The two meetings (positions, the best named first) a question sets as the ends of a
    time ("between the 2+2 and Abe's Moscow visit"), the earlier with "after" and the later
    with "before"; {} when it sets none. A distance on either ("two years before the
    Olympics") is left to that meeting."""
    for m in _PAIR.finditer(question):
        a, b = m.span("a") if m.group("a") is not None else m.span("c"), m.span("b")
        one, other = (next((p for p in ranked if lo <= first[p] < hi), None)
                      for lo, hi in (a, b))
        if one is None or other is None or one == other:
            continue
        ends = (one, other)
        if any(isinstance(relation_before(question, _phrase_start(question, first[p])), Offset)
               for p in ends):
            continue
        earlier, later = sorted(ends, key=lambda p: (vocabulary.meetings[p].start, p))
        if vocabulary.meetings[earlier].end >= vocabulary.meetings[later].start:
            continue
        return {earlier: "after", later: "before"}
    return {}
