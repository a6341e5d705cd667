"""JUnit XML test reports, summarised into a result. The server computes the result itself from
the report, so a client cannot claim ``pass`` for a report with failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from hoist.domain.errors import InvalidEvidence
from hoist.domain.models import Result

MAX_REPORT_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TestSummary:
    tests: int
    failures: int
    errors: int
    skipped: int
    failed_cases: tuple[str, ...]

    @property
    def result(self) -> Result:
        ok = self.tests > 0 and self.failures == 0 and self.errors == 0
        return Result.PASS if ok else Result.FAIL

    def as_dict(self) -> dict[str, object]:
        return {
            "tests": self.tests,
            "failures": self.failures,
            "errors": self.errors,
            "skipped": self.skipped,
            "failed_cases": list(self.failed_cases[:50]),
        }


def summarize_junit(report: bytes) -> TestSummary:
    if len(report) > MAX_REPORT_BYTES:
        raise InvalidEvidence(f"JUnit report is larger than {MAX_REPORT_BYTES} bytes")
    if b"<!DOCTYPE" in report or b"<!ENTITY" in report:
        raise InvalidEvidence("JUnit report must not contain a DOCTYPE or entity declarations")
    try:
        root = ET.fromstring(report)  # noqa: S314 - see the DOCTYPE check above
    except ET.ParseError as exc:
        raise InvalidEvidence(f"JUnit report is not well-formed XML: {exc}") from None
    if root.tag not in {"testsuites", "testsuite"}:
        raise InvalidEvidence(f"not a JUnit report: root element is <{root.tag}>")
    tests = failures = errors = skipped = 0
    failed: list[str] = []
    for case in root.iter("testcase"):
        tests += 1
        name = ".".join(filter(None, [case.get("classname"), case.get("name")])) or "?"
        if case.find("failure") is not None:
            failures += 1
            failed.append(name)
        elif case.find("error") is not None:
            errors += 1
            failed.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
    return TestSummary(tests, failures, errors, skipped, tuple(failed))
