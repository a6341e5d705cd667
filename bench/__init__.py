"""Benchmarks: the same workload against Hoist and a reference, with ratios (python -m bench)."""
