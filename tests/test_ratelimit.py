"""The per-client rate limit on the public endpoints: a token bucket, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.ratelimit import TokenBucket
from geo.settings import Settings
from tests.conftest import serve


@pytest.fixture(scope="module")
def limited(test_settings: Settings) -> Iterator[httpx.Client]:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 3,
                                                "rate_limit_burst": 3})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(per_minute=6, burst=2, clock=lambda: now[0])
    assert bucket.take("a") == 0 and bucket.take("a") == 0
    wait = bucket.take("a")
    assert wait == pytest.approx(10.0)  # 6 per minute: one token every 10 s
    assert bucket.take("b") == 0  # clients have their own buckets
    now[0] += 10.0
    assert bucket.take("a") == 0
    assert bucket.take("a") > 0
    now[0] += 3600
    assert bucket.take("a") == 0 and bucket.take("a") == 0 and bucket.take("a") > 0  # capped


def test_bucket_forgets_idle_clients() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=60, burst=1, clock=lambda: now[0], max_keys=10)
    for i in range(11):
        bucket.take(f"c{i}")
    now[0] += 5.0
    bucket.take("fresh")  # over max_keys: clients whose bucket refilled are dropped
    assert len(bucket._state) < 11


def test_over_the_limit_answers_429_with_retry_after(limited: httpx.Client) -> None:
    # The burst is 3: three lookups pass (whatever their answer), the fourth is refused.
    codes = [limited.get("/api/v1/lookup", params={"lon": "109.19", "lat": "27.73"}).status_code
             for _ in range(3)]
    assert 429 not in codes
    r = limited.get("/api/v1/search", params={"q": "锦江"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    detail = r.json()["detail"]
    assert "3 requests per minute" in detail
    r = limited.get("/api/v1/lookup", params={"lon": "109.19", "lat": "27.73"})
    assert r.status_code == 429


def test_other_endpoints_are_not_limited(limited: httpx.Client) -> None:
    for _ in range(6):
        assert limited.get("/api/v1/ping").status_code == 200
        assert limited.get("/api/v1/areas", params={"level": "district"}).status_code == 200


def test_limit_zero_turns_it_off(test_settings: Settings) -> None:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0,
                                                "rate_limit_burst": 1})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        codes = {client.get("/api/v1/search", params={"q": "锦江"}).status_code
                 for _ in range(10)}
    assert codes == {200}
