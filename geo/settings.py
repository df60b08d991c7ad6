"""Settings from the environment (``GRIDGOV_*``), read once by whoever needs them.

Nothing here touches the network or the disk at import time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, field_validator
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
    plan_tolerance_m2: float = Field(default=1.0, ge=0, description="Overlaps and gaps between "
                                     "grids smaller than this (m², Gauss-Krüger) are not problems.")
    plan_sliver_m2: float = Field(default=200.0, ge=0, description="Pieces of grids smaller "
                                  "than this merge into the neighbour with the longest shared edge.")
    plan_snap_m: float = Field(default=2.0, ge=0, le=50, description="A reshaped grid edge this "
                               "close to a neighbour or the community edge snaps onto it.")
    web_dir: Path = REPO_ROOT / "web"
    import_max_mb: int = Field(default=512, ge=1, description="The largest file an import "
                               "reads (MB; a shapefile with its .dbf).")
    max_features: int = Field(default=20000, description="Cap on features per GeoJSON response.")
    tile_cache_mb: int = Field(default=64, ge=0, description="Memory for encoded vector tiles "
                               "per process (0: no cache); edits drop what they change.")
    near_boundary_m: float = Field(default=30.0, gt=0, le=500, description="Lookup flags points "
                                   "this close to a grid edge and offers the neighbour's contacts.")
    walk_speed_kmh: float = Field(default=4.0, gt=0, le=10, description="Walking speed of the "
                                  "default profile (the lookup, the service circle).")
    walk_profiles: dict[str, float] = Field(
        default_factory=lambda: {"elderly": 3.0}, description="Other walking speeds (km/h) by "
        "name, for the service circle's ?profile= (the default profile is walk_speed_kmh).")
    merge_workers_max: int = Field(default=8, ge=1, description="多网合一: a unified grid with "
                                   "more grid workers proposed than this is flagged.")
    site_area_min_m2: float = Field(default=400.0, gt=0, description="共建共治: the floor area "
                                    "a community's 党群服务中心 should reach (seed 002: 400 m²).")
    committee_matters_min: int = Field(default=1, ge=0, description="共建共治: the N of a "
                                       "兼职委员's 1+1+N duty list (matters helped per quarter).")
    issue_categories: list[str] = Field(
        default_factory=lambda: ["环境卫生", "治安", "邻里纠纷", "水电气暖", "物业", "设施维修",
                                 "困难帮扶", "其他"],
        description="民情: the categories a report may take.")
    issue_limit_days: dict[str, int] = Field(
        default_factory=lambda: {"immediate": 1, "time_limited": 5, "committed": 15,
                                 "remedial": 10, "suggestion": 20},
        description="民情: working days to resolve each kind (即办件, 限时件, 承诺件, 补办件, "
        "建议件), the day of the report counted as the first when it is a working day.")
    issue_day_ends_hour: int = Field(default=17, ge=0, le=24, description="民情: a report "
                                     "after this hour (local time) is taken in the next working day.")
    issue_holidays: list[date] = Field(default_factory=list, description="民情: days off "
                                       "besides Saturdays and Sundays (法定节假日).")
    issue_workdays: list[date] = Field(default_factory=list, description="民情: Saturdays or "
                                       "Sundays worked (调休), which count as working days.")
    timezone: str = Field(default="Asia/Shanghai", description="Where days begin and end "
                          "(time limits, reports by day).")
    issue_photo_max_kb: int = Field(default=4096, ge=16, description="民情: the largest photo "
                                    "accepted (kB, as uploaded).")
    issue_photos_max: int = Field(default=3, ge=0, le=10, description="民情: photos per issue.")
    isochrone_buffer_m: float = Field(default=25.0, gt=0, le=200, description="Isochrones: "
                                      "metres either side of a reachable street.")
    rate_limit_per_minute: int = Field(default=120, description="Public requests per client "
                                       "per minute (lookup, search); 0 turns the limit off.")
    rate_limit_burst: int = Field(default=30, description="Requests a client may make at once.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to "
                                    "call the API from a browser (CORS); none by default.")
    secret_key: str | None = Field(default=None, description="Signs access tokens; when unset "
                                   "a random key is generated into <data_dir>/secret_key.")
    token_minutes: int = Field(default=60, description="Lifetime of an access token.")
    k_anonymity: int = Field(default=5, description="Counts of people below this are "
                             "suppressed for roles below community_worker.")
    coverage_targets: dict[str, float | None] = Field(
        default_factory=dict, description="Targets of the coverage indicators that differ "
        "from the defaults (geo.coverage), e.g. {\"volunteers_per_building\": 3}; null: "
        "shown, never judged.")

    @field_validator("coverage_targets")
    @classmethod
    def _known_indicators(cls, targets: dict[str, float | None]) -> dict[str, float | None]:
        from geo.coverage import INDICATORS

        unknown = sorted(set(targets) - set(INDICATORS))
        if unknown:
            raise ValueError(f"unknown indicator(s) {', '.join(unknown)}; known: "
                             f"{', '.join(INDICATORS)}")
        return targets


    @field_validator("issue_limit_days")
    @classmethod
    def _every_kind_limited(cls, days: dict[str, int]) -> dict[str, int]:
        kinds = ("immediate", "time_limited", "committed", "remedial", "suggestion")
        missing = [k for k in kinds if k not in days]
        unknown = sorted(set(days) - set(kinds))
        if missing or unknown or any(not 1 <= n <= 365 for n in days.values()):
            raise ValueError(f"give 1–365 working days for each of {', '.join(kinds)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        return days

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (e.g. Asia/Shanghai)") from None
        return zone

    def speed(self, profile: str | None) -> float:
        """The walking speed (km/h) of a profile; an unknown one is refused by name."""
        if profile in (None, "", "default"):
            return self.walk_speed_kmh
        if profile not in self.walk_profiles:
            from geo.errors import InvalidInput

            raise InvalidInput(f"profile: {profile!r} is not one of default, "
                               f"{', '.join(self.walk_profiles)}")
        return self.walk_profiles[profile]


def get_settings() -> Settings:
    return Settings()
