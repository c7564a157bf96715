"""Benchmarks: each ``bench_*.py`` module reports ratios against a baseline measured in the same run."""
