"""Scheduled digests of new articles per channel, each period posted exactly once.

`DigestService` (service.py) is reached as `KnowledgeService.digests`; the plain types the bot
uses are re-exported here.
"""

from knowledge.digests.types import (
    DigestPoster,
    PostedFinder,
    RunClaim,
    RunOutcome,
    Subscription,
)

__all__ = ["DigestPoster", "PostedFinder", "RunClaim", "RunOutcome",
           "Subscription"]
