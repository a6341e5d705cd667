from __future__ import annotations

import pytest

from hoist.domain.errors import InvalidEvidence
from hoist.domain.junit import summarize_junit
from hoist.domain.models import Result
from hoist.domain.pipeline import pipeline_from_environment, pipeline_from_option


def test_github_actions() -> None:
    p = pipeline_from_environment(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "812",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_SHA": "abc",
            "GITHUB_REF": "refs/tags/v1.4.0",
            "GITHUB_WORKFLOW": "release",
        }
    )
    assert p is not None
    assert (p.provider, p.id, p.project, p.commit, p.ref) == (
        "github-actions",
        "812",
        "acme/shop",
        "abc",
        "refs/tags/v1.4.0",
    )
    assert p.url == "https://github.com/acme/shop/actions/runs/812"


def test_gitlab_ci() -> None:
    p = pipeline_from_environment(
        {
            "GITLAB_CI": "true",
            "CI_PIPELINE_ID": "77",
            "CI_PIPELINE_URL": "https://gl/p/77",
            "CI_PROJECT_PATH": "acme/shop",
            "CI_COMMIT_SHA": "def",
            "CI_COMMIT_REF_NAME": "main",
            "CI_JOB_NAME": "build",
        }
    )
    assert p is not None and (p.provider, p.id, p.url, p.job) == ("gitlab-ci", "77", "https://gl/p/77", "build")


def test_jenkins() -> None:
    p = pipeline_from_environment(
        {
            "JENKINS_URL": "https://ci/",
            "BUILD_NUMBER": "9",
            "JOB_NAME": "shop",
            "BUILD_URL": "https://ci/job/shop/9/",
            "GIT_COMMIT": "123",
        }
    )
    assert p is not None and (p.provider, p.id, p.url, p.commit) == ("jenkins", "shop#9", "https://ci/job/shop/9/", "123")


def test_no_ci_means_no_pipeline() -> None:
    assert pipeline_from_environment({"HOME": "/root"}) is None


def test_option_overrides() -> None:
    assert pipeline_from_option("release-42").as_dict() == {"provider": "manual", "id": "release-42"}
    assert pipeline_from_option("argo:run-7").as_dict() == {"provider": "argo", "id": "run-7"}
    assert pipeline_from_option("https://ci/run/1").url == "https://ci/run/1"


PASSING = b"""<?xml version="1.0"?><testsuites><testsuite name="s" tests="2">
<testcase classname="a.B" name="one"/><testcase classname="a.B" name="two"><skipped/></testcase>
</testsuite></testsuites>"""
FAILING = b"""<testsuite name="s"><testcase classname="a" name="ok"/><testcase classname="a" name="bad">
<failure message="boom"/></testcase><testcase name="err"><error/></testcase></testsuite>"""


def test_junit_pass_and_fail_are_derived_from_the_report() -> None:
    ok = summarize_junit(PASSING)
    assert (ok.tests, ok.failures, ok.errors, ok.skipped, ok.result) == (2, 0, 0, 1, Result.PASS)
    bad = summarize_junit(FAILING)
    assert (bad.tests, bad.failures, bad.errors, bad.result) == (3, 1, 1, Result.FAIL)
    assert bad.failed_cases == ("a.bad", "err")


def test_an_empty_report_is_not_a_pass() -> None:
    assert summarize_junit(b"<testsuite/>").result is Result.FAIL


@pytest.mark.parametrize(
    "report",
    [b"not xml", b"<html/>", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>'],
)
def test_bad_reports_are_refused(report: bytes) -> None:
    with pytest.raises(InvalidEvidence):
        summarize_junit(report)
