"""Meetings ("summits"): the curated registry, and linking passages to the meetings they discuss."""

from knowledge.meetings.linking import (
    MeetingLink,
    MeetingProposal,
    detect_unknown_meetings,
    link_passage,
    split_before_after,
)
from knowledge.meetings.registry import Meeting, find_meeting, load_registry

__all__ = ["Meeting", "MeetingLink", "MeetingProposal", "detect_unknown_meetings",
           "find_meeting", "link_passage", "load_registry", "split_before_after"]
