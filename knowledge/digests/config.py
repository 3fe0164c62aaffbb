"""Digest timing settings (claim lease, retry delay) from the environment and `.env`."""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.settings import Settings


class DigestTimings(BaseSettings):
    """DIGEST_CLAIM_LEASE_MINUTES and DIGEST_RETRY_MINUTES; the main Settings win if they
    define `digest_claim_lease_minutes` / `digest_retry_minutes`."""

    model_config = SettingsConfigDict(env_prefix="DIGEST_", env_file=".env",
                                      env_file_encoding="utf-8", extra="ignore")

    claim_lease_minutes: float = Field(10.0, gt=0, description=(
        "A claimed digest whose poster shows no sign of life for this long is taken over."))
    retry_minutes: float = Field(5.0, gt=0, description="Wait before retrying a failed post.")

    @property
    def lease(self) -> dt.timedelta:
        """The claim lease as a timedelta."""
        return dt.timedelta(minutes=self.claim_lease_minutes)

    @property
    def retry_after(self) -> dt.timedelta:
        """The retry delay as a timedelta."""
        return dt.timedelta(minutes=self.retry_minutes)


def digest_timings(settings: Settings) -> DigestTimings:
    """Timings from the environment, overridden by any the main settings define."""
    overrides = {name: getattr(settings, f"digest_{name}")
                 for name in DigestTimings.model_fields
                 if getattr(settings, f"digest_{name}", None) is not None}
    return DigestTimings(**overrides)
