"""Seeing it run: structured logs with request and job ids (logs, jobs), metrics for Prometheus (metrics,
exposition), and their wiring into the web application (web) and the worker (backoffice.worker)."""
