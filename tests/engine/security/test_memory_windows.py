"""The in-process rate-limit windows (``engine.api.limits.MemoryWindows``): the moving-window rule,
and idle keys dropped, so thousands of conversations do not leave a key each behind."""

from __future__ import annotations

import time

from limits import parse

from engine.api.limits import MemoryWindows


def test_a_full_window_refuses_until_its_oldest_hit_leaves_it() -> None:
    windows, item = MemoryWindows(), parse("3/minute")
    assert [windows.hit(item, "visitor", "7") for _ in range(4)] == [True, True, True, False]
    assert not windows.test(item, "visitor", "7")
    assert windows.hit(item, "visitor", "8")  # another key has its own window
    assert 59 < windows.seconds_to_reset(item, "visitor", "7") <= 60
    windows.clear(item, "visitor", "7")
    assert windows.test(item, "visitor", "7") and windows.hit(item, "visitor", "7")


def test_keys_idle_past_their_window_are_dropped_by_the_sweep() -> None:
    windows, item = MemoryWindows(), parse("3/second")
    for n in range(5000):
        windows.hit(item, "visitor", str(n))
    windows.hit(parse("30/hour"), "visitor", "kept")
    windows._sweep(time.monotonic() + 2)  # two seconds on: every 3/second key is idle
    assert list(windows._hits) == [("visitor", "kept", 30, 3600)]
