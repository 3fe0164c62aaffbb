"""Meetings ("summits"): the curated registry, and linking passages to the meetings they discuss."""

from knowledge.meetings.registry import Meeting, find_meeting, load_registry

__all__ = ["Meeting", "find_meeting", "load_registry"]
