"""Real advisories matched against SBOM components: "Am I affected by Log4Shell?" and friends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoist.domain.advisories import Advisory, Affected
from hoist.domain.inventory import AdvisoryMatcher
from hoist.domain.sbom import Component
from hoist.vulns import affects, fixed_in, read_osv, same_package, version_affected
from hoist.vulns.facade import OsvMatcher
from tests.unit.test_vulns_osv import ALPINE_OPENSSL, BABEL_TRAVERSE, BIND9, JINJA2, LOG4SHELL, REQUESTS


def affected_by(advisory: Advisory, component: Component) -> bool:
    return any(affects(entry, component) for entry in advisory.affected)


def entry(ecosystem: str, name: str, *ranges: dict[str, Any], versions: tuple[str, ...] = ()) -> Affected:
    return Affected(ecosystem=ecosystem, name=name, purl=None, ranges=tuple(ranges), versions=versions)


def events(kind: str, *pairs: tuple[str, str]) -> dict[str, Any]:
    return {"type": kind, "events": [{key: value} for key, value in pairs]}


LOG4J_CORE_UPPER = "Org.Apache.Logging.Log4j:Log4j-Core"


def log4j(version: str | None, name: str = "log4j-core") -> Component:
    return Component(type="maven", namespace="org.apache.logging.log4j", name=name, version=version)


# --- Log4Shell ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected", "fix"),
    [
        ("2.0-alpha1", False, None),
        ("2.0-beta9", True, "2.3.1"),
        ("2.0", True, "2.3.1"),
        ("2.3", True, "2.3.1"),
        ("2.3.1", False, None),
        ("2.4", True, "2.12.2"),
        ("2.11.2", True, "2.12.2"),
        ("2.12.1", True, "2.12.2"),
        ("2.12.2", False, None),
        ("2.13.0", True, "2.15.0"),
        ("2.14.1", True, "2.15.0"),
        ("2.15.0", False, None),
        ("2.16.0", False, None),
        ("2.17.1", False, None),
    ],
)
def test_am_i_affected_by_log4shell(version: str, affected: bool, fix: str | None) -> None:
    advisory = read_osv(LOG4SHELL.encode())
    component = log4j(version)
    assert affected_by(advisory, component) is affected
    fixes = {fixed_in(e, component) for e in advisory.affected} - {None}
    assert fixes == ({fix} if fix else set())


def test_log4j_api_is_another_package() -> None:
    advisory = read_osv(LOG4SHELL.encode())
    assert not affected_by(advisory, log4j("2.14.1", name="log4j-api"))
    assert not any(same_package(e, log4j("2.14.1", name="log4j-api")) for e in advisory.affected)


def test_the_other_package_of_the_record_is_matched_by_its_own_entry() -> None:
    advisory = read_osv(LOG4SHELL.encode())
    pax = Component(type="maven", namespace="org.ops4j.pax.logging", name="pax-logging-log4j2", version="1.9.1")
    assert affected_by(advisory, pax)
    assert [same_package(e, pax) for e in advisory.affected] == [False, False, False, True]


def test_case_and_the_maven_repository_suffix_do_not_matter() -> None:
    google = entry("Maven:https://maven.google.com", LOG4J_CORE_UPPER, events("ECOSYSTEM", ("introduced", "2.0")))
    assert affects(google, log4j("2.14.1"))


def test_a_component_without_a_version_or_of_another_type_is_not_affected() -> None:
    advisory = read_osv(LOG4SHELL.encode())
    assert not affected_by(advisory, log4j(None))
    assert not affected_by(advisory, log4j("   "))
    assert not affected_by(
        advisory, Component(type="npm", namespace="org.apache.logging.log4j", name="log4j-core", version="2.14.1")
    )
    assert not affected_by(advisory, Component(type="maven", name="log4j-core", version="2.14.1"))  # no group


# --- PyPI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected"),
    [("2.2.1", False), ("2.3.0", True), ("2.25.1", True), ("2.30.0", True), ("2.31.0", False), ("2.32.3", False)],
)
def test_requests_ecosystem_range(version: str, affected: bool) -> None:
    advisory = read_osv(REQUESTS.encode())
    assert affected_by(advisory, Component(type="pypi", name="requests", version=version)) is affected
    assert affected_by(advisory, Component(type="pypi", name="Requests", version=version)) is affected


def test_pypi_names_are_compared_pep503_normalised() -> None:
    advisory = read_osv(JINJA2.encode())  # the record says "Jinja2"
    assert affected_by(advisory, Component(type="pypi", name="jinja2", version="3.1.2"))
    assert not affected_by(advisory, Component(type="pypi", name="jinja2", version="3.1.3"))
    dotted = entry("PyPI", "zope.interface", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "5.0")))
    assert affects(dotted, Component(type="pypi", name="Zope_Interface", version="4.7.2"))
    assert affects(dotted, Component(type="pypi", name="zope-interface", version="4.7.2"))


def test_pep440_ordering_is_used_for_pypi() -> None:
    fixed = entry("PyPI", "django", events("ECOSYSTEM", ("introduced", "4.2"), ("fixed", "4.2.11")))
    for version, affected in [
        ("4.2rc1", False),
        ("4.2", True),
        ("4.2.10", True),
        ("4.2.11", False),
        ("4.2.11.post1", False),
    ]:
        assert affects(fixed, Component(type="pypi", name="Django", version=version)) is affected, version


def test_git_ranges_are_ignored_but_listed_versions_still_match() -> None:
    git_only = entry(
        "PyPI",
        "requests",
        {"type": "GIT", "repo": "https://github.com/psf/requests", "events": [{"introduced": "0"}, {"fixed": "74ea7cf"}]},
    )
    assert not affects(git_only, Component(type="pypi", name="requests", version="2.30.0"))
    with_versions = Affected("PyPI", "requests", None, git_only.ranges, ("2.30.0",))
    assert affects(with_versions, Component(type="pypi", name="requests", version="2.30.0"))


def test_explicit_versions_list_without_ranges() -> None:
    listed = entry("PyPI", "ctx", versions=("0.1.2", "0.2.2", "0.2.6"))  # the 2022 hijacked releases
    assert affects(listed, Component(type="pypi", name="ctx", version="0.2.6"))
    assert not affects(listed, Component(type="pypi", name="ctx", version="0.2.5"))
    go = entry("Go", "github.com/example/mod", versions=("v1.2.3",))
    assert affects(go, Component(type="golang", namespace="github.com/example", name="mod", version="1.2.3"))


# --- npm ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("7.0.0", True),
        ("7.23.1", True),
        ("7.23.2", False),
        ("7.24.0", False),
        ("8.0.0-alpha.0", True),
        ("8.0.0-alpha.3", True),
        ("8.0.0-alpha.4", False),
        ("8.0.0", False),
    ],
)
def test_scoped_npm_package_with_semver_ranges(version: str, affected: bool) -> None:
    advisory = read_osv(BABEL_TRAVERSE.encode())
    component = Component(type="npm", namespace="@babel", name="traverse", version=version)
    assert affected_by(advisory, component) is affected


def test_npm_scope_is_part_of_the_name() -> None:
    advisory = read_osv(BABEL_TRAVERSE.encode())
    assert not affected_by(advisory, Component(type="npm", name="traverse", version="7.0.0"))
    assert not affected_by(advisory, Component(type="npm", namespace="@babel", name="core", version="7.0.0"))
    assert affected_by(advisory, Component(type="npm", namespace="@Babel", name="Traverse", version="7.0.0"))


# --- Debian ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("1:9.18.16-1~deb12u1", True),
        ("1:9.18.19-1~deb12u1", False),  # the fix
        ("1:9.18.19-1", False),  # "~" sorts before the end: the fix is older than this
        ("1:9.18.19-1~deb12u0", True),
        ("1:9.18.24-1", False),
        ("9.18.24-1", True),  # no epoch is epoch 0, older than any 1:...
        ("2:9.0-1", False),
    ],
)
def test_debian_versions_compare_with_epochs_and_tildes(version: str, affected: bool) -> None:
    advisory = read_osv(BIND9.encode())
    component = Component(type="deb", namespace="debian", name="bind9", version=version)
    assert affected_by(advisory, component) is affected


@pytest.mark.parametrize(
    ("version", "affected"),
    [("1:2.3-1", True), ("1:2.3-1+deb12u1", False), ("1:2.3-1+deb12u2", False), ("2.3-1+deb12u9", True), ("1:2.2-9", True)],
)
def test_debian_security_update_suffix(version: str, affected: bool) -> None:
    fixed = entry("Debian:12", "libexample", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1:2.3-1+deb12u1")))
    assert affects(fixed, Component(type="deb", namespace="debian", name="libexample", version=version)) is affected


def test_debian_binary_packages_match_their_source_package_through_syft_upstream() -> None:
    advisory = read_osv(BIND9.encode())
    binary = Component(
        type="deb",
        namespace="debian",
        name="bind9-libs",
        version="1:9.18.16-1~deb12u1",
        purl="pkg:deb/debian/bind9-libs@1%3A9.18.16-1~deb12u1?arch=amd64&distro=debian-12&upstream=bind9",
    )
    assert affected_by(advisory, binary)
    assert not affected_by(
        advisory, Component(type="deb", namespace="debian", name="bind9-libs", version="1:9.18.16-1~deb12u1")
    )


def test_debian_and_ubuntu_are_different_distributions() -> None:
    advisory = read_osv(BIND9.encode())
    assert not affected_by(advisory, Component(type="deb", namespace="ubuntu", name="bind9", version="1:9.18.16-1"))
    # a deb component whose purl lacks the distribution is compared by name
    assert affected_by(advisory, Component(type="deb", name="bind9", version="1:9.18.16-1"))


# --- Alpine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("3.1.3-r0", True),
        ("3.1.4-r0", True),
        ("3.1.4-r1", False),
        ("3.1.4-r10", False),
        ("3.1.5-r0", False),
        ("3.0.12-r4", True),
    ],
)
def test_alpine_revisions(version: str, affected: bool) -> None:
    advisory = read_osv(ALPINE_OPENSSL.encode())
    assert affected_by(advisory, Component(type="apk", namespace="alpine", name="openssl", version=version)) is affected


def test_alpine_subpackages_match_their_origin() -> None:
    advisory = read_osv(ALPINE_OPENSSL.encode())
    libcrypto = Component(
        type="apk",
        namespace="alpine",
        name="libcrypto3",
        version="3.1.3-r0",
        purl="pkg:apk/alpine/libcrypto3@3.1.3-r0?arch=x86_64&upstream=openssl&distro=alpine-3.18.4",
    )
    assert affected_by(advisory, libcrypto)
    assert fixed_in(advisory.affected[0], libcrypto) == "3.1.4-r1"
    assert not affected_by(advisory, Component(type="deb", namespace="debian", name="openssl", version="3.1.3-r0"))


# --- events: last_affected, limit, several intervals ------------------------------------------------


def test_last_affected_is_inclusive() -> None:
    crate = entry("crates.io", "smallvec", events("SEMVER", ("introduced", "0"), ("last_affected", "0.6.13")))
    for version, affected in [("0.6.12", True), ("0.6.13", True), ("0.6.14", False), ("1.0.0", False)]:
        assert affects(crate, Component(type="cargo", name="smallvec", version=version)) is affected, version


def test_several_intervals_in_one_range_and_an_open_end() -> None:
    gem = entry(
        "RubyGems",
        "nokogiri",
        events("ECOSYSTEM", ("introduced", "1.0.0"), ("last_affected", "1.2.0"), ("introduced", "2.0.0")),
    )
    for version, affected in [
        ("0.9", False),
        ("1.1.5", True),
        ("1.2.0", True),
        ("1.3", False),
        ("2.0.0", True),
        ("9.9", True),
    ]:
        assert affects(gem, Component(type="gem", name="nokogiri", version=version)) is affected, version


def test_events_out_of_order_are_sorted_first() -> None:
    shuffled = entry(
        "npm",
        "lodash",
        events("SEMVER", ("fixed", "4.17.21"), ("introduced", "4.0.0"), ("fixed", "3.10.2"), ("introduced", "0")),
    )
    for version, affected in [("3.10.1", True), ("3.10.2", False), ("4.0.0", True), ("4.17.20", True), ("4.17.21", False)]:
        assert affects(shuffled, Component(type="npm", name="lodash", version=version)) is affected, version


def test_limit_bounds_the_range() -> None:
    limited = entry("PyPI", "pkg", events("ECOSYSTEM", ("introduced", "0"), ("limit", "2.0")))
    assert affects(limited, Component(type="pypi", name="pkg", version="1.9"))
    assert not affects(limited, Component(type="pypi", name="pkg", version="2.0"))
    unlimited = entry("PyPI", "pkg", events("ECOSYSTEM", ("introduced", "1.0"), ("limit", "*")))
    assert affects(unlimited, Component(type="pypi", name="pkg", version="7.0"))
    assert not affects(unlimited, Component(type="pypi", name="pkg", version="0.9"))


def test_go_semver_ranges_accept_v_prefixed_versions() -> None:
    gin = entry("Go", "github.com/gin-gonic/gin", events("SEMVER", ("introduced", "0"), ("fixed", "1.9.1")))
    component = Component(type="golang", namespace="github.com/gin-gonic", name="gin", version="v1.9.0")
    assert affects(gin, component)
    assert fixed_in(gin, component) == "1.9.1"
    assert not affects(gin, Component(type="golang", namespace="github.com/gin-gonic", name="gin", version="v1.9.1"))


@pytest.mark.parametrize(
    ("ecosystem", "purl_type", "fixed", "below", "at"),
    [
        ("NuGet", "nuget", "13.0.1", "12.0.3", "13.0.1"),
        ("Packagist", "composer", "v5.4.31", "5.4.30", "5.4.31"),
        ("Hex", "hex", "1.7.2", "1.7.1", "1.7.2"),
        ("Pub", "pub", "0.13.6", "0.13.5", "0.13.6"),
        ("Hackage", "hackage", "0.10.4.1", "0.10.4", "0.10.4.1"),  # no univers class: generic ordering
    ],
)
def test_other_ecosystems(ecosystem: str, purl_type: str, fixed: str, below: str, at: str) -> None:
    affected = entry(ecosystem, "Some.Package", events("ECOSYSTEM", ("introduced", "0"), ("fixed", fixed)))
    assert affects(affected, Component(type=purl_type, name="some.package", version=below))
    assert not affects(affected, Component(type=purl_type, name="some.package", version=at))


# --- what never matches, and never raises -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ecosystem", "purl_type", "version"),
    [
        ("PyPI", "pypi", "not a version"),
        ("PyPI", "pypi", "latest!!"),
        ("npm", "npm", "next"),
        ("Debian:12", "deb", "¯\\_(ツ)_/¯"),
        ("Alpine:v3.18", "apk", "abc"),
    ],
)
def test_an_unparseable_component_version_does_not_match(ecosystem: str, purl_type: str, version: str) -> None:
    everything = entry(ecosystem, "x", events("ECOSYSTEM", ("introduced", "0")), events("SEMVER", ("introduced", "0")))
    namespace = {"deb": "debian", "apk": "alpine"}.get(purl_type)
    assert not affects(everything, Component(type=purl_type, namespace=namespace, name="x", version=version))


def test_a_range_with_an_unparseable_bound_is_not_matched() -> None:
    broken = entry("PyPI", "x", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "not-a-version!")))
    assert not affects(broken, Component(type="pypi", name="x", version="1.0"))


def test_malformed_ranges_from_storage_are_skipped() -> None:
    odd = Affected(
        "PyPI",
        "x",
        None,
        (
            {"type": "ECOSYSTEM"},
            {"type": 3, "events": []},
            {"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]},
            {"type": "UNKNOWN_KIND", "events": [{"introduced": "0"}]},
        ),
        (),
    )
    assert not affects(odd, Component(type="pypi", name="x", version="0.5"))


def test_an_unknown_ecosystem_matches_nothing() -> None:
    fuzz = entry("OSS-Fuzz", "openssl", events("ECOSYSTEM", ("introduced", "0")))
    assert not affects(fuzz, Component(type="generic", name="openssl", version="1.0"))


def test_version_affected_alone() -> None:
    advisory = read_osv(LOG4SHELL.encode())
    assert any(version_affected(e, "2.14.1") for e in advisory.affected)
    assert not any(version_affected(e, " ") for e in advisory.affected)


def test_a_raw_record_still_matches_after_a_json_round_trip() -> None:
    advisory = read_osv(LOG4SHELL.encode())
    again = read_osv(json.dumps(json.loads(advisory.raw)).encode())
    assert affected_by(again, log4j("2.14.1"))


# --- the OSV algorithm against plain interval arithmetic -------------------------------------------

_semver = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


@given(st.lists(_semver, min_size=1, max_size=8, unique=True), _semver, st.booleans())
def test_introduced_fixed_pairs_are_a_union_of_intervals(
    bounds: list[tuple[int, int, int]], version: tuple[int, int, int], from_zero: bool
) -> None:
    ordered = sorted(bounds)
    pairs: list[tuple[str, str]] = []
    intervals: list[tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]] = []
    starts = [None, *ordered[1::2]] if from_zero else ordered[0::2]
    ends = ordered[0::2] if from_zero else ordered[1::2]
    for index, start in enumerate(starts):
        end = ends[index] if index < len(ends) else None
        pairs.append(("introduced", "0" if start is None else _text(start)))
        if end is not None:
            pairs.append(("fixed", _text(end)))
        intervals.append((start, end))
    expected = any((start is None or start <= version) and (end is None or version < end) for start, end in intervals)
    affected = entry("npm", "pkg", events("SEMVER", *pairs))
    assert affects(affected, Component(type="npm", name="pkg", version=_text(version))) is expected


# --- the port -------------------------------------------------------------------------------------


def test_the_facade_implements_the_advisory_matcher_port(tmp_path: Path) -> None:
    matcher: AdvisoryMatcher = OsvMatcher()
    path = tmp_path / "log4shell.json"
    path.write_text(LOG4SHELL)
    (advisory,) = matcher.read_files([path])
    first = advisory.affected[0]
    assert matcher.affected_key(first) == ("maven", "org.apache.logging.log4j/log4j-core")
    assert matcher.affects(first, log4j("2.14.1"))
    assert matcher.parse_range("<2.17.1", "maven").contains("2.14.1")
    assert matcher.parse_query("log4j-core").key == "log4j-core"
    facade = OsvMatcher()
    assert facade.fixed_in(first, log4j("2.14.1")) == "2.15.0"
    assert facade.component_keys(log4j("2.14.1")) == (("maven", "org.apache.logging.log4j/log4j-core"),)
