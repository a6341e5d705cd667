"""CVSS v3.x base scores computed from vectors, checked against scores NVD and GHSA publish."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoist.domain.advisories import Severity
from hoist.domain.errors import InvalidInput
from hoist.vulns.cvss import cvss3_base_score, roundup


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # CVE-2021-44228 (Log4Shell), GHSA-jfh8-c2jp-5v3q
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        # the classic unauthenticated remote code execution, e.g. CVE-2017-5638 (Struts2)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        # CVE-2021-45046 (log4j follow-up), GHSA-7rjr-3q55-vv33
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H", 9.0),
        # authenticated RCE, and RCE needing user interaction
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        # local privilege escalation, e.g. CVE-2021-4034 (pwnkit)
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        # network denial of service, e.g. CVE-2022-0778 (OpenSSL BN_mod_sqrt loop)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L", 7.3),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.0),
        # CVE-2023-32681 (requests leaks Proxy-Authorization), GHSA-j8r2-6x86-q33q
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1),
        # reflected and stored cross-site scripting
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:L/A:N", 4.3),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
        # no impact at all
        ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_base_score_matches_the_published_score(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


def test_temporal_and_environmental_metrics_do_not_change_the_base_score() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:H/RL:O/RC:C/CR:H/MAV:L"
    assert cvss3_base_score(vector) == 10.0


def test_metric_order_does_not_matter() -> None:
    assert cvss3_base_score("CVSS:3.1/S:C/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N") == 10.0


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(4.0, 4.0), (4.02, 4.1), (4.000_000_1, 4.0), (9.99, 10.0), (0.0, 0.0), (1.0000001, 1.0), (6.0999, 6.1)],
)
def test_roundup_is_the_31_appendix_a_function(value: float, rounded: float) -> None:
    assert roundup(value) == rounded


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "does not start with CVSS:3.0/ or CVSS:3.1/"),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "does not start with CVSS:3.0/ or CVSS:3.1/"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "does not start with CVSS:3.0/"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks base metric(s) A"),
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV must be one of N/A/L/P, not 'X'"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "unknown metric 'ZZ:1'"),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric AV is given twice"),
        ("CVSS:3.1/", "unknown metric ''"),
    ],
)
def test_bad_vectors_are_rejected_with_the_reason(vector: str, message: str) -> None:
    with pytest.raises(InvalidInput, match="CVSS vector") as caught:
        cvss3_base_score(vector)
    assert message in caught.value.message


# each metric's values from least to most severe
_LEVELS = {"AV": "PLAN", "AC": "HL", "PR": "HLN", "UI": "RN", "C": "NLH", "I": "NLH", "A": "NLH"}


def _vector(metrics: dict[str, str]) -> str:
    return "CVSS:3.1/" + "/".join(f"{name}:{value}" for name, value in metrics.items())


_metrics = st.fixed_dictionaries(
    {
        "AV": st.sampled_from("NALP"),
        "AC": st.sampled_from("LH"),
        "PR": st.sampled_from("NLH"),
        "UI": st.sampled_from("NR"),
        "S": st.sampled_from("UC"),
        "C": st.sampled_from("HLN"),
        "I": st.sampled_from("HLN"),
        "A": st.sampled_from("HLN"),
    }
)


@given(_metrics)
def test_scores_are_one_decimal_between_0_and_10(metrics: dict[str, str]) -> None:
    score = cvss3_base_score(_vector(metrics))
    assert 0.0 <= score <= 10.0
    assert round(score, 1) == score
    assert (score == 0.0) == (metrics["C"] == metrics["I"] == metrics["A"] == "N")
    assert Severity.of_score(score) is not Severity.UNKNOWN


@given(_metrics, st.sampled_from(sorted(_LEVELS)))
def test_a_worse_metric_never_lowers_the_score(metrics: dict[str, str], name: str) -> None:
    levels = _LEVELS[name]
    position = levels.index(metrics[name])
    if position == len(levels) - 1:
        return
    worse = {**metrics, name: levels[position + 1]}
    assert cvss3_base_score(_vector(worse)) >= cvss3_base_score(_vector(metrics))


def test_every_base_vector_scores() -> None:
    # 2,592 combinations: none raises, and the extremes are where they belong
    scores = {
        cvss3_base_score(_vector(dict(zip(("AV", "AC", "PR", "UI", "S", "C", "I", "A"), combo, strict=True))))
        for combo in itertools.product("NALP", "LH", "NLH", "NR", "UC", "HLN", "HLN", "HLN")
    }
    assert min(scores) == 0.0
    assert max(scores) == 10.0
