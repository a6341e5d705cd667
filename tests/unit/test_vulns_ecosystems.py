"""OSV ecosystems and names mapped to purl types and to the key Hoist indexes components by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packageurl import PackageURL

from hoist.domain.advisories import Affected
from hoist.domain.sbom import Component
from hoist.vulns import ECOSYSTEM_TO_PURL_TYPE, affected_key, component_key, component_keys, package_key, purl_type_for


def osv(ecosystem: str, name: str, purl: str | None = None) -> Affected:
    return Affected(ecosystem=ecosystem, name=name, purl=purl, ranges=(), versions=())


def from_purl(purl: str) -> Component:
    """A component as an SBOM reader builds it: the purl's fields as they are."""
    parsed = PackageURL.from_string(purl)
    return Component(type=parsed.type, name=parsed.name, version=parsed.version, namespace=parsed.namespace, purl=purl)


@pytest.mark.parametrize(
    ("ecosystem", "purl_type"),
    [
        ("PyPI", "pypi"),
        ("npm", "npm"),
        ("Maven", "maven"),
        ("Maven:https://maven.google.com", "maven"),
        ("Debian", "deb"),
        ("Debian:12", "deb"),
        ("Ubuntu:22.04:LTS", "deb"),
        ("Alpine:v3.18", "apk"),
        ("Go", "golang"),
        ("crates.io", "cargo"),
        ("RubyGems", "gem"),
        ("NuGet", "nuget"),
        ("Packagist", "composer"),
        ("Hex", "hex"),
        ("Pub", "pub"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("pypi", "pypi"),  # spelled loosely
        ("OSS-Fuzz", None),
    ],
)
def test_ecosystem_to_purl_type(ecosystem: str, purl_type: str | None) -> None:
    assert purl_type_for(ecosystem) == purl_type


def test_the_mapping_is_exposed() -> None:
    assert ECOSYSTEM_TO_PURL_TYPE["Maven"] == "maven"
    assert ECOSYSTEM_TO_PURL_TYPE["crates.io"] == "cargo"


@pytest.mark.parametrize(
    ("ecosystem", "name", "purl"),
    [
        ("Maven", "org.apache.logging.log4j:log4j-core", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        ("npm", "@angular/core", "pkg:npm/%40angular/core@17.0.0"),
        ("npm", "lodash", "pkg:npm/lodash@4.17.20"),
        ("PyPI", "Django_REST", "pkg:pypi/django-rest@3.0"),
        ("PyPI", "requests", "pkg:pypi/requests@2.30.0"),
        ("Go", "github.com/gorilla/mux", "pkg:golang/github.com/gorilla/mux@v1.8.0"),
        ("Packagist", "laravel/framework", "pkg:composer/laravel/framework@10.0.0"),
        ("crates.io", "smallvec", "pkg:cargo/smallvec@0.6.13"),
        ("RubyGems", "nokogiri", "pkg:gem/nokogiri@1.13.0"),
        ("NuGet", "Newtonsoft.Json", "pkg:nuget/Newtonsoft.Json@12.0.3"),
        ("Debian:12", "openssl", "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"),
        ("Ubuntu:22.04:LTS", "openssl", "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?arch=amd64"),
        ("Alpine:v3.18", "musl", "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"),
        ("GitHub Actions", "actions/checkout", "pkg:githubactions/actions/checkout@v4"),
    ],
)
def test_affected_key_equals_the_component_key_of_the_same_package(ecosystem: str, name: str, purl: str) -> None:
    component = from_purl(purl)
    key = affected_key(osv(ecosystem, name))
    assert key == (component.type, component.key)
    assert key == component_key(component)


def test_affected_key_examples() -> None:
    assert affected_key(osv("Maven", "org.apache.logging.log4j:log4j-core")) == (
        "maven",
        "org.apache.logging.log4j/log4j-core",
    )
    assert affected_key(osv("npm", "@Babel/Traverse")) == ("npm", "@babel/traverse")
    assert affected_key(osv("PyPI", "zope.interface")) == ("pypi", "zope-interface")
    assert affected_key(osv("Debian:11", "glibc")) == ("deb", "debian/glibc")
    assert affected_key(osv("Ubuntu:Pro:18.04:LTS", "glibc")) == ("deb", "ubuntu/glibc")
    assert affected_key(osv("Wolfi", "glibc")) == ("apk", "wolfi/glibc")
    assert affected_key(osv("Maven", "no-group")) == ("maven", "no-group")


def test_an_unknown_ecosystem_uses_the_records_purl_if_it_has_one() -> None:
    assert affected_key(osv("Nixpkgs", "openssl", "pkg:nix/openssl")) == ("nix", "openssl")
    assert affected_key(osv("OSS-Fuzz", "OpenSSL")) == ("oss-fuzz", "openssl")
    assert affected_key(osv("Linux Kernel", "linux", "not a purl")) == ("linuxkernel", "linux")


def test_component_keys_add_the_source_package_of_distribution_packages() -> None:
    libc6 = from_purl("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc")
    assert component_keys(libc6) == (("deb", "debian/libc6"), ("deb", "debian/glibc"))
    versioned = from_purl("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?upstream=openssl%403.0.11-1~deb12u2")
    assert component_keys(versioned) == (("deb", "debian/libssl3"), ("deb", "debian/openssl"))
    musl = from_purl("pkg:apk/alpine/musl@1.2.4-r2?upstream=musl")
    assert component_keys(musl) == (("apk", "alpine/musl"),)
    # only distribution packages: an npm upstream qualifier means nothing here
    assert component_keys(from_purl("pkg:npm/left-pad@1.3.0?upstream=x")) == (("npm", "left-pad"),)
    assert component_keys(Component(type="deb", name="x", purl="not a purl")) == (("deb", "x"),)


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}", fullmatch=True))
def test_pypi_keys_are_pep503_normalised(name: str) -> None:
    key = package_key("pypi", name)
    assert key == key.lower()
    assert "_" not in key
    assert "." not in key
    assert "--" not in key
    assert package_key("pypi", key) == key
