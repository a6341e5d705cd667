"""PEP 440 versions: normalisation and order checked against ``packaging`` (what pip runs)."""

from __future__ import annotations

import itertools
import random

import pytest
from packaging.version import Version as PackagingVersion

from hoist.domain.errors import BuildOutOfRange, InvalidVersion
from hoist.domain.pep440 import Pep440
from hoist.domain.versions import MAX_BUILD, Channel, Scheme, SemVer, Version, parse_version


def _corpus() -> list[str]:
    releases = ["0.1", "1.0", "1.0.0", "1.4.0", "1.4.0.57", "1.10", "2!1.0", "1!0.9"]
    pres = ["", "a1", "alpha2", "b1", "beta", "c1", "rc1", "pre2", "preview3", "-RC.4", "_a_5"]
    posts = ["", ".post1", "-2", ".r3", "rev4", "post"]
    devs = ["", ".dev0", ".dev5", "dev"]
    return [r + p + q + d for r, p, q, d in itertools.product(releases, pres, posts, devs)]


CORPUS = _corpus()


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(CORPUS) > 1000


def test_normalised_spelling_is_the_one_pip_shows() -> None:
    for text in CORPUS:
        assert Pep440.parse(text).canonical == str(PackagingVersion(text)), text


def test_order_is_pep_440_order() -> None:
    ours = {text: Pep440.parse(text) for text in CORPUS}
    theirs = {text: PackagingVersion(text) for text in CORPUS}
    for a, b in itertools.combinations(CORPUS[::3], 2):
        if theirs[a] < theirs[b]:
            assert ours[a] < ours[b], (a, b)
        elif theirs[a] > theirs[b]:
            assert ours[a] > ours[b], (a, b)


def test_versions_pep_440_calls_equal_still_sort_apart_by_spelling() -> None:
    # 1.0 and 1.0.0 are equal to pip but can both be stored: the order stays total
    short, long = Pep440.parse("1.0"), Pep440.parse("1.0.0")
    assert short != long
    assert short < long
    assert sorted([long, short]) == [short, long]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.0.0RC1", "1.0.0rc1"),
        ("v1.0", "1.0"),
        ("1.0-alpha.2", "1.0a2"),
        ("1.0c1", "1.0rc1"),
        ("1.0-5", "1.0.post5"),
        ("1.0.dev", "1.0.dev0"),
        ("01.02", "1.2"),
        (" 2!1.0.POST-3 ", "2!1.0.post3"),
        ("0!1.0", "1.0"),
    ],
)
def test_alternate_spellings_are_normalised(text: str, canonical: str) -> None:
    version = Pep440.parse(text)
    assert version.canonical == canonical
    assert str(version) == canonical


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("1.4.0", Channel.RELEASE),
        ("1.4.0.post1", Channel.RELEASE),
        ("1.4.0.57", Channel.RELEASE),
        ("1.4.0a1", Channel.RC),
        ("1.4.0b2", Channel.RC),
        ("1.4.0rc1", Channel.RC),
        ("1.4.0rc1.post1", Channel.RC),
        ("1.4.0.dev3", Channel.SNAPSHOT),
        ("1.4.0rc1.dev3", Channel.SNAPSHOT),
        ("1.4.0.post1.dev2", Channel.SNAPSHOT),
    ],
)
def test_channel(text: str, channel: Channel) -> None:
    assert Pep440.parse(text).channel is channel


def test_dev_before_pre_before_release_before_post() -> None:
    spelled = ["1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0b1", "1.0rc1", "1.0", "1.0.post1.dev1", "1.0.post1", "1.0.1"]
    versions = [Pep440.parse(t) for t in spelled]
    assert sorted(random.Random(13).sample(versions, len(versions))) == versions


def test_four_part_release_is_base_and_build() -> None:
    v = Pep440.parse("1.4.0.57")
    assert v.build_number == 57
    assert v.has_build
    assert v.base == Pep440.parse("1.4.0")
    assert Pep440.parse("1.4.0").with_build(57) == v
    assert str(Pep440.parse("1.4.0").with_build(57)) == "1.4.0.57"
    assert Pep440.parse("1!1.4.0").with_build(3).canonical == "1!1.4.0.3"
    assert Pep440.parse("1.4.0.post1").build_number is None
    assert Pep440.parse("1.4").build_number is None
    assert Pep440.parse("1.4.0.5.6").build_number is None


@pytest.mark.parametrize("text", ["1.4", "1.4.0rc1", "1.4.0.post1", "1.4.0.dev1", "1.4.0.5.6"])
def test_a_build_goes_only_onto_a_plain_three_part_release(text: str) -> None:
    with pytest.raises(InvalidVersion, match="fourth part"):
        Pep440.parse(text).with_build(1)


def test_a_build_is_not_added_twice() -> None:
    with pytest.raises(InvalidVersion, match="already has a build"):
        Pep440.parse("1.4.0.57").with_build(58)


def test_a_build_past_the_bound_is_refused() -> None:
    with pytest.raises(BuildOutOfRange):
        Pep440.parse(f"1.4.0.{MAX_BUILD + 1}")
    with pytest.raises(BuildOutOfRange):
        Pep440.parse("1.4.0").with_build(MAX_BUILD + 1)


def test_a_local_version_is_refused_and_says_why() -> None:
    with pytest.raises(InvalidVersion, match=r"local version.*same published build"):
        Pep440.parse("1.4.0+ubuntu1")


@pytest.mark.parametrize("text", ["", "  ", "1.0.", "1..0", "1.0-", "abc", "1.0 rc1", "1.0/2", "1.0rc1rc2", "1" * 129])
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(InvalidVersion):
        Pep440.parse(text)


def test_a_normalised_spelling_past_the_column_is_refused() -> None:
    text = "10" + ".1" * 59 + "apostdev"  # 128 characters; normalised "...a0.post0.dev0" has 133
    assert len(text) == 128
    with pytest.raises(InvalidVersion, match="longer than 128"):
        Pep440.parse(text)


def test_parse_version_dispatches_on_the_scheme() -> None:
    assert isinstance(parse_version(Scheme.PEP440, "1.0rc1"), Pep440)
    assert isinstance(parse_version(Scheme.SEMVER, "1.0.0-rc.1"), SemVer)
    assert Pep440.parse("1.0").scheme is Scheme.PEP440


def test_versions_of_two_schemes_are_not_ordered_against_each_other() -> None:
    with pytest.raises(TypeError, match="pep440 version cannot be ordered against a semver"):
        _ = Pep440.parse("1.0.0") < Version.parse("1.0.0")
