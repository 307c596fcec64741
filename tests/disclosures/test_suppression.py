"""Secondary suppression of the transparency report's counts (LEGAL.md section 5, row 22)."""
from __future__ import annotations

from disclosures.suppression import SECONDARY, suppressed


def test_a_group_with_one_hidden_count_hides_its_smallest_shown_one():
    counts = {"a": 1, "b": 6, "c": 9, "total": 16}
    text = suppressed(counts, [(["a", "b", "c"], "total")], threshold=5)
    assert text == {"a": "< 5", "b": SECONDARY, "c": "9", "total": "16"}


def test_a_group_that_does_not_add_up_leaves_nothing_to_subtract():
    counts = {"a": 1, "b": 6, "total": 9}  # two requests still open: the total is more than its parts
    assert suppressed(counts, [(["a", "b"], "total")], threshold=5) == {"a": "< 5", "b": "6", "total": "9"}


def test_hiding_one_count_to_protect_a_row_then_protects_its_column():
    # rows r1, r2 with margins; columns x, y with margins. r1's x is small; hiding r1's y (its row partner)
    # leaves column y with one hidden count, so r2's y goes too, and then row r2 has one hidden: r2's x.
    counts = {("r1", "x"): 2, ("r1", "y"): 7, ("r2", "x"): 8, ("r2", "y"): 9,
              "r1": 9, "r2": 17, "x": 10, "y": 16}
    groups = [([("r1", "x"), ("r1", "y")], "r1"), ([("r2", "x"), ("r2", "y")], "r2"),
              ([("r1", "x"), ("r2", "x")], "x"), ([("r1", "y"), ("r2", "y")], "y")]
    text = suppressed(counts, groups, threshold=5)
    assert text[("r1", "x")] == "< 5"
    assert {cell for cell, shown in text.items() if shown == SECONDARY} == {("r1", "y"), ("r2", "x"), ("r2", "y")}
    assert text["r1"] == "9" and text["x"] == "10"  # the margins stay: no hidden count can be derived from them



def test_a_count_hidden_only_to_protect_another_is_not_left_readable_in_a_margin_it_alone_makes_up():
    # Row r: x = 1 (small), y = 6; so y is hidden too. Column y has r's y as its only count: its margin, 6, would
    # give it back (and with r's margin, 7, the small x), so the margin goes as well.
    counts = {("r", "x"): 1, ("r", "y"): 6, ("q", "y"): 0, "r": 7, "y": 6}
    groups = [([("r", "x"), ("r", "y")], "r"), ([("r", "y"), ("q", "y")], "y")]
    text = suppressed(counts, groups, threshold=5)
    assert (text[("r", "x")], text[("r", "y")], text["y"], text["r"]) == ("< 5", SECONDARY, SECONDARY, "7")
