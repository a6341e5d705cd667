"""Maven versions: ComparableVersion's order (https://maven.apache.org/pom.html#Version_Order_Specification),
checked on Maven's own examples and against univers' port on a few hundred realistic versions."""

from __future__ import annotations

import itertools
import random

import pytest
from univers.versions import MavenVersion as UniversMavenVersion

from hoist.domain.errors import BuildOutOfRange, InvalidVersion
from hoist.domain.maven import MavenVersion
from hoist.domain.versions import MAX_BUILD, Channel, Scheme, parse_version


def v(text: str) -> MavenVersion:
    return MavenVersion.parse(text)


def same(a: str, b: str) -> bool:
    return v(a).sort_key[0] == v(b).sort_key[0]


# ComparableVersionTest.VERSIONS_QUALIFIER (maven-artifact), ascending; without "1.0-RELEASE",
# which current Maven reads as the release itself (release = ga = final = "")
MAVEN_QUALIFIER_ORDER = [
    "NotAVersionSting",
    "1.0a1-SNAPSHOT",
    "1.0-alpha1",
    "1.0beta1-SNAPSHOT",
    "1.0-b2",
    "1.0-beta3.SNAPSHOT",
    "1.0-beta3",
    "1.0-milestone1-SNAPSHOT",
    "1.0-m2",
    "1.0-rc1-SNAPSHOT",
    "1.0-cr1",
    "1.0-SNAPSHOT",
    "1.0",
    "1.0-sp",
    "1.0-a",
    "1.0-whatever",
    "1.0.z",
    "1.0.1",
    "1.0.1.0.0.0.0.0.0.0.0.0.0.0.1",
]


def test_maven_qualifier_order() -> None:
    versions = [v(t) for t in MAVEN_QUALIFIER_ORDER]
    for lower, higher in itertools.pairwise(versions):
        assert lower < higher, (str(lower), str(higher))
    assert [str(x) for x in sorted(random.Random(13).sample(versions, len(versions)))] == MAVEN_QUALIFIER_ORDER


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1", "1.1"),
        ("1-snapshot", "1"),
        ("1", "1-sp"),
        ("1-foo2", "1-foo10"),
        ("1-1", "1.1"),
        ("1-ga", "1-sp"),
        ("1-ga.1", "1-sp.1"),
        ("1.0-SNAPSHOT", "1.0"),
        ("1.0-RC1", "1.0"),
        ("1.0-alpha-1", "1.0-beta-1"),
        ("1.0-M1", "1.0-RC1"),
        ("4.1.99.Final", "4.1.100.Final"),
        ("1.4.0", "1.4.0.57"),
        ("1.4.0.57", "1.4.0.58"),
        ("1.4.0.58", "1.4.1"),
    ],
)
def test_spec_examples_order(lower: str, higher: str) -> None:
    assert v(lower) < v(higher)
    assert v(higher) > v(lower)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.ga", "1"),
        ("1-ga", "1"),
        ("1-0", "1"),
        ("1.0", "1"),
        ("1-a1", "1-alpha-1"),
        ("1.0-alpha1", "1.0-a1"),
        ("1.0-beta1", "1.0-b1"),
        ("1.0-milestone1", "1.0-m1"),
        ("1.0-rc1", "1.0-cr1"),
        ("1.0-final", "1.0"),
        ("1.0-RELEASE", "1.0"),
        ("1.0ALPHA1", "1.0-a1"),
        ("4.1.100.Final", "4.1.100"),
    ],
)
def test_spec_examples_equal_in_order_but_stored_apart(a: str, b: str) -> None:
    assert same(a, b)
    assert v(a) != v(b)  # Maven paths are case-sensitive texts: both can be stored
    assert (v(a) < v(b)) != (v(b) < v(a))  # so the order stays total


def _realistic() -> list[str]:
    numbers = ["1", "1.0", "1.0.0", "1.0.1", "1.1", "1.10", "2.0", "1.0.0.1", "4.1.100"]
    qualifiers = ["", "-alpha-1", "-alpha1", "-a1", "-beta-2", "-b2", "-M1", "-m2", "-milestone-3", "-RC1"]
    qualifiers += ["-rc-2", "-CR1", "-cr2", ".Final", "-GA", "-final", "-sp1", "-SP", "-jre", "-android"]
    snapshots = ["", "-SNAPSHOT"]
    return [n + q + s for n, q, s in itertools.product(numbers, qualifiers, snapshots)]


def test_order_agrees_with_univers_on_realistic_versions() -> None:
    corpus = _realistic()
    assert len(corpus) > 300
    ours = {t: v(t).sort_key[0] for t in corpus}
    theirs = {t: UniversMavenVersion(t) for t in corpus}
    for a, b in itertools.combinations(corpus, 2):
        assert (ours[a] < ours[b]) == (theirs[a] < theirs[b]), (a, b)
        assert (ours[b] < ours[a]) == (theirs[b] < theirs[a]), (a, b)


def test_canonical_is_the_text_as_given() -> None:
    assert v("4.1.100.Final").canonical == "4.1.100.Final"
    assert str(v("1.0-RC1")) == "1.0-RC1"
    assert v("1.0-rc1") != v("1.0-RC1")


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("1.0", Channel.RELEASE),
        ("4.1.100.Final", Channel.RELEASE),
        ("1.0-GA", Channel.RELEASE),
        ("31.1-jre", Channel.RELEASE),
        ("1.0-sp1", Channel.RELEASE),
        ("1.4.0.57", Channel.RELEASE),
        ("1.0-RC1", Channel.RC),
        ("1.0-rc-2", Channel.RC),
        ("1.0-CR1", Channel.RC),
        ("1.0-alpha", Channel.RC),
        ("1.0-beta-3", Channel.RC),
        ("2.0.0-M1", Channel.RC),
        ("1.0b2", Channel.RC),
        ("1.0-SNAPSHOT", Channel.SNAPSHOT),
        ("1.0-RC1-SNAPSHOT", Channel.SNAPSHOT),
        ("1.0-snapshot", Channel.SNAPSHOT),
        ("1.0-20261204.183000-3", Channel.SNAPSHOT),
    ],
)
def test_channel(text: str, channel: Channel) -> None:
    assert v(text).channel is channel


def test_four_numbers_are_base_and_build() -> None:
    assert v("1.4.0.57").build_number == 57
    assert v("1.4.0.57").base == v("1.4.0")
    assert v("1.4.0").with_build(57) == v("1.4.0.57")
    assert v("1.4.0").build_number is None
    assert v("1.4.0").base == v("1.4.0")


def test_a_timestamped_snapshot_is_its_snapshot_and_its_file_counter() -> None:
    stamped = v("1.4.0-20261204.183000-3")
    assert stamped.build_number == 3
    assert stamped.base == v("1.4.0-SNAPSHOT")


@pytest.mark.parametrize("text", ["1.4", "1.4.0-RC1", "1.4.0-SNAPSHOT", "4.1.100.Final"])
def test_a_build_goes_only_onto_three_numbers(text: str) -> None:
    with pytest.raises(InvalidVersion, match="fourth number"):
        v(text).with_build(1)


def test_a_build_is_not_added_twice_nor_past_the_bound() -> None:
    with pytest.raises(InvalidVersion, match="already has a build"):
        v("1.4.0.57").with_build(58)
    with pytest.raises(BuildOutOfRange):
        v(f"1.4.0.{MAX_BUILD + 1}")
    with pytest.raises(BuildOutOfRange):
        v("1.4.0").with_build(MAX_BUILD + 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1.0/../x",
        "..",
        "1..0",
        "1.0\\x",
        "1.0\x00",
        "1.0\nx",
        "1 0",
        ".1.0",
        "1.0.",
        "-1.0",
        "1.0-",
        "a:b",
        "1" * 129,
    ],
)
def test_unusable_versions_are_refused(text: str) -> None:
    with pytest.raises(InvalidVersion):
        v(text)


def test_parse_version_reads_maven() -> None:
    parsed = parse_version(Scheme.MAVEN, "1.0-RC1")
    assert isinstance(parsed, MavenVersion)
    assert parsed.scheme is Scheme.MAVEN
