"""Benchmarks: `make bench` prints figures measured on this machine."""
