"""Settings from the environment (``GRIDGOV_*``), read once by whoever needs them.

Nothing here touches the network or the disk at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="An existing PostGIS database; when unset the embedded cluster is used.",
    )
    data_dir: Path = Field(
        default=REPO_ROOT / ".gridgov",
        description="Where the embedded PostgreSQL cluster lives (git-ignored).",
    )
    database_name: str = "gridgov"
    pool_min_size: int = 2
    pool_max_size: int = 10
    household_min: int = Field(default=300, description="Planning range of a base grid.")
    household_max: int = 500
    web_dir: Path = REPO_ROOT / "web"
    max_features: int = Field(default=20000, description="Cap on features per GeoJSON response.")


def get_settings() -> Settings:
    return Settings()
