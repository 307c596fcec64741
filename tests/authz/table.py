"""The committed table of expected access, tests/authz/matrix.csv: one row per route and method, one
column per role. A cell is "allow", "deny" or "405" (the route does not take the method), or a design
value with a finding, "deny:F1": the design says deny, the code today allows (the finding is described in
tests/authz/findings.py). The test accepts the code's answer for such a cell and fails once the
finding is fixed, so that the cell is then written as the plain design value."""
from __future__ import annotations

import csv
from pathlib import Path

from .walk import ALLOW, DENY, NO_METHOD

TABLE = Path(__file__).resolve().parent / "matrix.csv"
VALUES = (ALLOW, DENY, NO_METHOD)
Row = tuple[str, str]  # (route key, method)


def opposite(value: str) -> str:
    return {ALLOW: DENY, DENY: ALLOW}[value]


def cell_parse(cell: str) -> tuple[str, str | None]:
    """'deny:F1' -> ('deny', 'F1'); 'allow' -> ('allow', None)."""
    value, _, finding = cell.partition(":")
    if value not in VALUES or (finding and value == NO_METHOD):
        raise ValueError(f"not a cell of the table: {cell!r}")
    return value, finding or None


def table_read(path: Path = TABLE) -> tuple[list[str], dict[Row, dict[str, str]]]:
    """The role columns and the cells by row, in the file's order."""
    if not path.exists():
        return [], {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        roles = [name for name in reader.fieldnames or [] if name not in ("route", "method")]
        rows = {(line["route"], line["method"]): {role: line[role] for role in roles} for line in reader}
    return roles, rows


def table_write_column(*, role: str, roles: list[str], order: list[Row], observed: dict[Row, str],
                       path: Path = TABLE) -> None:
    """Write `role`'s observed column (review the change with `git diff`). Rows follow the walk's order;
    rows of routes that are gone are dropped; other roles' cells of new rows are left empty, to be
    written by their own run. A cell with a finding stays as it is while the code still answers the
    finding's value."""
    _, old = table_read(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["route", "method", *roles])
        for row in order:
            cells = dict(old.get(row, {}))
            previous = cells.get(role, "")
            keep = ":" in previous and opposite(cell_parse(previous)[0]) == observed[row]
            cells[role] = previous if keep else observed[row]
            writer.writerow([*row, *(cells.get(name, "") for name in roles)])
