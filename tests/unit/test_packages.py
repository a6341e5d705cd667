"""Package formats, native names and the keys native packages are stored under."""

from __future__ import annotations

import pytest

from hoist.domain.errors import InvalidName, InvalidVersion
from hoist.domain.maven import MavenVersion
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_package_name, validate_plain_package_name
from hoist.domain.packages import (
    PackageFormat,
    maven_coordinates,
    package_key,
    scheme_for,
    split_key,
    version_of,
)
from hoist.domain.pep440 import Pep440
from hoist.domain.versions import Scheme, SemVer


@pytest.mark.parametrize(
    ("fmt", "scheme"),
    [
        ("oci", Scheme.SEMVER),
        ("generic", Scheme.SEMVER),
        ("npm", Scheme.SEMVER),
        ("pypi", Scheme.PEP440),
        ("maven", Scheme.MAVEN),
    ],
)
def test_each_format_has_its_scheme(fmt: str, scheme: Scheme) -> None:
    assert scheme_for(fmt) is scheme
    assert scheme_for(PackageFormat(fmt)) is scheme


@pytest.mark.parametrize(
    ("fmt", "native", "key"),
    [
        ("npm", "left-pad", "npm/left-pad"),
        ("npm", "@acme/ui", "npm/@acme/ui"),
        ("npm", "lodash.merge", "npm/lodash.merge"),
        ("pypi", "Django", "pypi/django"),
        ("pypi", "zope.interface", "pypi/zope-interface"),
        ("pypi", "Shop__Utils", "pypi/shop-utils"),
        ("pypi", "a", "pypi/a"),
        ("maven", "org.acme:shop-core", "maven/org.acme:shop-core"),
        ("maven", "io.netty:netty-all", "maven/io.netty:netty-all"),
        ("generic", "shop/api", "shop/api"),
        ("oci", "shop-api", "shop-api"),
    ],
)
def test_package_keys(fmt: str, native: str, key: str) -> None:
    assert package_key(fmt, native) == key
    assert validate_package_name(key) == key
    parsed_fmt, parsed_native = split_key(key)
    if fmt in {"npm", "pypi", "maven"}:
        assert parsed_fmt == PackageFormat(fmt)
        assert package_key(fmt, parsed_native) == key
    else:
        assert (parsed_fmt, parsed_native) == (None, key)


@pytest.mark.parametrize(
    ("native", "message"),
    [
        ("", "empty"),
        ("Left-Pad", "lowercase"),
        (".hidden", "may not start with '.' or '_'"),
        ("_private", "may not start with '.' or '_'"),
        ("@acme/.ui", "may not start with '.' or '_'"),
        ("@acme/..", "may not start with '.' or '_'"),
        ("@acme", "scope but no name"),
        ("@/ui", "may hold only"),
        ("a/b", "may hold only"),
        ("a%2fb", "may hold only"),
        ("crazy~name", "may hold only"),
        ("hello(world)", "may hold only"),
        ("a b", "may hold only"),
        ("node_modules", "npm refuses"),
        ("a" * 215, "longer than 214"),
    ],
)
def test_npm_names_follow_npm_rules(native: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        package_key("npm", native)


def test_the_longest_npm_name_is_accepted() -> None:
    assert package_key("npm", "a" * 214) == "npm/" + "a" * 214


@pytest.mark.parametrize("native", ["", "-shop", "shop-", "shop utils", "shop/utils", "..", "shop+utils", "ünï"])
def test_pypi_names_follow_pep_508(native: str) -> None:
    with pytest.raises(InvalidName, match="PEP 508"):
        package_key("pypi", native)


@pytest.mark.parametrize(
    ("native", "message"),
    [
        ("org.acme", "artifactId is empty"),
        (":shop-core", "groupId is empty"),
        ("org..acme:shop-core", "empty part"),
        (".org:shop-core", "empty part"),
        ("org/acme:shop-core", "may hold only"),
        ("org.acme:shop/core", "may hold only"),
        ("org.acme:shop:core", "may hold only"),
        ("org.acme:..", "not a name"),
    ],
)
def test_maven_coordinates_are_checked(native: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        package_key("maven", native)


def test_a_key_longer_than_the_column_is_refused() -> None:
    with pytest.raises(InvalidName, match="at most 255"):
        package_key("maven", "org.acme:" + "a" * 250)


def test_maven_coordinates_of_a_key() -> None:
    assert maven_coordinates("maven/org.acme:shop-core") == ("org.acme", "shop-core")
    with pytest.raises(InvalidName, match="not a Maven package"):
        maven_coordinates("npm/left-pad")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("npm/Left-Pad", "reserved for the npm view.*publish with npm.*lowercase"),
        ("npm/shop/api", "reserved for the npm view"),
        ("pypi/shop utils", "reserved for the pypi view.*twine"),
        ("maven/shop/api", "reserved for the maven view.*mvn deploy"),
        ("pypi/Django", "spelled 'pypi/django'"),
        ("pypi/zope.interface", "spelled 'pypi/zope-interface'"),
    ],
)
def test_names_under_a_native_prefix_must_be_that_format_s_keys(name: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        validate_package_name(name)


@pytest.mark.parametrize("name", ["npm/left-pad", "pypi/django", "maven/org.acme:shop-core"])
def test_oci_and_generic_pushes_cannot_use_a_native_key(name: str) -> None:
    fmt = name.partition("/")[0]
    with pytest.raises(InvalidName, match=f"reserved for the {fmt} view"):
        validate_plain_package_name(name)


@pytest.mark.parametrize("name", ["shop/api", "npmjs/left-pad", "shop/npm", "mavenish"])
def test_plain_names_near_the_prefixes_stay_plain(name: str) -> None:
    assert validate_plain_package_name(name) == name
    assert split_key(name) == (None, name)


def test_versions_of_a_key_are_read_in_its_scheme() -> None:
    assert version_of("pypi/shop-utils", "1.4.0RC1") == Pep440.parse("1.4.0rc1")
    assert isinstance(version_of("maven/org.acme:shop-core", "1.0-SNAPSHOT"), MavenVersion)
    assert isinstance(version_of("npm/@acme/ui", "1.2.0"), SemVer)
    assert isinstance(version_of("shop/api", "1.2.0"), SemVer)
    with pytest.raises(InvalidVersion):
        version_of("shop/api", "1.0-SNAPSHOT")


@pytest.mark.parametrize(
    ("text", "package", "version"),
    [
        ("npm/@acme/ui@1.2.0", "npm/@acme/ui", SemVer.parse("1.2.0")),
        ("npm/left-pad@1.3.0-rc.1", "npm/left-pad", SemVer.parse("1.3.0-rc.1")),
        ("pypi/shop-utils@1.4.0.dev3", "pypi/shop-utils", Pep440.parse("1.4.0.dev3")),
        ("maven/org.acme:shop-core@1.4.0-SNAPSHOT", "maven/org.acme:shop-core", MavenVersion.parse("1.4.0-SNAPSHOT")),
        ("shop/api@1.4.0.57", "shop/api", SemVer.parse("1.4.0+57")),
    ],
)
def test_artifact_refs_of_native_packages(text: str, package: str, version: SemVer) -> None:
    ref = ArtifactRef.parse(text)
    assert ref.package == package
    assert ref.version == version
    assert str(ref) == text


def test_an_artifact_ref_of_a_native_package_by_digest() -> None:
    ref = ArtifactRef.parse("maven/org.acme:shop-core@sha256:" + "a" * 64)
    assert ref.package == "maven/org.acme:shop-core"
    assert ref.digest is not None


def test_an_artifact_ref_with_a_version_its_scheme_refuses() -> None:
    with pytest.raises(InvalidVersion, match="local version"):
        ArtifactRef.parse("pypi/shop-utils@1.4.0+local")
