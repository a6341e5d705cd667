from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoist.domain.errors import BuildOutOfRange, InvalidVersion
from hoist.domain.versions import MAX_BUILD, Channel, Version, bounded_build, build_after


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("1.4.0", Channel.RELEASE),
        ("1.4.0+58", Channel.RELEASE),
        ("1.4.0.58", Channel.RELEASE),
        ("1.4.0-rc.1", Channel.RC),
        ("1.4.0-beta", Channel.RC),
        ("1.4.0-SNAPSHOT", Channel.SNAPSHOT),
        ("1.4.0-SNAPSHOT+3", Channel.SNAPSHOT),
        ("1.4.0-snapshot.2", Channel.SNAPSHOT),
        ("2.0.0-dev", Channel.SNAPSHOT),
        ("2.0.0-dev3", Channel.SNAPSHOT),
        ("2.0.0-develop", Channel.RC),
    ],
)
def test_channel_follows_the_prerelease(text: str, channel: Channel) -> None:
    assert Version.parse(text).channel is channel


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1.4",
        "v1.4.0",
        "01.4.0",
        "1.04.0",
        "1.4.0-",
        "1.4.0+",
        "1.4.0-01",
        "1.4.0_58",
        "1.4.0..1",
        "1.4.0-rc..1",
        "1.4.0.58.1",
        "1.4.0.-1",
        "1.4.0 extra",
        "x" * 200,
        "1.4.0-ä",
    ],
)
def test_invalid_versions_are_refused_with_a_clear_message(text: str) -> None:
    with pytest.raises(InvalidVersion) as info:
        Version.parse(text)
    assert info.value.message


def test_four_part_is_the_same_version_as_semver_build_and_keeps_its_spelling() -> None:
    four = Version.parse("1.4.0.57")
    assert four == Version.parse("1.4.0+57")
    assert hash(four) == hash(Version.parse("1.4.0+57"))
    assert str(four) == "1.4.0.57"
    assert four.canonical == "1.4.0+57"
    assert four.build_number == 57


def test_order_follows_semver_precedence_then_build_number() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.0+1",
        "1.0.0.2",
        "1.0.0+10",
        "1.0.0+build.x",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    versions = [Version.parse(v) for v in ordered]
    shuffled = versions[1::2] + versions[::2]
    assert sorted(shuffled) == versions
    assert all(a < b for a, b in itertools.pairwise(versions))


def test_tag_form_maps_plus_to_underscore_and_back() -> None:
    v = Version.parse("1.4.0-SNAPSHOT+58")
    assert v.tag == "1.4.0-SNAPSHOT_58"
    assert Version.from_tag(v.tag) == v
    assert Version.from_tag("latest") is None
    assert Version.from_tag("main") is None


def test_build_auto_appends_a_build_number_to_a_version_without_one() -> None:
    assert str(Version.parse("1.4.0-SNAPSHOT").with_build(7)) == "1.4.0-SNAPSHOT+7"
    with pytest.raises(InvalidVersion, match="already has a build"):
        Version.parse("1.4.0+3").with_build(4)
    assert Version.parse("1.4.0-rc.1+9").base == Version.parse("1.4.0-rc.1")


ident = st.from_regex(r"(0|[1-9][0-9]{0,3}|[a-zA-Z-][a-zA-Z0-9-]{0,5})", fullmatch=True)
versions = st.builds(
    lambda ma, mi, pa, pre, build: Version.parse(
        f"{ma}.{mi}.{pa}" + (f"-{'.'.join(pre)}" if pre else "") + (f"+{'.'.join(build)}" if build else "")
    ),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.lists(ident, max_size=3),
    st.lists(ident, max_size=2),
)


@given(versions)
def test_every_version_round_trips_through_text_and_tag(v: Version) -> None:
    assert Version.parse(str(v)) == v
    assert Version.from_tag(v.tag) == v


@given(versions, versions, versions)
def test_order_is_total_and_consistent_with_equality(a: Version, b: Version, c: Version) -> None:
    assert (a == b) == (a.sort_key == b.sort_key)
    assert (a < b) + (b < a) + (a == b) == 1
    if a <= b and b <= c:
        assert a <= c


def test_build_numbers_are_bounded_in_every_spelling() -> None:
    assert Version.parse(f"1.4.0+{MAX_BUILD}").build_number == MAX_BUILD
    assert Version.parse(f"1.4.0.{MAX_BUILD}").build_number == MAX_BUILD
    for text in (f"1.4.0+{MAX_BUILD + 1}", f"1.4.0.{MAX_BUILD + 1}", f"1.4.0-rc.1+{MAX_BUILD + 1}"):
        with pytest.raises(BuildOutOfRange, match=str(MAX_BUILD)):
            Version.parse(text)
    assert Version.parse(f"1.4.0+{MAX_BUILD + 1}.x").build_number is None  # build metadata, not a number
    with pytest.raises(BuildOutOfRange):
        Version.from_tag(f"1.4.0_{MAX_BUILD + 1}")
    with pytest.raises(BuildOutOfRange):
        Version.parse("1.4.0").with_build(MAX_BUILD + 1)
    with pytest.raises(BuildOutOfRange):
        bounded_build(-1)


def test_build_after_stops_at_the_bound() -> None:
    base = Version.parse("1.4.0")
    assert build_after(base, MAX_BUILD - 1) == MAX_BUILD
    with pytest.raises(BuildOutOfRange, match=r"no build number is left for 1\.4\.0"):
        build_after(base, MAX_BUILD)
