"""Summit Desk's knowledge library: corpus, ingestion, index, retrieval. Knows nothing of Discord."""

__version__ = "0.1.0"
