"""The application context a job runs in."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

from backoffice.extensions import db


@contextmanager
def job_context() -> Iterator[Flask]:
    """Reuse the worker's application when there is one, else create one from the environment.

    The session is removed at the end so that a job never leaks a transaction into the next.
    """
    if has_app_context():
        try:
            yield current_app._get_current_object()
        finally:
            db.session.remove()
        return
    from backoffice import create_app

    app = create_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
