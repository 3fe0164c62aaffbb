"""Linking passages to the meetings they discuss, proposing meetings the registry lacks, and
telling whether an article was written before or after a meeting."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
from collections.abc import Sequence
from typing import Literal

from knowledge.meetings._mentions import (
    MEETING_WORDS,
    ArticleRange,
    Mention,
    TimeExpr,
    find_mentions,
    hedged,
    normalise,
    participant_keys,
)
from knowledge.meetings.registry import Meeting
from knowledge.meetings.vocabulary import Vocabulary, load_vocabulary
from knowledge.models import PartialDate
from knowledge.people.names import canonical_person_key
from knowledge.text.split import split_sentences

log = logging.getLogger(__name__)

ArticleDates = ArticleRange | PartialDate | None
BeforeAfter = Literal["before", "after"]

# How far from the article's date an undated mention may reach ("the meeting in Lima"); a
# month without a year ("in May") means the nearest May, so within eleven months.
_WINDOW = dt.timedelta(days=366)
_MONTH_WINDOW = dt.timedelta(days=334)
# How far back "the recent meeting", "the latest summit" may reach.
_RECENT = dt.timedelta(days=122)


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingLink:
    """A passage discusses a registry meeting: which one, the phrase that says so, how sure."""

    meeting_id: str
    evidence: str
    confidence: float


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingProposal:
    """A meeting a passage mentions that the registry lacks, for an admin to confirm."""

    name: str
    date_guess: str | None  # ISO, partial ("2018-09") when only the month is known
    place: str | None
    evidence: str
    participants: tuple[str, ...] = ()
    kind: str = "summit"
    ordinal: int | None = None


def _article_range(article: ArticleDates) -> ArticleRange | None:
    if article is None:
        return None
    if isinstance(article, PartialDate):
        return article.start, article.end
    return article


def _sentences(passage_text: str) -> list[tuple[str, str]]:
    """(normalised, original) sentences, also split at line breaks (captions, footnotes)."""
    out: list[tuple[str, str]] = []
    normalised = normalise(passage_text)
    for line in re.finditer(r"[^\n]+", normalised):
        for span in split_sentences(line.group(0), line.start()):
            out.append((span.text, passage_text[span.start:span.end]))
    return out


def _evidence(mention: Mention, original: str) -> str:
    """The mention's phrase as the original text spells it."""
    return re.sub(r"\s+", " ", original[mention.start:mention.end]).strip(" ,;:")


# --- matching one mention against the registry -------------------------------------------------

def _has_event(meeting: Meeting, event: str, vocabulary: Vocabulary) -> bool:
    if event in vocabulary.formats:
        return meeting.kind == event
    pattern = vocabulary.events[event]
    return any(pattern.search(text) for text in (meeting.name, *meeting.aliases))


def _at_place(meeting: Meeting, mention: Mention) -> bool:
    place = mention.place
    if place is None:
        return True
    if place.is_country:
        return meeting.country == place.country
    names = (meeting.place, *meeting.aliases)
    return any(re.search(rf"(?<![\w-]){re.escape(place.name)}(?![\w-])", n) for n in names)


def _in_time(meeting: Meeting, time: TimeExpr | None) -> bool:
    if time is None or time.bound:
        return True
    if time.absolute:
        assert time.lo is not None and time.hi is not None
        return meeting.start <= time.hi and time.lo <= meeting.end
    months = set()
    day = meeting.start
    while day <= meeting.end:
        months.add(day.month)
        day += dt.timedelta(days=28 if day.day < 28 else 4)
    months.add(meeting.end.month)
    return bool(months & time.months)


def _in_window(meeting: Meeting, mention: Mention, article: ArticleRange | None) -> bool:
    """Whether an undated mention can reach this meeting from the article's date."""
    if article is None or (mention.time is not None and mention.time.absolute
                           and not mention.time.bound):
        return True
    start, end = article
    if mention.recent and not (start - _RECENT <= meeting.end and meeting.start <= end):
        return False
    if mention.direction == "past" and meeting.start > end:
        return False
    if mention.direction == "future" and meeting.end < start:
        return False
    window = _MONTH_WINDOW if mention.time is not None and mention.time.months else _WINDOW
    return start - window <= meeting.end and meeting.start <= end + window


def _has_participant(meeting: Meeting, name: str) -> bool:
    return canonical_person_key(name).split()[-1] in participant_keys(meeting.participants)


def _linkable(mention: Mention, sentence_has_meeting_word: bool, vocabulary: Vocabulary) -> bool:
    """Whether a mention says enough to name one meeting (and is not generic)."""
    dated = mention.time is not None and not mention.time.bound
    if mention.plural and not dated:
        return False
    if re.match(r"(?:a|an)\s", mention.evidence, re.IGNORECASE) and not dated \
            and mention.place is None:
        return False  # "a 2+2 ministerial meeting": a kind of meeting, not one meeting
    if not (mention.bilateral or mention.persons) and vocabulary.outside.search(
            mention.sentence[max(0, mention.start - 60):mention.end + 60]):
        return False  # "Japan and the US ... by launching a 2+2"
    if mention.ordinal is not None or mention.event is not None:
        return True
    if mention.place is not None and not mention.place.is_country:
        return mention.visit or mention.meeting_word or sentence_has_meeting_word
    if mention.place is not None:
        return (mention.visit or mention.meeting_word) and bool(
            dated or mention.visitor or mention.persons or mention.recent)
    if mention.meeting_word:
        return dated or (mention.recent and (bool(mention.persons) or mention.bilateral))
    return False


def _confidence(mention: Mention) -> float:
    time = mention.time if mention.time is not None and not mention.time.bound else None
    if mention.ordinal is not None or (time is not None and time.precision == "day"):
        return 0.95
    if time is not None and (mention.place or mention.event or mention.visit):
        return 0.9
    if mention.event is not None:
        return 0.75
    if mention.visit and mention.visitor is not None:
        return 0.75
    if mention.place is not None and not mention.place.is_country and (
            mention.meeting_word or mention.visit):
        return 0.7
    if time is not None:
        return 0.7
    return 0.6


def _candidates(mention: Mention, meetings: Sequence[Meeting], article: ArticleRange | None,
                vocabulary: Vocabulary) -> list[Meeting]:
    """Registry meetings consistent with everything the mention says."""
    out = []
    for meeting in meetings:
        if mention.ordinal is not None and meeting.ordinal != mention.ordinal:
            continue
        if mention.event is not None and not _has_event(meeting, mention.event, vocabulary):
            continue
        if mention.visitor is not None and not _has_participant(meeting, mention.visitor.name):
            continue
        if mention.summit and meeting.kind == "visit":
            continue  # "the January summit" is not a minister's visit that month
        if not (_at_place(meeting, mention) and _in_time(meeting, mention.time)
                and _in_window(meeting, mention, article)):
            continue
        out.append(meeting)
    # People named with the mention are soft evidence: prefer meetings they took part in.
    with_people = [m for m in out if all(_has_participant(m, p.name) for p in mention.persons)]
    return with_people or out


def _specific(mention: Mention) -> bool:
    """Whether a mention names a city, an event, an ordinal or a month (not just "Japan")."""
    time = mention.time
    return (mention.ordinal is not None or mention.event is not None
            or (mention.place is not None and not mention.place.is_country)
            or (time is not None and not time.bound and time.precision in ("day", "month", "months")))


def _resolve(mention: Mention, meetings: Sequence[Meeting], article: ArticleRange | None,
             sentence_has_meeting_word: bool,
             vocabulary: Vocabulary) -> tuple[Meeting, float] | None:
    """The one meeting a mention names, with a confidence; None when none or several fit."""
    if not _linkable(mention, sentence_has_meeting_word, vocabulary):
        return None
    if hedged(mention) and not _specific(mention):
        return None  # "Putin could visit Japan next year": speculation, not a meeting
    candidates = _candidates(mention, meetings, article, vocabulary)
    confidence = _confidence(mention)
    if len(candidates) > 1 and mention.time is None and article is not None:
        # "the Abe-Putin summit in Russia" in an April 2017 piece: the one that month.
        start, end = article
        same_period = [m for m in candidates if m.start <= end and start <= m.end]
        if len(same_period) == 1:
            candidates, confidence = same_period, min(confidence, 0.55)
    if len(candidates) != 1:
        return None
    absolute = (mention.time is not None and mention.time.absolute) or mention.ordinal is not None
    if article is None and not absolute:
        confidence *= 0.8
    return candidates[0], round(confidence, 2)


@dataclasses.dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # normalised
    original: str
    mentions: list[Mention]
    loose_times: list[TimeExpr]
    has_meeting_word: bool


# Enrichment links a passage and then looks for unknown meetings in it: the second call reads
# the mentions the first found (callers only read the list and its mentions).
@functools.lru_cache(maxsize=16)
def _mentions(passage_text: str, article: ArticleRange | None,
              vocabulary: Vocabulary) -> list[_Sentence]:
    """Each sentence with its meeting mentions and the times no mention took."""
    out = []
    for sentence, original in _sentences(passage_text):
        mentions, loose = find_mentions(sentence, article, vocabulary)
        out.append(_Sentence(sentence, original, mentions, loose,
                             bool(MEETING_WORDS.search(sentence))))
    return out


def link_passage(passage_text: str, article_published: ArticleDates,
                 meetings: Sequence[Meeting], *,
                 vocabulary: Vocabulary | None = None) -> list[MeetingLink]:
    """The registry meetings a passage discusses, each with its best evidence phrase.

    A mention is linked only when exactly one meeting fits its place, time, people, event or
    ordinal (an undated mention reaches about a year around the article's date); ambiguous
    mentions are not linked. ``vocabulary`` is the topic's (the shipped one by default).
    """
    vocabulary = vocabulary or load_vocabulary()
    article = _article_range(article_published)
    best: dict[str, MeetingLink] = {}
    order: list[str] = []
    for sentence in _mentions(passage_text, article, vocabulary):
        for mention in sentence.mentions:
            resolved = _resolve(mention, meetings, article, sentence.has_meeting_word, vocabulary)
            if resolved is None:
                continue
            meeting, confidence = resolved
            link = MeetingLink(meeting.id, _evidence(mention, sentence.original), confidence)
            if meeting.id not in best:
                order.append(meeting.id)
            if meeting.id not in best or best[meeting.id].confidence < confidence:
                best[meeting.id] = link
    return [best[i] for i in order]


# --- proposals ------------------------------------------------------------------------------------

def _guess_date(time: TimeExpr | None, mention: Mention, article: ArticleRange | None,
                sentence: str) -> str | None:
    """An ISO (partial) date for a mention's time expression."""
    if time is None or time.bound:
        return None
    if time.absolute:
        assert time.lo is not None and time.hi is not None
        if time.precision == "day":
            return time.lo.isoformat()
        if time.precision == "month":
            return time.lo.isoformat()[:7]
        if time.precision == "year":
            return str(time.lo.year)
        return None
    if article is None or len(time.months) != 1:
        return None
    (month,) = time.months
    start, end = article
    future = mention.direction == "future" or re.search(r"\bwill\b|\bto be held\b", sentence)
    if future:
        year = start.year if month >= start.month else start.year + 1
    else:
        year = end.year if month <= end.month else end.year - 1
    return f"{year:04d}-{month:02d}"


def _relevant(mention: Mention, vocabulary: Vocabulary) -> bool:
    """A meeting between the two parties: leaders or ministers of both, or a bilateral format."""
    parties = vocabulary.scope.countries
    countries = mention.countries
    both = parties <= countries
    window = mention.sentence[max(0, mention.start - 60):mention.end + 60]
    if vocabulary.outside.search(window) and not both:
        return False
    if mention.place is not None and mention.place.country not in parties \
            and not (mention.bilateral or both):
        return False
    if both:
        return True
    if mention.visit and mention.visitor is not None and mention.place is not None:
        return {mention.visitor.country, mention.place.country} == parties
    return mention.bilateral and bool(countries & parties or mention.event in vocabulary.formats
                                      or mention.ordinal is not None)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _proposal_name(mention: Mention, vocabulary: Vocabulary) -> str:
    """A readable name: "Abe-Putin meeting in Vladivostok", "Abe visits Moscow",
    "Russia-Japan 2+2 in Moscow" (the parties' names when no one is named)."""
    noun = "summit" if "summit" in mention.evidence.lower() else "meeting"
    pair = vocabulary.scope.pair_name
    if mention.event in vocabulary.formats:
        base = f"{pair} {mention.event}"
    elif mention.visit and mention.visitor is not None and mention.place is not None:
        base = f"{mention.visitor.name.split()[-1]} visits {mention.place.name}"
    else:
        surnames = [p.name.split()[-1] for p in mention.persons] or [pair]
        base = f"{'-'.join(dict.fromkeys(surnames))} {noun}"
    if mention.ordinal is not None:
        base = f"{_ordinal(mention.ordinal)} {base}"
    if mention.place is not None and not (mention.visit and mention.visitor is not None):
        base += f" in {mention.place.name}"
    return base


def detect_unknown_meetings(passage_text: str, article_published: ArticleDates,
                            meetings: Sequence[Meeting], *,
                            vocabulary: Vocabulary | None = None) -> list[MeetingProposal]:
    """Mentions of summits, visits or format meetings (2+2) between the topic's two parties
    that match no registry entry.

    Only definite mentions count: hedged ones ("a possible visit", "could visit") and generic
    ones ("frequent visits") are ignored, and so is anything that fits a registry meeting.
    """
    vocabulary = vocabulary or load_vocabulary()
    article = _article_range(article_published)
    proposals: dict[tuple[str | None, str | None, int | None], MeetingProposal] = {}
    for sentence in _mentions(passage_text, article, vocabulary):
        has_word = sentence.has_meeting_word
        for mention in sentence.mentions:
            if hedged(mention) or mention.plural or not (mention.meeting_word or mention.visit or mention.event
                                      or mention.ordinal is not None):
                continue
            if not _relevant(mention, vocabulary):
                continue
            if _linkable(mention, has_word, vocabulary) and _candidates(mention, meetings,
                                                                        article, vocabulary):
                continue
            date = _guess_date(mention.time, mention, article, sentence.text)
            place = mention.place.name if mention.place is not None else None
            if date is None and mention.ordinal is None and (
                    place is None or mention.place is None or mention.place.is_country):
                continue  # nothing an admin could pin down
            kind = "visit" if mention.visit else "summit"
            if mention.event is not None and mention.event in vocabulary.formats:
                kind = mention.event
            proposal = MeetingProposal(_proposal_name(mention, vocabulary), date, place,
                                       _evidence(mention, sentence.original),
                                       tuple(dict.fromkeys(p.name for p in mention.persons)),
                                       kind, mention.ordinal)
            proposals.setdefault((place, date, mention.ordinal), proposal)
    return list(proposals.values())


# --- before / after ------------------------------------------------------------------------------

_BEFORE_STRONG = re.compile(r"\b(?:expected|expects?|expecting|upcoming|forthcoming|on the eve of|"
                            r"ahead of|in the run-up to|to prepare for|in preparation for|"
                            r"will be held|will take place|is scheduled|is planned|prior to)\b",
                            re.IGNORECASE)
# Modal verbs are too common to count on their own ("it will at least take the relations to a
# new level" is no sign of a meeting still to come); these are.
_BEFORE_WEAK = re.compile(r"\b(?:will (?:visit|meet|hold|come|travel)|(?:is|are) due|hopefully|"
                          r"to be held|next (?:week|month))\b", re.IGNORECASE)
_AFTER_STRONG = re.compile(r"\b(?:outcomes?|results? of|resulted in|took place|(?<!be )held in|"
                           r"was held|were held|(?:after|following) the\s+(?:[\w-]+\s+){0,3}?"
                           r"(?:summit|meeting|visit|talks))\b", re.IGNORECASE)
_AFTER_WEAK = re.compile(r"\b(?:latest|brought|showed|agreed|signed|confirmed|achieved|"
                         r"assessment|spotlighted|exchanged|discussed|talked)\b", re.IGNORECASE)


def _cues(text: str, weight: int, weak: bool) -> tuple[int, int]:
    """(expectation, assessment) cue scores of one sentence."""
    before = weight * len(_BEFORE_STRONG.findall(text))
    after = weight * len(_AFTER_STRONG.findall(text))
    if weak:
        before += len(_BEFORE_WEAK.findall(text))
        after += len(_AFTER_WEAK.findall(text))
    return before, after


def _sentence_topic(sentence: _Sentence, meeting: Meeting, registry: Sequence[Meeting],
                    article: ArticleRange, month_is_unique: bool, vocabulary: Vocabulary) -> str:
    """"this" (the sentence is about the meeting), "other" (about something else dated or
    placed), or "none"."""
    has_word = sentence.has_meeting_word
    resolved = [_resolve(m, registry, article, has_word, vocabulary) for m in sentence.mentions]
    if any(r is not None and r[0].id == meeting.id for r in resolved):
        return "this"
    if any(r is not None for r in resolved):
        return "other"
    if any(_linkable(m, has_word, vocabulary) and not _candidates(m, [meeting], article, vocabulary)
           for m in sentence.mentions):
        return "other"
    times = sentence.loose_times + [m.time for m in sentence.mentions
                                    if m.time is not None and m.time.bound]
    months = {meeting.start.month, meeting.end.month}
    if any((t.months and not t.months & months) or (t.absolute and not _in_time(meeting, t))
           for t in times):
        return "other"
    # A bare month ("publish anything ... in December") in an article of that month is about
    # the meeting, unless another meeting shares the month.
    if month_is_unique and any(t.months & months for t in times):
        return "this"
    return "none"


def split_before_after(meeting: Meeting, article_published_range: ArticleDates,
                       passage_texts: Sequence[str], *, meetings: Sequence[Meeting] | None = None,
                       vocabulary: Vocabulary | None = None) -> BeforeAfter | None:
    """Whether an article was written before or after a meeting; None when it cannot tell.

    By dates when the article's date period and the meeting do not overlap; otherwise (an
    article dated "April 2017" on a meeting of 27 April 2017) by expectation language
    ("expected", "upcoming", "on the eve") against assessment language ("outcomes", "latest",
    "after the summit") in the sentences about this meeting, and strong cues in sentences about
    no meeting. ``meetings`` (the registry) lets it set aside sentences about other meetings;
    without it, anything that does not fit this meeting is set aside.
    """
    article = _article_range(article_published_range)
    if article is None:
        return None
    start, end = article
    if end < meeting.start:
        return "before"
    if start > meeting.end:
        return "after"
    vocabulary = vocabulary or load_vocabulary()
    registry = list(meetings) if meetings else [meeting]
    if meeting not in registry:
        registry.append(meeting)
    same_month = [m for m in registry if (m.start.year, m.start.month)
                  == (meeting.start.year, meeting.start.month)]
    before = after = 0
    for text in passage_texts:
        for sentence in _mentions(text, article, vocabulary):
            topic = _sentence_topic(sentence, meeting, registry, article, len(same_month) == 1,
                                    vocabulary)
            if topic == "other":
                continue
            b, a = _cues(sentence.text, 2 if topic == "this" else 1, weak=topic == "this")
            before, after = before + b, after + a
    log.debug("before/after cues for %s: before=%d after=%d", meeting.id, before, after)
    if before == after:
        return None
    return "before" if before > after else "after"
