"""OSV records read into Advisory: fields, severity, files and zips, and every way input can be bad.

The records below are real advisories cut down to the fields Hoist reads (ids, aliases, packages,
ranges and severities as the databases publish them). test_vulns_matching imports them.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hoist.domain.advisories import Advisory, Severity
from hoist.domain.errors import InvalidInput
from hoist.vulns import highest_severity, read_osv, read_osv_files

LOG4J_CORE = "org.apache.logging.log4j:log4j-core"

LOG4SHELL = """{
  "schema_version": "1.4.0",
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-07-24T21:04:34Z",
  "published": "2021-12-10T00:40:56Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "details": "# Summary\\n\\nLog4j versions prior to 2.16.0 are subject to a remote code execution vulnerability.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [
    {"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}],
     "database_specific": {"last_known_affected_version_range": "<= 2.14.1"}},
    {"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"}]}]},
    {"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.4"}, {"fixed": "2.12.2"}]}]},
    {"package": {"ecosystem": "Maven", "name": "org.ops4j.pax.logging:pax-logging-log4j2"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.8.0"}, {"fixed": "1.9.2"}]}]}
  ],
  "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"}],
  "database_specific": {"cwe_ids": ["CWE-20", "CWE-400", "CWE-502", "CWE-917"], "severity": "CRITICAL",
                        "github_reviewed": true, "github_reviewed_at": "2021-12-10T00:40:41Z"}
}"""

# PyPA's record for CVE-2023-32681: no severity of its own, a GIT range next to the ECOSYSTEM one,
# and the affected versions enumerated. Its summary comes from the first line of "details".
REQUESTS = """{
  "id": "PYSEC-2023-74",
  "modified": "2023-06-05T01:13:00.921447Z",
  "published": "2023-05-26T18:15:00Z",
  "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
  "details": "Requests is a HTTP library. Since Requests 2.3.0, it leaks Proxy-Authorization headers.\\nFixed in 2.31.0.",
  "affected": [
    {"package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
     "ranges": [
       {"type": "GIT", "repo": "https://github.com/psf/requests",
        "events": [{"introduced": "0"}, {"fixed": "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"}]},
       {"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}
     ],
     "versions": ["2.3.0", "2.4.0", "2.10.0", "2.25.1", "2.28.2", "2.30.0"]}
  ]
}"""

# GHSA's record for CVE-2024-22195 (Jinja2 xmlattr injection): the package spelled "Jinja2".
JINJA2 = """{
  "id": "GHSA-h5c8-rqwp-cp95",
  "modified": "2024-01-11T15:20:48Z",
  "aliases": ["CVE-2024-22195"],
  "summary": "Jinja vulnerable to HTML attribute injection when passing user input as keys to xmlattr filter",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"}],
  "affected": [{"package": {"ecosystem": "PyPI", "name": "Jinja2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.3"}]}]}],
  "database_specific": {"severity": "MODERATE"}
}"""

# GHSA's record for CVE-2023-45133 (@babel/traverse): scoped npm package, SEMVER ranges including a
# pre-release line, scored with CVSS v4 only, so the severity comes from GHSA's label.
BABEL_TRAVERSE = """{
  "id": "GHSA-67hx-6x53-jw92",
  "modified": "2024-06-21T21:33:52Z",
  "aliases": ["CVE-2023-45133"],
  "summary": "Babel vulnerable to arbitrary code execution when compiling specifically crafted malicious code",
  "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
  "affected": [
    {"package": {"ecosystem": "npm", "name": "@babel/traverse"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "7.23.2"}]}]},
    {"package": {"ecosystem": "npm", "name": "@babel/traverse"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "8.0.0-alpha.0"}, {"fixed": "8.0.0-alpha.4"}]}]}
  ],
  "database_specific": {"severity": "CRITICAL", "github_reviewed": true}
}"""

# Debian's DSA-5504-1 (bind9, CVE-2023-3341 and CVE-2023-4236): versions with an epoch and "~".
BIND9 = """{
  "id": "DSA-5504-1",
  "modified": "2023-09-20T10:00:00Z",
  "aliases": ["CVE-2023-3341", "CVE-2023-4236"],
  "summary": "bind9 - security update",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "bind9", "purl": "pkg:deb/debian/bind9?arch=source"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9.18.19-1~deb12u1"}]}]}]
}"""

# Alpine's record for CVE-2023-5678 (openssl): source package "openssl", Alpine revisions "-rN".
ALPINE_OPENSSL = """{
  "id": "ALPINE-CVE-2023-5678",
  "modified": "2023-11-15T08:00:00Z",
  "aliases": ["CVE-2023-5678"],
  "details": "Issue summary: Generating or checking excessively long X9.42 DH keys may be very slow.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"}],
  "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.4-r1"}]}]}]
}"""

ALL_RECORDS = {
    "GHSA-jfh8-c2jp-5v3q": LOG4SHELL,
    "PYSEC-2023-74": REQUESTS,
    "GHSA-h5c8-rqwp-cp95": JINJA2,
    "GHSA-67hx-6x53-jw92": BABEL_TRAVERSE,
    "DSA-5504-1": BIND9,
    "ALPINE-CVE-2023-5678": ALPINE_OPENSSL,
}


def record(**fields: Any) -> bytes:
    """A minimal valid OSV record with some fields replaced (None removes a field)."""
    base: dict[str, Any] = {"id": "OSV-TEST-1", "modified": "2024-01-01T00:00:00Z"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


# --- reading a record -------------------------------------------------------------------------


def test_log4shell_is_read_with_every_field() -> None:
    advisory = read_osv(LOG4SHELL.encode(), source="GHSA-jfh8-c2jp-5v3q.json")
    assert advisory.id == "GHSA-jfh8-c2jp-5v3q"
    assert advisory.aliases == ("CVE-2021-44228",)
    assert advisory.summary == "Remote code injection in Log4j"
    assert advisory.severity is Severity.CRITICAL
    assert advisory.score == 10.0
    assert advisory.modified == datetime(2024, 7, 24, 21, 4, 34, tzinfo=UTC)
    assert advisory.raw == LOG4SHELL.encode()
    assert [a.name for a in advisory.affected] == [LOG4J_CORE] * 3 + ["org.ops4j.pax.logging:pax-logging-log4j2"]
    first = advisory.affected[0]
    assert first.ecosystem == "Maven"
    assert first.purl is None
    assert first.ranges == ({"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]},)
    assert first.versions == ()


def test_summary_falls_back_to_the_first_line_of_details() -> None:
    advisory = read_osv(REQUESTS.encode())
    assert advisory.summary.startswith("Requests is a HTTP library. Since Requests 2.3.0")
    assert "Fixed" not in advisory.summary
    assert advisory.affected[0].purl == "pkg:pypi/requests"
    assert advisory.affected[0].versions[:2] == ("2.3.0", "2.4.0")
    assert advisory.modified == datetime(2023, 6, 5, 1, 13, 0, 921447, tzinfo=UTC)


def test_details_with_leading_blank_lines_and_no_text_at_all() -> None:
    assert read_osv(record(details="\n\n  First line.  \nSecond.")).summary == "First line."
    assert read_osv(record()).summary == ""


@pytest.mark.parametrize(
    ("text", "severity", "score"),
    [
        (LOG4SHELL, Severity.CRITICAL, 10.0),
        (JINJA2, Severity.MEDIUM, 5.4),  # the CVSS v3 vector wins over the label
        (BABEL_TRAVERSE, Severity.CRITICAL, None),  # CVSS v4 only: GHSA's label
        (ALPINE_OPENSSL, Severity.MEDIUM, 5.3),
        (REQUESTS, Severity.UNKNOWN, None),  # nothing said at all
        (BIND9, Severity.UNKNOWN, None),
    ],
)
def test_severity_of_real_records(text: str, severity: Severity, score: float | None) -> None:
    advisory = read_osv(text.encode())
    assert advisory.severity is severity
    assert advisory.score == score


def test_the_highest_cvss_v3_score_wins_across_top_level_and_affected_entries() -> None:
    data = record(
        severity=[
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"},
            {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"},
        ],
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "x"},
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            }
        ],
        database_specific={"severity": "LOW"},
    )
    advisory = read_osv(data)
    assert (advisory.severity, advisory.score) == (Severity.CRITICAL, 9.8)


@pytest.mark.parametrize(
    ("fields", "severity"),
    [
        ({"database_specific": {"severity": "MODERATE"}}, Severity.MEDIUM),
        ({"database_specific": {"severity": "high"}}, Severity.HIGH),
        ({"database_specific": {"severity": "LOW"}}, Severity.LOW),
        ({"database_specific": {"severity": "unheard-of"}}, Severity.UNKNOWN),
        ({"database_specific": {"severity": 7}}, Severity.UNKNOWN),
        (
            {
                "affected": [
                    {
                        "package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "a"},
                        "ecosystem_specific": {"severity": "medium"},
                    },
                    {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "b"}, "database_specific": {"severity": "HIGH"}},
                ]
            },
            Severity.HIGH,
        ),
        ({"severity": [{"type": "Ubuntu", "score": "negligible"}]}, Severity.LOW),
        (
            {"severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]},
            Severity.UNKNOWN,
        ),
    ],
)
def test_severity_labels_when_there_is_no_cvss_v3_vector(fields: dict[str, Any], severity: Severity) -> None:
    advisory = read_osv(record(**fields))
    assert advisory.severity is severity
    assert advisory.score is None


def test_a_withdrawn_record_affects_nothing_but_is_still_read() -> None:
    data = json.loads(LOG4SHELL)
    data["withdrawn"] = "2024-08-01T00:00:00Z"
    advisory = read_osv(json.dumps(data).encode())
    assert advisory.id == "GHSA-jfh8-c2jp-5v3q"
    assert advisory.affected == ()
    assert b"withdrawn" in advisory.raw


def test_an_affected_entry_without_a_package_is_skipped() -> None:
    git_only = {"ranges": [{"type": "GIT", "repo": "https://example.org/x.git", "events": [{"introduced": "0"}]}]}
    advisory = read_osv(record(affected=[git_only, {"package": {"ecosystem": "npm", "name": "x"}}]))
    assert [a.name for a in advisory.affected] == ["x"]


@pytest.mark.parametrize(
    "modified",
    ["2021-12-10T00:40:56Z", "2021-12-10T00:40:56.123456789Z", "2021-12-10t00:40:56z", "2021-12-10T01:40:56+01:00"],
)
def test_modified_accepts_rfc3339_and_is_kept_in_utc(modified: str) -> None:
    advisory = read_osv(record(modified=modified))
    assert advisory.modified.replace(microsecond=0) == datetime(2021, 12, 10, 0, 40, 56, tzinfo=UTC)
    assert advisory.modified.tzinfo is UTC


# --- bad records ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.json: not JSON: Expecting value at line 1 column 1"),
        (b"{", "x.json: not JSON"),
        (b'{"id": "\xff"}', "x.json: not JSON: the bytes are not UTF-8 text"),
        (b"[]", "x.json: an OSV record is a JSON object, not an array"),
        (b'"GHSA"', "x.json: an OSV record is a JSON object, not a string"),
        (record(id=None), "x.json: the OSV record has no 'id'"),
        (record(id=""), "x.json: the OSV record has no 'id'"),
        (record(id=17), "x.json: the OSV record has no 'id'"),
        (record(modified=None), "x.json: OSV-TEST-1: the OSV record has no 'modified' date-time"),
        (record(modified="yesterday"), "x.json: OSV-TEST-1: 'modified' is not an RFC 3339 date-time: 'yesterday'"),
        (record(modified="2021-12-10"), "'modified' is not an RFC 3339 date-time"),
        (record(modified="2021-12-10T00:40:56"), "write it with a time zone, e.g. 2021-12-10T00:40:56Z"),
        (record(modified="2021-13-45T00:40:56Z"), "'modified' is not a valid date-time"),
        (record(modified=20211210), "'modified' is not an RFC 3339 date-time"),
        (record(withdrawn="soon"), "'withdrawn' is not an RFC 3339 date-time"),
        (record(aliases="CVE-2021-44228"), "'aliases' must be a JSON array, not a string"),
        (record(aliases=[1]), "'aliases' must hold strings, not a number"),
        (record(summary=["x"]), "'summary' must be a string, not an array"),
        (record(details={}), "'details' must be a string, not an object"),
        (record(affected={}), "'affected' must be a JSON array, not an object"),
        (record(affected=["x"]), "OSV-TEST-1: affected[0]: must be a JSON object, not a string"),
        (record(affected=[{"package": "x"}]), "affected[0]: 'package' must be a JSON object"),
        (record(affected=[{"package": {"name": "x"}}]), "affected[0]: 'package.ecosystem' is missing"),
        (record(affected=[{"package": {"ecosystem": "npm"}}]), "affected[0]: 'package.name' is missing"),
        (record(affected=[{"package": {"ecosystem": "npm", "name": "x", "purl": 1}}]), "'package.purl' must be a string"),
        (
            record(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "versions": "1.0"}]),
            "'versions' must be a JSON array",
        ),
        (record(affected=[{"ranges": [{"events": [{"introduced": "0"}]}]}]), "affected[0]: ranges[0]: 'type' is missing"),
        (record(affected=[{"ranges": [{"type": "SEMVER", "events": []}]}]), "ranges[0]: 'events' must be a non-empty list"),
        (
            record(affected=[{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]),
            "ranges[0]: events[0] must be one of introduced, fixed, last_affected, limit",
        ),
        (
            record(affected=[{"ranges": [{"type": "SEMVER", "events": [{"patched": "1.0"}]}]}]),
            "events[0] must be one of introduced, fixed, last_affected, limit",
        ),
        (record(affected=[{"ranges": [{"type": "SEMVER", "events": [{"fixed": 1}]}]}]), "with a version string"),
        (record(severity={"type": "CVSS_V3"}), "OSV-TEST-1: severity: must be a JSON array, not an object"),
        (record(severity=[{"type": "CVSS_V3"}]), 'severity[0]: must be {"type": "CVSS_V3", "score": "CVSS:3.1/..."}'),
        (
            record(severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}]),
            "x.json: OSV-TEST-1: severity[0]: CVSS vector 'CVSS:3.1/AV:N' lacks base metric(s) AC",
        ),
        (
            record(
                affected=[{"package": {"ecosystem": "npm", "name": "x"}, "severity": [{"type": "CVSS_V3", "score": "9.8"}]}]
            ),
            "affected[0].severity[0]: CVSS vector '9.8' does not start with CVSS:3.0/ or CVSS:3.1/",
        ),
    ],
)
def test_bad_records_are_rejected_naming_the_file_and_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_osv(data, source="x.json")
    assert message in caught.value.message


def test_without_a_source_errors_say_osv_record() -> None:
    with pytest.raises(InvalidInput, match=r"^OSV record: the OSV record has no 'id'"):
        read_osv(b"{}")


# --- files and zips ---------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_an_all_zip_with_many_members_is_read_in_order(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "all.zip", {f"{ident}.json": text for ident, text in ALL_RECORDS.items()})
    advisories = list(read_osv_files([archive]))
    assert [a.id for a in advisories] == list(ALL_RECORDS)
    assert advisories[0].raw == LOG4SHELL.encode()


def test_json_files_hold_one_record_or_an_array(tmp_path: Path) -> None:
    single = tmp_path / "GHSA-jfh8-c2jp-5v3q.json"
    single.write_text(LOG4SHELL)
    many = tmp_path / "pypi.JSON"
    many.write_text("[" + REQUESTS + "," + JINJA2 + "]")
    advisories = list(read_osv_files([single, many]))
    assert [a.id for a in advisories] == ["GHSA-jfh8-c2jp-5v3q", "PYSEC-2023-74", "GHSA-h5c8-rqwp-cp95"]
    assert json.loads(advisories[2].raw) == json.loads(JINJA2)


def test_directories_inside_a_zip_are_passed_over(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("advisories/"), "")
        zf.writestr("advisories/DSA-5504-1.json", BIND9)
    assert [a.id for a in read_osv_files([archive])] == ["DSA-5504-1"]


def test_reading_is_lazy(tmp_path: Path) -> None:
    good = tmp_path / "a.json"
    good.write_text(BIND9)
    advisories = read_osv_files([good, tmp_path / "missing.json"])
    assert next(advisories).id == "DSA-5504-1"
    with pytest.raises(InvalidInput, match=r"missing\.json: cannot read the file"):
        next(advisories)


def test_a_zip_member_that_is_not_json_is_an_error_naming_the_member(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "all.zip", {"GHSA-jfh8-c2jp-5v3q.json": LOG4SHELL, "README.txt": "not json"})
    advisories = read_osv_files([archive])
    assert next(advisories).id == "GHSA-jfh8-c2jp-5v3q"
    with pytest.raises(InvalidInput) as caught:
        next(advisories)
    assert caught.value.message.startswith(f"{archive}: member README.txt: not JSON: Expecting value")


def test_a_bad_record_in_a_zip_names_the_member_and_the_record(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "all.zip", {"PYSEC-1.json": record(id="PYSEC-1", modified="last week")})
    with pytest.raises(InvalidInput) as caught:
        list(read_osv_files([archive]))
    assert f"{archive}: member PYSEC-1.json: PYSEC-1: 'modified' is not an RFC 3339 date-time" in caught.value.message


def test_a_bad_element_of_a_json_array_is_named_by_its_index(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("[" + BIND9 + ', "oops"]')
    with pytest.raises(InvalidInput) as caught:
        list(read_osv_files([path]))
    assert caught.value.message == f"{path}[1]: an OSV record is a JSON object, not a string"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("all.zip", b"PK\x03\x04 definitely not a zip", "not a zip archive"),
        ("records.tar.gz", b"", "not an OSV file: give .json files"),
        ("records.json", b"{,}", "not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("records.json", b"42", "an OSV record is a JSON object (or an array of them), not a number"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        list(read_osv_files([path]))
    assert caught.value.message.startswith(str(path))
    assert message in caught.value.message


def test_a_missing_zip_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the file"):
        list(read_osv_files([tmp_path / "nope.zip"]))


# --- highest severity -------------------------------------------------------------------------


def _with(severity: Severity) -> Advisory:
    return Advisory(
        id=f"T-{severity.name}",
        aliases=(),
        summary="",
        severity=severity,
        score=None,
        modified=datetime(2024, 1, 1, tzinfo=UTC),
        affected=(),
        raw=b"{}",
    )


def test_highest_severity() -> None:
    assert highest_severity([]) is Severity.NONE
    assert highest_severity([_with(Severity.LOW), _with(Severity.HIGH), _with(Severity.MEDIUM)]) is Severity.HIGH
    assert highest_severity(read_osv(t.encode()) for t in (JINJA2, LOG4SHELL)) is Severity.CRITICAL
    # gates treat an unknown severity as the worst
    assert highest_severity([_with(Severity.CRITICAL), _with(Severity.UNKNOWN)]) is Severity.UNKNOWN
