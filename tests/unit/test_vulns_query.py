"""`hoist sbom affected PURL-or-name`: what the argument means and which components it selects."""

from __future__ import annotations

import pytest

from hoist.domain.errors import InvalidInput
from hoist.domain.sbom import Component
from hoist.vulns import Query, parse_query, query_matches

LOG4J = Component(
    type="maven",
    namespace="org.apache.logging.log4j",
    name="log4j-core",
    version="2.14.1",
    purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
)
SHADED = Component(type="maven", namespace="com.example.shaded", name="log4j-core", version="2.17.1")
NPM_LOG4J = Component(type="npm", name="log4j-core", version="1.0.0")
ANGULAR = Component(type="npm", namespace="@angular", name="core", version="17.0.0")
DJANGO = Component(type="pypi", name="Django_REST", version="3.0")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            Query(type="maven", key="org.apache.logging.log4j/log4j-core", version="2.14.1", name="log4j-core"),
        ),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core",
            Query(type="maven", key="org.apache.logging.log4j/log4j-core", version=None, name="log4j-core"),
        ),
        ("pkg:npm/%40angular/core@17.0.0", Query(type="npm", key="@angular/core", version="17.0.0", name="core")),
        ("PKG:pypi/Django_REST", Query(type="pypi", key="django-rest", version=None, name="django-rest")),
        ("log4j-core", Query(type=None, key="log4j-core", version=None, name="log4j-core")),
        ("  Log4j-Core  ", Query(type=None, key="log4j-core", version=None, name="Log4j-Core")),
        ("log4j-core@2.14.1", Query(type=None, key="log4j-core", version="2.14.1", name="log4j-core")),
        (
            "org.apache.logging.log4j:log4j-core",
            Query(type="maven", key="org.apache.logging.log4j/log4j-core", version=None, name="log4j-core"),
        ),
        (
            "org.apache.logging.log4j:log4j-core:2.14.1",
            Query(type="maven", key="org.apache.logging.log4j/log4j-core", version="2.14.1", name="log4j-core"),
        ),
        ("@angular/core", Query(type="npm", key="@angular/core", version=None, name="core")),
        ("@angular/core@17.0.0", Query(type="npm", key="@angular/core", version="17.0.0", name="core")),
        ("laravel/framework", Query(type=None, key="laravel/framework", version=None, name="framework")),
    ],
)
def test_parse_query(text: str, query: Query) -> None:
    assert parse_query(text) == query


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no package given: give a package URL (pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1)"),
        ("   ", "no package given"),
        ("log4j core", "'log4j core' is not a package (it contains spaces)"),
        ("pkg:", "'pkg:' is not a valid package URL: purl is missing the required type component"),
        ("pkg:maven", "is not a valid package URL"),
        ("pkg:maven/@2.14.1", "is not a valid package URL: purl is missing the required name component"),
        ("@angular", "'@angular' is not an npm package: write @scope/name or @scope/name@version"),
        ("@/core", "is not an npm package"),
        ("@angular/core/extra", "is not an npm package"),
        ("@angular/core@", "is not an npm package"),
        ("org.apache:", "'org.apache:' is not a Maven package: write group:artifact or group:artifact:version"),
        ("a:b:c:d", "is not a Maven package"),
        ("log4j-core@", "'log4j-core@' is not a package"),
        ("@", "is not an npm package"),
        ("<script>", "'<script>' is not a package name"),
        ("-rf", "'-rf' is not a package name"),
    ],
)
def test_bad_queries(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(text)
    assert message in caught.value.message


def test_a_purl_selects_that_package_and_exactly_that_version() -> None:
    query = parse_query("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert query_matches(query, LOG4J)
    assert not query_matches(
        query, Component(type="maven", namespace="org.apache.logging.log4j", name="log4j-core", version="2.15.0")
    )
    assert not query_matches(query, Component(type="maven", namespace="org.apache.logging.log4j", name="log4j-core"))
    assert not query_matches(query, SHADED)
    assert not query_matches(query, NPM_LOG4J)


def test_a_purl_without_a_version_selects_every_version() -> None:
    query = parse_query("pkg:maven/org.apache.logging.log4j/log4j-core")
    assert query_matches(query, LOG4J)
    assert query_matches(
        query, Component(type="maven", namespace="org.apache.logging.log4j", name="log4j-core", version="2.0")
    )


def test_a_bare_name_selects_that_name_in_every_ecosystem_and_namespace() -> None:
    query = parse_query("log4j-core")
    assert [query_matches(query, c) for c in (LOG4J, SHADED, NPM_LOG4J, ANGULAR)] == [True, True, True, False]
    assert query_matches(parse_query("log4j-core@2.17.1"), SHADED)
    assert not query_matches(parse_query("log4j-core@2.17.1"), LOG4J)


def test_a_bare_name_may_carry_the_namespace() -> None:
    assert query_matches(parse_query("org.apache.logging.log4j/log4j-core"), LOG4J)
    assert not query_matches(parse_query("org.apache.logging.log4j/log4j-core"), SHADED)


def test_names_are_compared_as_their_ecosystem_compares_them() -> None:
    assert query_matches(parse_query("django-rest"), DJANGO)
    assert query_matches(parse_query("Django.Rest"), DJANGO)
    assert query_matches(parse_query("pkg:pypi/django.rest@3.0"), DJANGO)
    assert query_matches(parse_query("@Angular/Core@17.0.0"), ANGULAR)
    assert query_matches(parse_query("pkg:npm/%40angular/core@17.0"), ANGULAR)  # coerced to 17.0.0


def test_versions_are_compared_in_the_components_ecosystem() -> None:
    assert query_matches(parse_query("pkg:pypi/django-rest@3.0.0"), DJANGO)  # PEP 440: 3.0 == 3.0.0
    assert not query_matches(parse_query("pkg:pypi/django-rest@3.0.1"), DJANGO)
    debian = Component(type="deb", namespace="debian", name="libc6", version="2.36-9+deb12u4")
    assert query_matches(parse_query("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4"), debian)
    assert query_matches(parse_query("pkg:deb/debian/libc6@0:2.36-9+deb12u4"), debian)  # epoch 0 written out


def test_source_packages_find_their_binaries() -> None:
    libc6 = Component(
        type="deb",
        namespace="debian",
        name="libc6",
        version="2.36-9+deb12u4",
        purl="pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc",
    )
    assert query_matches(parse_query("pkg:deb/debian/glibc"), libc6)
