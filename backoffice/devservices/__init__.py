"""Local stand-ins for outside services, for `make run` and the tests; never used in production."""
