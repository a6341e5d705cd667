"""SBOMs: generated from build outputs, validated when supplied, exported as SPDX (adapter)."""
