"""The OCI distribution-spec conformance suite, ported from Go; tests/e2e/test_oci_conformance.py runs it."""
