"""voipxs.statements: a statement compiled once per shape, filled in with each request's values."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from voipxs import statements


def test_it_compiles_once_per_key_and_puts_each_requests_values_in_their_places():
    built = []

    def build(account, since):
        built.append((account, since))
        return "SELECT 1 WHERE a = %s AND b = %s AND c = %s AND a2 = %s", [account, "x", since, account]

    key = ("test-statements", 1)
    statements._compiled.pop(key, None)
    first = statements.statement(key, build, (-1, -2), (10, 20))
    second = statements.statement(key, build, (-1, -2), (11, 21))
    assert built == [(-1, -2)]  # built once, with the sentinels
    assert first == ("SELECT 1 WHERE a = %s AND b = %s AND c = %s AND a2 = %s", [10, "x", 20, 10])
    assert second[1] == [11, "x", 21, 11]


def test_a_value_that_is_not_a_parameter_of_its_own_is_refused():
    statements._compiled.pop(("test-statements", 2), None)
    with pytest.raises(ImproperlyConfigured):  # the value went into the SQL text, not into a parameter
        statements.statement(("test-statements", 2), lambda a: (f"SELECT {a}", []), (-1,), (5,))
    with pytest.raises(ImproperlyConfigured):  # two sentinels that the statement cannot tell apart
        statements.statement(("test-statements", 3), lambda a, b: ("SELECT %s", [a]), (-1, -1), (5, 6))
