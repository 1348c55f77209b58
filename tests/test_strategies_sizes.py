"""Self-tests of the cheap-to-draw building blocks of strategies.requests: sizes, members, choice counts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import strategies
from strategies.requests import list_sizes, members_of, sized_lists


def test_list_sizes_weight_short_lists_and_keep_the_longest():
    table = list_sizes(1, 25)
    assert set(table) == {1, 2, 3, 4, 25}
    assert table.count(1) == table.count(4) > table.count(25) == 1
    assert list_sizes(0, 2) == [0, 1, 2]
    with pytest.raises(ValueError, match="low=3, high=2"):
        list_sizes(3, 2)


def test_sized_lists_stay_in_bounds_and_unique_by_key():
    seen = set()

    # Sizes are biased short, so the longest shows up only now and then: enough examples to see it.
    @settings(max_examples=200)
    @given(sized_lists(st.fixed_dictionaries({"Key": st.sampled_from("abcdef")}), 1, 5,
                       unique_by=lambda tag: tag["Key"]))
    def check(tags):
        keys = [tag["Key"] for tag in tags]
        assert 1 <= len(tags) <= 5 and len(set(keys)) == len(keys)
        seen.add(len(tags))

    check()
    assert {1, 5} <= seen


def test_members_of_always_has_the_required_and_sometimes_each_optional():
    present = {"b": set(), "c": set()}

    @settings(max_examples=60)
    @given(members_of({"a": st.just(1)}, {"b": st.just(2), "c": st.just(3)}))
    def check(value):
        assert value["a"] == 1 and set(value) <= {"a", "b", "c"}
        for name in present:
            present[name].add(name in value)

    check()
    assert present == {"b": {True, False}, "c": {True, False}}


def _mean_choices(strategy, examples: int = 40) -> float:
    counts = []

    # DataObject.conjecture_data is Hypothesis internals, stable for years; nothing public counts choices.
    @settings(max_examples=examples, database=None)
    @given(st.data())
    def check(data):
        before = len(data.conjecture_data.choices)
        data.draw(strategy)
        counts.append(len(data.conjecture_data.choices) - before)

    check()
    return sum(counts) / len(counts)


def test_a_valid_create_workspaces_request_costs_few_choices():
    # Each choice Hypothesis records costs tens of microseconds; per-character
    # ids and per-member presence flags once made this about 360.
    assert _mean_choices(strategies.requests("CreateWorkspaces")) < 150
