"""Tiny random models built in code, for tests, benchmarks and the offline demo. Random weights: not for real images."""
