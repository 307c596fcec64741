"""Geometry of the server-rendered usage chart (templates/traffic/usage.html): bars of minutes per
month, a y axis with round tick values, the minutes above each bar and the month under it. Pure
arithmetic, no data access: the view hands in what `cdr_usage_by_month` returned."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 270
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 40, 30  # room for tick labels (left), values (top), months (bottom)
TICKS_AT_MOST = 5


@dataclass(frozen=True)
class Bar:
    month: date
    calls: int
    seconds: int
    amount: Decimal
    minutes: int
    x: float
    y: float
    height: float
    center: float  # x of the month label and of the value above the bar

    @property
    def last_day(self) -> date:
        """The month's last day: the table links a month to its calls (the call history's From and To)."""
        return self.month.replace(day=calendar.monthrange(self.month.year, self.month.month)[1])


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    bar_w: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM
    label_y: float = HEIGHT - 10


def nice_step(peak: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that covers `peak` in at most TICKS_AT_MOST - 1 steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * (TICKS_AT_MOST - 1) >= peak:
                return step
        magnitude *= 10


def usage_chart(usage: list) -> Chart:
    """Bars proportional to minutes called, on an axis that ends at a round number of minutes."""
    minutes = [(u.seconds + 59) // 60 for u in usage]
    step = nice_step(max(minutes, default=0))
    top = step * max(1, -(-max(minutes, default=0) // step))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(usage), 1)
    bars = []
    for i, (u, m) in enumerate(zip(usage, minutes)):
        height = round(plot_h * m / top, 1)
        bars.append(Bar(month=u.month, calls=u.calls, seconds=u.seconds, amount=u.amount, minutes=m,
                        x=round(LEFT + i * slot + slot * 0.15, 1), y=round(TOP + plot_h - height, 1),
                        height=height, center=round(LEFT + i * slot + slot / 2, 1)))
    ticks = [Tick(value=v, y=round(TOP + plot_h - plot_h * v / top, 1)) for v in range(0, top + 1, step)]
    return Chart(bars=bars, ticks=ticks, bar_w=round(slot * 0.7, 1))
