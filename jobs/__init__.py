"""rq entry points. Each takes ids, opens an application context and calls one workflow."""
