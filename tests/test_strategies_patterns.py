"""Self-tests of the length-aware pattern builder."""
import random

import pytest

import specs
from strategies.patterns import Pattern, pattern


def _patterned():
    found = {}
    for operation in specs.operation_names():
        for name, schema in specs.operation(operation)["input"].get("definitions", {}).items():
            if "pattern" in schema:
                found[name] = schema
    return sorted(found.items())


@pytest.mark.parametrize("name,schema", _patterned(), ids=lambda v: v if isinstance(v, str) else "")
def test_built_strings_have_the_asked_length_and_match(name, schema):
    compiled = pattern(schema["pattern"])
    rng = random.Random(name)
    lengths = compiled.lengths_between(schema.get("minLength", 0), schema.get("maxLength"), 6)
    assert lengths, name
    for length in lengths:
        value = compiled.build(length, rng)
        assert value is not None and len(value) == length and compiled.matches(value)
    broken = compiled.mismatch(lengths[-1], rng)
    if broken is not None:
        assert len(broken) == lengths[-1] and not compiled.matches(broken)


def test_length_sets_are_exact():
    compiled = Pattern(r"^(?:^(sg-([0-9a-f]{8}|[0-9a-f]{17}))$)(?![\s\S])")
    assert compiled.lengths_between(0, 30) == [11, 20]
    assert compiled.build(15, random.Random(0)) is None
    assert compiled.longer_than(11) == 20 and compiled.longer_than(20) is None


def test_huge_lengths_are_built_by_tiling():
    logo = Pattern(r"^(?:(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)(?![\s\S])")
    assert logo.longer_than(2_000_000) == 2_000_004
    value = logo.build(2_000_004, random.Random(1))
    assert len(value) == 2_000_004 and logo.matches(value)


def test_a_non_string_pattern_is_refused_with_its_name():
    with pytest.raises(TypeError, match="anchored="):
        Pattern(42)
