"""Experts in the corpus: who wrote, who was interviewed, who was quoted, and in which passages."""

from knowledge.people._patterns import names_someone
from knowledge.people.extract import PersonMention, extract_people
from knowledge.people.names import canonical_person_key, merge_names
from knowledge.people.subjects import Subject, find_subject, load_subjects
from knowledge.people.voice import passage_voice

__all__ = ["PersonMention", "Subject", "canonical_person_key", "extract_people", "find_subject",
           "load_subjects", "merge_names", "names_someone", "passage_voice"]
