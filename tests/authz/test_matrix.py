"""The authorization matrix (issue 16): every route of the project, for every role, with other people's
ids, against the table of expected access committed in tests/authz/matrix.csv.

For each role (anonymous and each of voipxs.privacy.purposes.Role; staff signed in with their second
factor passed, tests/factories.verified_client) the test takes the world of tests/authz/world.py (seeded
once for all roles), walks every URL pattern of the root URLconf (portal pages, the API under /api/v1/,
the API schema and docs, and every Django admin page: changelist, add, change, delete and history of
every registered ModelAdmin and the admin's own URLs), sends a GET to each and then an empty POST to each
(an unsafe route must refuse a role that may not act before it reads the form; a role that may act gets
400 for the empty form, or acts on other people's objects inside the test's transaction), and compares
the verdict (tests/authz/walk.py: allow, deny, 405) with the table. All mismatches of a role are
reported at once.

A route without a row fails the test, naming the route; so does a row whose route no longer exists.

To regenerate the table after adding or changing a route:

    VOIPXS_AUTHZ_WRITE=1 .venv/bin/python -m pytest -p no:randomly tests/authz

writes each role's observed column into matrix.csv (the run then skips instead of comparing). Review
every changed cell with `git diff tests/authz/matrix.csv` against the design (../shared/DESIGN.md "Who
uses it", the purposes of each role in voipxs/privacy/purposes.py): a cell where the code lets a role do
what the design says it must not is a finding, not a row to accept. Write such a cell as the design value
with a finding id ("deny:F7"), describe the finding in tests/authz/findings.py, and the test keeps
passing until the code is fixed, then fails until the cell is the plain design value again.
"""
from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from tests.factories import verified_client

from .findings import FINDINGS
from .table import cell_parse, opposite, table_read, table_write_column
from .walk import METHODS, Route, redirect_target, routes, verdict
from .world import ROLE_PEOPLE, ROLES, people_make, world_build

WRITE = os.environ.get("VOIPXS_AUTHZ_WRITE") == "1"
MAX_REDIRECTS = 4


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, seeded once for all roles in a transaction rolled back after the last one. Each role's
    test runs inside it in its own transaction (pytest-django), so what one role's POSTs change is gone
    before the next role asks."""
    private = override_settings(PRIVATE_FILES_DIR=tmp_path_factory.mktemp("authz-private"))
    with django_db_blocker.unblock(), private, transaction.atomic():
        people = people_make()
        yield people, world_build(people=people)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # throttles and rate limits count in the cache
    yield
    cache.clear()


def _sign_in(client, user) -> str:
    """Sign `user` in (second factor passed) and return the session key, to notice a sign-out."""
    if user is None:
        return ""
    verified_client(client, user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _finished(response):
    """Read a streamed answer to its end: the test client then closes it as a server would (calling
    close() again would fire request_finished, which closes the database connection on PostgreSQL)."""
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def observe(client, user, walked: list[Route]) -> dict[tuple[str, str], tuple[str, str]]:
    """(route, method) -> (verdict, what came back). Every GET first, then every POST; a redirect within
    the site is followed (with GET) and the page it leads to decides."""
    session = _sign_in(client, user)
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for method in METHODS:
        for route in walked:
            response = _finished(client.get(route.path) if method == "GET" else client.post(route.path))
            cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
            trail = [f"{response.status_code} for {method} {route.path}"]
            while (target := redirect_target(response)) is not None and len(trail) < MAX_REDIRECTS:
                response = _finished(client.get(target))
                trail.append(f"{response.status_code} for GET {target}")
            if response.has_header("Location"):
                trail.append(f"to {response['Location']}")
            seen[(route.key, method)] = (verdict(response), ", then ".join(trail))
            if user is not None and cookie is not None and cookie.value != session:
                session = _sign_in(client, user)  # a sign-out route ended the session
    return seen


def mismatches(role: str, seen: dict, expected: dict) -> list[str]:
    problems = [f"no row in tests/authz/matrix.csv for route {key} {method}"
                for key, method in seen if (key, method) not in expected]
    problems += [f"row {key} {method}: no such route any more" for key, method in expected if (key, method) not in seen]
    for row, (got, detail) in seen.items():
        if row not in expected:
            continue
        cell = expected[row].get(role, "")
        try:
            want, finding = cell_parse(cell)
        except ValueError:
            problems.append(f"{row[0]} {row[1]}: no valid cell for {role} ({cell!r}); observed {got} ({detail})")
            continue
        if finding is None and got != want:
            problems.append(f"{row[0]} {row[1]}: expected {want}, got {got} ({detail})")
        elif finding is not None and got == want:
            problems.append(f"{row[0]} {row[1]}: finding {finding} is fixed ({detail}); write the cell as {want!r}")
        elif finding is not None and got != opposite(want):
            problems.append(f"{row[0]} {row[1]}: expected {opposite(want)} ({finding}), got {got} ({detail})")
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(role, client, seeded):
    people, world = seeded
    walked = routes(world=world)
    keys = [route.key for route in walked]
    assert len(keys) == len(set(keys)), f"two routes share a row name: {sorted({k for k in keys if keys.count(k) > 1})}"
    person = ROLE_PEOPLE[role]
    seen = observe(client, people[person] if person else None, walked)
    if WRITE:
        table_write_column(role=role, roles=list(ROLES), order=list(seen), observed={k: v[0] for k, v in seen.items()})
        pytest.skip(f"wrote the {role} column of tests/authz/matrix.csv: review it with git diff")
    roles, expected = table_read()
    assert list(roles) == list(ROLES), f"the table's role columns {roles} are not the roles {list(ROLES)}"
    problems = mismatches(role, seen, expected)
    assert not problems, f"{len(problems)} cell(s) differ for {role}:\n" + "\n".join(problems)


def test_every_finding_in_the_table_is_described_and_every_description_used():
    _, expected = table_read()
    used = {cell_parse(cell)[1] for cells in expected.values() for cell in cells.values()} - {None}
    assert used == set(FINDINGS), f"findings in the table {sorted(used)}, described {sorted(FINDINGS)}"
