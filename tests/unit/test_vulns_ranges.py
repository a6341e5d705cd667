"""The CLI's --range: parsed, compared per ecosystem, and refused with a useful message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoist.domain.errors import InvalidInput
from hoist.vulns import RangeSpec, parse_range
from hoist.vulns.ranges import Constraint


@pytest.mark.parametrize(
    "spec",
    [
        ">=2.0.0,<2.17.1",
        ">=2.0.0 <2.17.1",
        ">=2.0.0, <2.17.1",
        ">= 2.0.0 < 2.17.1",
        ">=2.0.0|<2.17.1",
        "<2.17.1|>=2.0.0",  # vers: order does not matter
        "vers:maven/>=2.0.0|<2.17.1",
        "VERS:maven/>=2.0.0|<2.17.1",
    ],
)
def test_log4j_ranges_in_every_spelling(spec: str) -> None:
    spec_range = parse_range(spec, "maven")
    assert spec_range.contains("2.14.1")
    assert spec_range.contains("2.0.0")
    assert spec_range.contains("2.17.0")
    assert not spec_range.contains("2.17.1")
    assert not spec_range.contains("1.2.17")
    assert not spec_range.contains("2.0-beta9")  # a Maven pre-release of 2.0.0


def test_parsed_fields() -> None:
    assert parse_range(">=2.0.0,<2.17.1") == RangeSpec(
        text=">=2.0.0,<2.17.1",
        constraints=(Constraint(">=", "2.0.0"), Constraint("<", "2.17.1")),
        purl_type=None,
        union=False,
    )
    vers = parse_range("vers:maven/>=2.0.0|<2.17.1")
    assert (vers.purl_type, vers.union) == ("maven", True)
    assert str(vers) == "vers:maven/>=2.0.0|<2.17.1"
    assert str(parse_range("==1.2.3,!=1.2.4")) == "1.2.3,!=1.2.4"
    assert parse_range("<2.17.1", "Maven").purl_type == "maven"


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("<2.17.1", ["2.17.0", "0.1"], ["2.17.1", "3.0"]),
        ("<=2.17.1", ["2.17.1"], ["2.17.2"]),
        (">2.0", ["2.0.1"], ["2.0", "1.9"]),
        ("=1.2.3", ["1.2.3"], ["1.2.4", "1.2.2"]),
        ("==1.2.3", ["1.2.3"], ["1.2.4"]),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
        ("!=1.2.3", ["1.2.4", "0.1"], ["1.2.3"]),
        (">=1.0,!=1.5,<2.0", ["1.0", "1.4", "1.6"], ["1.5", "2.0", "0.9"]),
        ("vers:pypi/>=1.0|!=1.5|<2.0", ["1.0", "1.6"], ["1.5", "2.0"]),
        ("<1.0|>=2.0,<3.0", ["0.5", "2.5"], ["1.5", "3.0"]),  # a union of intervals
        ("vers:npm/<1.0.0|>=2.0.0", ["0.9.0", "2.0.0", "9.0.0"], ["1.0.0", "1.9.9"]),
        ("vers:npm/*", ["0.0.1", "99.0.0"], []),
        ("vers:pypi/1.0|2.0", ["1.0", "2.0"], ["1.5"]),
    ],
)
def test_operators(spec: str, inside: list[str], outside: list[str]) -> None:
    spec_range = parse_range(spec)
    for version in inside:
        assert spec_range.contains(version, "pypi"), version
    for version in outside:
        assert not spec_range.contains(version, "pypi"), version


def test_the_component_type_picks_the_ordering() -> None:
    spec_range = parse_range("<1:2.3-1+deb12u1")  # an epoch: only Debian reads it as one
    assert spec_range.contains("1:2.3-1", "deb")
    assert spec_range.contains("2.9-1", "deb")  # epoch 0
    assert not spec_range.contains("1:2.3-1+deb12u1", "deb")
    pre = parse_range("<2.0.0")
    assert pre.contains("2.0.0rc1", "pypi")
    assert pre.contains("2.0.0-rc.1", "npm")
    assert pre.contains("2.0.0-beta9", "maven")
    alpine = parse_range("<3.1.4-r10", "apk")
    assert alpine.contains("3.1.4-r2")
    assert not alpine.contains("3.1.4-r10")


def test_without_a_type_the_ordering_is_generic() -> None:
    spec_range = parse_range(">=2.0.0,<2.17.1")
    assert spec_range.contains("2.14.1")
    assert spec_range.contains("2.9")  # numeric, not lexicographic
    assert not spec_range.contains("2.17.1")
    assert not spec_range.contains("2.17.1.0")
    assert spec_range.contains("2.17.1-rc1")  # a pre-release comes before its release
    assert not spec_range.contains("2.17.1.post1")
    assert spec_range.contains("v2.3")


def test_versions_an_ecosystem_cannot_read_are_not_contained() -> None:
    assert not parse_range("<2.0", "pypi").contains("not-a-version!")
    assert not parse_range("<2.0").contains("a b")
    assert not parse_range("<2.0").contains("")
    # a bound the component's ecosystem cannot read: nothing is contained
    assert not parse_range("<1:2.3-1").contains("1.0", "pypi")


@pytest.mark.parametrize(
    ("spec", "purl_type", "message"),
    [
        ("", None, "empty version range: give one, e.g. '<2.17.1'"),
        ("   ", None, "empty version range"),
        (",|", None, "version range ',|' has no constraints"),
        (">>2.0", None, "bad constraint '>>2.0' in version range '>>2.0': expected an operator"),
        ("=>2.0", None, "bad constraint '=>2.0'"),
        ("<", None, "bad constraint '<' in version range '<': '<' needs a version after it"),
        (">=2.0,<", None, "bad constraint '<' in version range '>=2.0,<'"),
        ("^1.2.0", None, "npm's '^' and '~' are not supported; write the bounds out, e.g. '<2.17.1'"),
        ("~1.2", None, "npm's '^' and '~' are not supported"),
        ("[2.0,2.17.1)", None, "bad constraint '[2.0'"),
        ("<2.0;rm", None, "bad constraint '<2.0;rm'"),
        ("vers:maven", None, "bad vers range 'vers:maven': write 'vers:<type>/<constraints>'"),
        ("vers:/<2.0", None, "bad vers range"),
        ("vers:maven/", None, "bad vers range"),
        ("vers:npm/*|<2.0", None, "'*' (any version) must stand alone"),
        ("<not!version", "pypi", "bad constraint '<not!version'"),
        ("<abc", "pypi", "'abc' in version range '<abc' is not a valid pypi version"),
        ("vers:pypi/<abc", None, "'abc' in version range 'vers:pypi/<abc' is not a valid pypi version"),
        ("vers:npm/<2.0.0", "maven", "is for npm versions but the package is maven: write 'vers:maven/...'"),
    ],
)
def test_bad_ranges_name_the_bad_part_and_show_an_example(spec: str, purl_type: str | None, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_range(spec, purl_type)
    assert message in caught.value.message
    assert "e.g." in caught.value.message


def test_vers_type_may_be_generic_or_semver_for_a_semver_ecosystem() -> None:
    assert parse_range("vers:generic/<2.0", "maven").contains("1.0")
    assert parse_range("vers:semver/<2.0.0", "npm").contains("1.0.0")


_version = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


@given(_version, _version, _version, st.sampled_from(["npm", "pypi", "maven", "deb", None]))
def test_all_of_and_vers_readings_agree_with_interval_arithmetic(
    low: tuple[int, int, int], high: tuple[int, int, int], version: tuple[int, int, int], purl_type: str | None
) -> None:
    expected = low <= version < high
    text = _text(version)
    assert parse_range(f">={_text(low)},<{_text(high)}").contains(text, purl_type) is expected
    assert parse_range(f">={_text(low)} <{_text(high)}", purl_type).contains(text) is expected
    if low < high:  # a well-formed vers range
        assert parse_range(f"<{_text(high)}|>={_text(low)}").contains(text, purl_type) is expected
