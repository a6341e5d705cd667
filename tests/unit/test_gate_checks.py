"""The confirmation page's gate table: each gate of a promotion met, or unmet with its problems."""

from __future__ import annotations

from hoist.domain.errors import Problem
from hoist.services.promotion import GateCheck, gate_checks


def test_each_gate_gets_the_problems_named_by_it_and_unlisted_problems_come_last() -> None:
    gates = ("source", "ceiling", "vulnerabilities<=high", "attestation:unit-tests")
    problems = [
        Problem("vulnerabilities", "GHSA-1 is critical"),
        Problem("attestation:unit-tests", "no unit-tests attestation"),
        Problem("approvals", "prod needs 1 approval"),
        Problem("vulnerabilities", "GHSA-2 is critical"),
    ]
    checks = gate_checks(gates, problems)
    assert checks == (
        GateCheck("source"),
        GateCheck("ceiling"),
        GateCheck("vulnerabilities<=high", ("GHSA-1 is critical", "GHSA-2 is critical")),
        GateCheck("attestation:unit-tests", ("no unit-tests attestation",)),
        GateCheck("approvals", ("prod needs 1 approval",)),
    )
    assert [c.met for c in checks] == [True, True, False, False, False]


def test_no_problem_every_gate_met() -> None:
    assert all(c.met for c in gate_checks(("source", "ceiling"), ()))
