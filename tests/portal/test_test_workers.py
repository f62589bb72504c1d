"""The xdist workers' own Redis databases (tests/conftest.py)."""

import pytest

from tests.conftest import worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/0", 0, "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", 1, "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/8", 3, "redis://127.0.0.1:6379/11"),
        ("redis://:secret@cache:6380", 2, "redis://:secret@cache:6380/2"),
    ],
)
def test_each_worker_moves_the_database_up_by_its_number(url, worker, expected):
    assert worker_redis_url(url, worker=worker) == expected


def test_a_worker_past_the_sixteenth_database_stops_the_run():
    with pytest.raises(AssertionError, match="gw2 would need Redis database 16"):
        worker_redis_url("redis://127.0.0.1:6379/14", worker=2)
