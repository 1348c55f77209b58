"""Self-tests of the generation benchmark's measuring and reporting (not the figures)."""
from hypothesis import strategies as st

import strategies
from bench import generation
from strategies import coverage


def test_measure_counts_the_examples_it_draws():
    rate, count = generation.measure(strategies.requests("DescribeTags"), 20)
    assert count == 20 and rate > 0


def test_measure_treats_both_generators_alike():
    _, ours = generation.measure(st.integers(), 7)
    _, theirs = generation.measure(st.text(), 7)
    assert ours == theirs == 7


def test_table_shows_each_operation_and_the_median():
    figures = {
        "operations": [{"operation": "DescribeTags", "requests_per_s": 100.0,
                        "jsonschema_per_s": 10.0, "ratio": 10.0}],
        "generation_vs_jsonschema_ratio": 10.0, "target_ratio": 3.0,
    }
    text = generation._table(figures)
    assert "DescribeTags" in text and "median ratio: 10.00" in text


def test_coverage_reports_every_allowed_kind_as_produced():
    produced = coverage.produced_kinds("DescribeTags", examples=1)
    assert produced == strategies.violation_kinds("DescribeTags")
