"""Typed settings from the environment and `.env`, built at start-up (never at import time)."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import quote, unquote

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.errors import ConfigurationError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Upper-case names a `.env` may hold that are not settings (not reported as misspelt).
NOT_SETTINGS = frozenset({"TEST_DATABASE_URL", "POSTGRES_PASSWORD"})
# The user and password of a URL as SQLAlchemy reads them (after "scheme://"): the user ends
# at ':' or '/', the password at the first '@'.
_CREDENTIALS = re.compile(r"(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@")
# A password given as a query parameter (`...?password=...`, which libpq accepts too).
_QUERY_PASSWORD = re.compile(r"(?:^|&)password=([^&#]*)")


def _password_spills(url: str) -> bool:
    """Whether an unencoded character cut the URL's password short, so that what follows it
    would be read as host, port or database: an '@' after the one ending the credentials."""
    if "://" not in url:
        return False
    rest = url.split("://", 1)[1]
    match = _CREDENTIALS.match(rest)
    return match is not None and "@" in rest[match.end():]


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
    topic_dir: Path | None = Field(
        None, description="A folder holding another topic's data files (scope.json, "
        "registry.json, places.json, subjects.json: docs/topics.md); empty: the bundled topic.")
    founding_corpus: bool | None = Field(
        None, description="Whether a library gets the bundled topic's five founding articles "
        "(stored when absent, at every start); empty: yes on the bundled topic, no with "
        "TOPIC_DIR.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    log_format: str = Field("text", description="text or json")

    # Retrieval
    search_default_top: int = Field(5, ge=1, le=50)
    search_max_query_chars: int = Field(500, ge=10)
    # The three below are cosines, so -1..1.
    no_match_threshold: float = Field(
        0.27, ge=-1.0, le=1.0,
        description="Minimum dense cosine of the best hit; below it: 'no good match' "
        "(calibrated for the bundled int8 model: docs/benchmarks.md)."
    )
    no_match_lexical_floor: float = Field(
        0.20, ge=-1.0, le=1.0,
        description="Between this and NO_MATCH_THRESHOLD a question is answered only when "
        "its best BM25 passage holds most of its rare words (names, acronyms)."
    )
    no_match_lexical_coverage: float = Field(0.5, ge=0.0, le=1.0)
    no_match_names_margin: float = Field(
        0.10, ge=0.0, le=2.0,
        description="A question carrying names (places, countries, people) whose best cosine "
        "is below NO_MATCH_NAMES_CEILING must beat its names alone by this much ('weather in "
        "Tokyo' is near a passage on Tokyo only because of 'Tokyo'); 0 turns the check off."
    )
    no_match_names_ceiling: float = Field(0.40, ge=-1.0, le=1.0)
    hit_min_similarity: float = Field(
        0.20, ge=-1.0, le=1.0,
        description="Hits below this dense cosine are never shown, even after a good one."
    )

    # Sources
    fetch_allow_private_addresses: bool = False
    fetch_max_bytes: int = Field(5_000_000, ge=10_000)
    fetch_connect_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a "
                                         "connection.")
    fetch_read_timeout: float = Field(15.0, gt=0, description="Seconds to wait for data.")
    feed_poll_minutes: int = Field(60, ge=1)
    feed_initial_announce: int = Field(
        3, ge=0, description="On a feed's first add, how many recent entries the next digest shows."
    )
    feed_max_entries_per_poll: int = Field(
        100, ge=1, description="New entries of one feed handled per poll (newest first); the "
        "rest wait for the next polls, so a huge feed cannot hold a poll for hours.")
    feed_poll_deadline_seconds: float = Field(
        150.0, gt=0, description="Wall time of one feed poll or feed add (the feed and its "
        "entries' pages); pages not fetched by then wait for the next poll.")
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

    @field_validator("*", mode="before")
    @classmethod
    def _blank_optional_is_none(cls, value: object, info: ValidationInfo) -> object:
        # Every field that may be None, the subclasses' too (BotSettings' guild ids): `KEY=` as
        # .env.example writes it means "not set", not Path("") or a parse error. One validator
        # for all, since pydantic lets a subclass's validator of the same name replace this.
        if not (isinstance(value, str) and not value.strip()) or info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        return None if type(None) in get_args(annotation) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        # Checked here so a typo is one settings line at start-up, not an engine error later.
        # No message repeats the URL or a part of it: it may hold a password.
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if _password_spills(value):
            raise ValueError("an unencoded '@' in the password (or user name) ends it early: "
                             "percent-encode it (@ is %40; likewise / %2F, ? %3F, # %23, "
                             "% %25)")
        try:
            dialect = make_url(value).get_dialect()
        except (ArgumentError, ValueError):  # ArgumentError also covers NoSuchModuleError;
            # ValueError: a port that is not a number (its text would be in the message)
            raise ValueError("not a database URL SQLAlchemy knows (for PostgreSQL: "
                             "postgresql+psycopg://user:pw@host/db; empty: SQLite in "
                             "DATA_DIR)") from None
        # The driver too (psycopg2 or MySQLdb when only psycopg 3 is installed): the engine
        # would import it at once anyway, and its ImportError was an "internal error".
        try:
            dialect.import_dbapi()
        except ImportError as exc:
            raise ValueError(
                f"the {dialect.name} driver {dialect.driver!r} is not installed "
                f"({exc}); supported: postgresql+psycopg:// (PostgreSQL through psycopg 3, "
                "installed with Summit Desk), sqlite:/// or empty (SQLite in DATA_DIR)") \
                from None
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("digest_default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        # The digests' own check (what /digest set runs), so a value passing here works there.
        # The default is known good: checking it would load APScheduler into every command.
        if value == "UTC":
            return value
        from knowledge.digests.schedule import resolve_timezone
        from knowledge.errors import BadInput

        try:
            return resolve_timezone(value).key
        except BadInput as exc:
            raise ValueError(str(exc)) from None

    @field_validator("digest_default_schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        if value == "0 9 * * *":  # the default (see _check_timezone)
            return value
        from knowledge.digests.schedule import cron_trigger, normalise_schedule
        from knowledge.errors import BadInput

        try:
            cron_trigger(normalise_schedule(value), "UTC")
        except BadInput as exc:
            raise ValueError(str(exc)) from None
        return normalise_schedule(value)

    @field_validator("log_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        value = value.strip().lower()  # any case, as LOG_LEVEL
        if value not in ("text", "json"):
            raise ValueError("must be 'text' or 'json'")
        return value

    @property
    def loads_founding_corpus(self) -> bool:
        """Whether opening a library stores the founding articles it lacks (FOUNDING_CORPUS;
        unset: only on the bundled topic, whose articles they are)."""
        return self.topic_dir is None if self.founding_corpus is None else self.founding_corpus

    def secret_values(self) -> list[str]:
        """Strings no output may show: the database password, as written and as decoded."""
        return database_url_secrets(self.database_url)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'summit-desk.sqlite3').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create DATA_DIR if it is missing; ConfigurationError naming it when it cannot be a
        directory (a file is there, or the place cannot hold one) or this user cannot write
        in it (a bind-mounted folder owned by another user, a read-only file system)."""
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # exist_ok covers directories only
            raise ConfigurationError(f"DATA_DIR: {path} exists and is not a directory") from None
        except OSError as exc:
            raise ConfigurationError(f"DATA_DIR: cannot create {path} "
                                     f"({exc.strerror or exc})") from None
        # Written to, not asked (os.access): root passes os.access on a read-only mount, and a
        # failure here is one line instead of a PermissionError deep inside the first write.
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
                pass
        except OSError as exc:
            import errno

            if exc.errno == errno.EROFS:  # a `:ro` volume, systemd's ProtectSystem: no chown helps
                raise ConfigurationError(
                    f"DATA_DIR {path.resolve()} is on a read-only file system: mount it "
                    "read-write (a container volume without :ro; under systemd add it to "
                    "ReadWritePaths=) or point DATA_DIR at a writable folder") from None
            raise ConfigurationError(
                f"DATA_DIR {path.resolve()} is not writable by this user (uid {os.getuid()}): "
                f"{exc.strerror or exc}; make it writable by uid {os.getuid()} (a bind-mounted "
                f"folder: chown -R {os.getuid()} it on the host)") from None
        return path


def settings_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, never echoing a value that may be secret (the token, a
    URL's password); the digest defaults are quoted, as /digest set quotes them."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            lines.append(f"{name} is not set (put it in the environment or .env)")
        elif not name or message.startswith(name):  # a rule across settings names its own
            lines.append(message)
        else:
            lines.append(f"{name}: {message}")
    return lines


def unknown_env_file_keys(known: Iterable[str], env_file: Path | None = None
                          ) -> list[tuple[str, str | None]]:
    """Keys of the `.env` file that look like settings but are none: (key, closest known name
    or None). Only upper-case keys count (the way settings are written); keys of other tools
    (no known name close, no known prefix) are left alone, and the environment is not read."""
    from dotenv import dotenv_values

    path = env_file or Path(str(Settings.model_config.get("env_file") or ".env"))
    try:
        keys = list(dotenv_values(path))
    except (OSError, UnicodeDecodeError):
        return []
    names = {name.upper() for name in known}
    prefixes = {name.split("_", 1)[0] for name in names}
    unknown = []
    for key in keys:
        if key != key.upper() or key in names or key in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
        if close or key.split("_", 1)[0] in prefixes:
            unknown.append((key, close[0] if close else None))
    return unknown


def describe_unknown_keys(unknown: list[tuple[str, str | None]]) -> str:
    """Misspelt or unknown `.env` keys, with the likely intended names."""
    return ", ".join(f"{key}{f' (did you mean {close}?)' if close else ''}"
                     for key, close in unknown)


def unknown_keys_line(known: Iterable[str]) -> str | None:
    """The one-line warning about `.env` keys that look like settings but are none (a
    misspelt DATABASE_URL would otherwise silently mean SQLite), or None; the bot's check and
    start and the CLI say it alike."""
    unknown = unknown_env_file_keys(known)
    return f".env sets {describe_unknown_keys(unknown)}: not settings, ignored" \
        if unknown else None


def database_url_secrets(url: str) -> list[str]:
    """The password of a database URL in every form an error could show it: as written, as
    decoded, and, when an unencoded '@' or '/' cut it short, each piece a parser may have
    taken for a host or database name (longest first, for masking)."""
    secrets: set[str] = set()
    for written in _QUERY_PASSWORD.findall(url.split("?", 1)[1] if "?" in url else ""):
        secrets |= {written, unquote(written), quote(unquote(written), safe="")}
    match = _CREDENTIALS.match(url.split("://", 1)[-1]) if "://" in url else None
    if match is not None and match.group("password") is not None:
        written = match.group("password")
        secrets |= {written, unquote(written), quote(unquote(written), safe="")}
        if _password_spills(url):  # where the password really ends is unknown: mask generously
            rest = url.split("://", 1)[1]
            spilled = rest[len(match.group("user")) + 1:rest.rfind("@")]
            secrets |= {spilled, *re.split(r"[@/?#:]", spilled)}
    return sorted((s for s in secrets if len(s) >= 2), key=len, reverse=True)


def database_url_without_password(url: str) -> str:
    """The URL naming the same database without its password (in the user part or as a
    `password=` query parameter); a URL without one is returned as it is (the index cache's
    file name hashes this, so a SQLite file's keeps the name earlier versions gave it)."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # not reached with validated settings
        return url.split("@")[-1]
    if parsed.password is None and "password" not in parsed.query:
        return url
    # (URL.set ignores None, so the URL is built again without the password)
    bare = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port,
                      parsed.database, parsed.difference_update_query(["password"]).query)
    return bare.render_as_string(hide_password=False)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def display_database_url(url: str) -> str:
    """The database URL fit to print: the password shown as ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return mask_secrets("(not a URL)", database_url_secrets(url))
    shown = mask_secrets(parsed.difference_update_query(["password"])
                         .render_as_string(hide_password=True), database_url_secrets(url))
    if "password" in parsed.query:  # (libpq's other spelling of the password)
        shown += f"{'&' if '?' in shown else '?'}password=***"
    return shown


def database_failure(exc: BaseException, url: str) -> str:
    """One line for a database that could not be reached or refused the connection: the
    driver's words (without SQLAlchemy's "Background on this error" link), no password."""
    cause = getattr(exc, "orig", None) or exc
    words = " ".join(line.strip() for line in str(cause).splitlines()
                     if line.strip() and not line.startswith("(Background on this error"))
    return mask_secrets(f"cannot use the database {display_database_url(url)}: "
                        f"{words or type(cause).__name__}", database_url_secrets(url))


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, `.env` and explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
