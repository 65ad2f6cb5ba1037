"""The interleaving of timed repeats in benchmarks/ (no timing here)."""
import collections
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import repeat_order  # noqa: E402


@pytest.mark.parametrize("slots", ["ab", "abc", "abcde"])
def test_each_slot_takes_each_position_equally_often(slots):
    n = len(slots)
    orders = [repeat_order(slots, r) for r in range(2 * n)]
    assert all(sorted(order) == sorted(slots) for order in orders)
    positions = collections.Counter((slot, order.index(slot)) for order in orders for slot in slots)
    assert set(positions.values()) == {2}
    assert len(positions) == n * n


def test_a_middle_slot_also_runs_first_and_last():
    # Forward-and-reverse alone kept "b" between "a" and "c" in every repeat.
    orders = [repeat_order("abc", r) for r in range(6)]
    assert sum(o[0] == "b" for o in orders) == sum(o[-1] == "b" for o in orders) == 2
