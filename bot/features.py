"""Feature areas of the knowledge service that may be absent from an installation."""

from __future__ import annotations

from knowledge.service import KnowledgeService

# Attribute on KnowledgeService -> the module it imports on first use.
FEATURE_MODULES = {
    "experts": "knowledge.people.service",
    "meetings": "knowledge.meetings.service",
    "sources": "knowledge.sources.service",
    "digests": "knowledge.digests.service",
}


# What the user loses when a feature area is missing.
FEATURE_COMMANDS = {
    "experts": "/expert, /experts and /compare",
    "meetings": "/summit and /summits",
    "sources": "/source commands",
    "digests": "/digest commands",
}


class FeatureUnavailable(Exception):
    """A cog's feature area is not installed; the cog is skipped, the bot runs without it."""


def require_feature(service: KnowledgeService, name: str) -> object:
    """The sub-service `name`, or FeatureUnavailable when its module does not exist."""
    try:
        return getattr(service, name)
    except ModuleNotFoundError as exc:
        module = FEATURE_MODULES[name]
        # Only the feature's own module (or a parent package) missing means "not installed";
        # anything else is a real bug and must surface.
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise FeatureUnavailable(
                f"{FEATURE_COMMANDS[name]} are off: {module} is not installed") \
                from exc
        raise


def feature_available(service: KnowledgeService, name: str) -> bool:
    """Whether `require_feature` would succeed."""
    try:
        require_feature(service, name)
    except FeatureUnavailable:
        return False
    return True
