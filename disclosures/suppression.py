"""Small-cell suppression of the transparency report, with the secondary suppression that stops a hidden count
from being worked out by subtraction (LEGAL.md section 5, row 22).

A count between 1 and the threshold is shown as "< N" (primary). That alone is not enough where the report also
shows what a group of counts adds up to: with 6 requests under Sv 126n, one under 126na and a total of 7, the
126na count is 7 - 6 = 1. So wherever a group adds up exactly to a margin the report shows, and exactly one of
its non-zero counts is hidden, one more is hidden (the smallest shown one, or the margin where no other count is
shown), marked SECONDARY; that can make another group's hidden count derivable, so the rule runs until nothing
changes.
"""
from __future__ import annotations

from typing import Hashable, Iterable

SECONDARY = "*"  # hidden only so that a "< N" count cannot be worked out (the page explains the mark)

Cell = Hashable
Group = tuple[list[Cell], Cell]  # the counts of a group, and the margin they may add up to


def suppressed(counts: dict[Cell, int], groups: Iterable[Group], threshold: int) -> dict[Cell, str]:
    """Every cell's text: its count, "< threshold" (primary) or SECONDARY. `groups` name the sums the report
    shows; a group whose counts do not add up to its margin (open requests, say) leaves nothing to subtract."""
    groups = [(cells, margin) for cells, margin in groups if sum(counts[c] for c in cells) == counts[margin]]
    primary = {cell for cell, n in counts.items() if 0 < n < threshold}
    hidden = set(primary)
    changed = True
    while changed:
        changed = False
        for cells, margin in groups:
            if margin in hidden:
                continue
            shown = [c for c in cells if counts[c] and c not in hidden]
            if sum(1 for c in cells if counts[c] and c in hidden) != 1:
                continue
            # Empty where the one hidden count was hidden secondarily and is the group's only count: the margin
            # shown would be that count itself, so the margin goes (and protects the groups it is a count of).
            hidden.add(min(shown, key=lambda c: counts[c]) if shown else margin)
            changed = True
    return {cell: (f"< {threshold}" if cell in primary else SECONDARY if cell in hidden else str(n))
            for cell, n in counts.items()}
