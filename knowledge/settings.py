"""Typed settings from the environment and `.env`, built at start-up (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.errors import ConfigurationError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Everything the knowledge library needs; the bot extends it with Discord settings."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Where the SQLite database and caches live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite file in DATA_DIR.")
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="A sentence-transformers model folder or name; default: the bundled model.",
    )
    embedding_batch_size: int = Field(64, ge=1, le=1024)
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto: the bundled model on its shipped int8 ONNX file (no torch), "
        "sentence-transformers for any other model; onnx: insist on the file; torch: always "
        "sentence-transformers.")
    embedding_onnx_file: Path | None = Field(
        None, description="An int8 ONNX file of the bundled model (with its .json manifest) "
        "instead of the shipped one.")
    log_level: str = Field("INFO")
    log_format: str = Field("text", description="text or json")

    # Retrieval
    search_default_top: int = Field(5, ge=1, le=50)
    search_max_query_chars: int = Field(500, ge=10)
    no_match_threshold: float = Field(
        0.27, description="Minimum dense cosine of the best hit; below it: 'no good match' "
        "(calibrated for the bundled int8 model: docs/benchmarks.md)."
    )
    no_match_lexical_floor: float = Field(
        0.20, description="Between this and NO_MATCH_THRESHOLD a question is answered only when "
        "its best BM25 passage holds most of its rare words (names, acronyms)."
    )
    no_match_lexical_coverage: float = Field(0.5, ge=0.0, le=1.0)
    hit_min_similarity: float = Field(
        0.20, description="Hits below this dense cosine are never shown, even after a good one."
    )

    # Sources
    fetch_allow_private_addresses: bool = False
    fetch_max_bytes: int = Field(5_000_000, ge=10_000)
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 15.0
    feed_poll_minutes: int = Field(60, ge=1)
    feed_initial_announce: int = Field(
        3, ge=0, description="On a feed's first add, how many recent entries the next digest shows."
    )
    feed_max_entries_per_poll: int = Field(
        100, ge=1, description="New entries of one feed handled per poll (newest first); the "
        "rest wait for the next polls, so a huge feed cannot hold a poll for hours.")
    feed_lease_seconds: float = Field(
        900.0, gt=0, description="How long a poll holds its feed against other processes; "
        "renewed every third of it while the poll works.")
    upload_max_bytes: int = Field(5_000_000, ge=1000)
    # Extraction of untrusted pages, feeds and files (knowledge/sources/sandbox.py)
    extract_timeout_seconds: float = Field(
        6.0, gt=0, description="Wall time one page, feed or file may take to extract; then its "
        "worker process is killed and the input refused as too complex.")
    extract_max_elements: int = Field(
        100_000, ge=1000, description="HTML/XML start tags counted before parsing; more is "
        "refused unparsed.")
    extract_max_text_chars: int = Field(
        1_000_000, ge=10_000, description="Characters of text one document may yield; PDF "
        "reading stops and refuses as soon as it passes this.")
    extract_max_memory_mb: int = Field(
        1024, ge=256, description="Address space of each extraction worker process, in MB.")
    extract_workers: int = Field(2, ge=1, le=16, description="Extraction worker processes.")
    pdf_max_pages: int = Field(300, ge=1, description="PDFs with more pages are refused.")

    # Digests
    digest_post_when_empty: bool = False
    digest_default_schedule: str = "0 9 * * *"
    digest_default_timezone: str = "UTC"
    digest_claim_lease_minutes: float = Field(
        10.0, gt=0, description="A claimed digest whose poster shows no sign of life for this "
        "long is taken over.")
    digest_retry_minutes: float = Field(5.0, gt=0, description="Wait before retrying a failed "
                                        "post.")

    # Background jobs (knowledge/scheduler.py), per process
    scheduler_maintenance_seconds: float = Field(
        60.0, gt=0, description="Seconds between maintenance passes: pick up digest "
        "subscriptions other processes made and post any due period no job posted.")
    scheduler_refresh_seconds: float = Field(
        30.0, gt=0, description="Seconds between index refreshes from the database (makes "
        "articles other processes stored searchable here).")
    index_cache: bool = Field(
        True, description="Keep a copy of the in-memory index in DATA_DIR/index-cache/ and load "
        "it at start-up instead of rebuilding from every passage (checked against the database "
        "first; a stale or damaged copy is ignored and rewritten).")

    @field_validator("embedding_onnx_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        # Checked here so a typo is one settings line at start-up, not an engine error later.
        # The dialect module is loaded, not its driver (psycopg is imported at connection).
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value).get_dialect()
        except ArgumentError:  # also NoSuchModuleError: an unknown dialect or driver
            raise ValueError("not a database URL SQLAlchemy knows (for PostgreSQL: "
                             "postgresql+psycopg://user:pw@host/db; empty: SQLite in "
                             "DATA_DIR)") from None
        return value

    @field_validator("log_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("LOG_FORMAT must be 'text' or 'json'")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'summit-desk.sqlite3').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create DATA_DIR if it is missing; ConfigurationError naming it when it cannot be a
        directory (a file is there, or the place cannot hold one)."""
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # exist_ok covers directories only
            raise ConfigurationError(f"DATA_DIR: {path} exists and is not a directory") from None
        except OSError as exc:
            raise ConfigurationError(f"DATA_DIR: cannot create {path} "
                                     f"({exc.strerror or exc})") from None
        return path


def settings_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, never echoing a value (it may be the token)."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper() or "settings"
        if problem["type"] == "missing":
            lines.append(f"{name} is not set (put it in the environment or .env)")
        else:
            lines.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return lines


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, `.env` and explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
