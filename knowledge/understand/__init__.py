"""Question understanding: who, when and which meeting a question means, read from the
library's data (experts and their roles, the meeting registry, the topic's scope and places),
and turned into ranking evidence for knowledge/index/hybrid.py."""

from knowledge.understand.evidence import QuestionReader, evidence_for
from knowledge.understand.reading import (
    Interpretation,
    MeetingReading,
    PersonReading,
    interpret,
    match_people,
)
from knowledge.understand.vocabulary import (
    ExpertEntry,
    MeetingEntry,
    QuestionVocabulary,
    build_question_vocabulary,
)

__all__ = ["ExpertEntry", "Interpretation", "MeetingEntry", "MeetingReading", "PersonReading",
           "QuestionReader", "QuestionVocabulary", "build_question_vocabulary", "evidence_for",
           "interpret", "match_people"]
