"""Data for trying and measuring the back office: the demonstration data of `make run` (`seed-demo`) and
realistic volume for benchmarks (`seed-volume`). Never loaded in production."""
