"""Domain errors: each carries a short message fit to show a user as is."""

from __future__ import annotations

# What a user (a server admin, a CLI listing) is shown of an unexpected failure, a bug: its
# class, text and traceback go to the operator's log only (they may name hosts, users or SQL).
INTERNAL_ERROR = "an internal error (details are in the operator's log)"


class KnowledgeError(Exception):
    """Base class for errors a user can act on; the message is shown verbatim."""


class BadInput(KnowledgeError):
    """The request itself is malformed (overlong query, bad date, unsupported file)."""


class NotFound(KnowledgeError):
    """A named thing (article, person, meeting, source) does not exist; `listing` names the
    command that lists what does ("summits", "experts"), for each front end to point to in
    its own terms (/summits in Discord, a subcommand on the command line)."""

    def __init__(self, message: str, *, listing: str | None = None) -> None:
        super().__init__(message)
        self.listing = listing


class AlreadyStored(KnowledgeError):
    """The article is already in the library."""

    def __init__(self, message: str, article_id: int) -> None:
        super().__init__(message)
        self.article_id = article_id


class ConfigurationError(KnowledgeError):
    """A setting is missing or wrong (model path, database URL)."""


class DeliveryFailed(KnowledgeError):
    """A poster could not deliver (the chat service refused or failed); retried later."""


class ChannelGone(DeliveryFailed):
    """The channel a digest goes to no longer exists: its subscription is stopped (a retry
    cannot succeed); the message says so and what to do."""


class DeliveryInterrupted(KnowledgeError):
    """The poster stopped because its process is shutting down: the run is left claimed, so
    the next start takes it over (and completes or re-posts it), with nobody told of a failure."""
