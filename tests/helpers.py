"""Helpers shared by the tests: forms posted with their CSRF token, and actions raced at the same moment."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from backoffice.extensions import db
from tests.conftest import csrf_token_from


def post_form(client: FlaskClient, url: str, page: str = "/admin/", **data: Any):
    """POST `data` to `url` with a CSRF token read from `page`, as the browser would; redirects not followed."""
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def copies_of(app: Flask, client: FlaskClient, count: int) -> list[FlaskClient]:
    """`count` clients sharing `client`'s session cookie: the same person in several tabs."""
    cookie = client.get_cookie("session").value
    copies = []
    for _ in range(count):
        copy = app.test_client()
        copy.set_cookie("session", cookie)
        copies.append(copy)
    return copies


def race(
    app: Flask, actions: list[Callable[[], Any]], refusals: tuple[type[Exception], ...] = ()
) -> list[Any]:
    """Run the actions at the same moment, each in its own thread with its own application context and
    database session, all released together by a barrier; answers what each returned, in order, or "refused"
    for one that raised one of `refusals` (its session rolled back).

    An action that changes data commits it itself; the test's own session is committed first so that the
    threads see what it wrote.
    """
    db.session.commit()
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        with app.app_context():
            try:
                barrier.wait()
                return action()
            except refusals:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        outcomes = list(pool.map(run, actions))
    db.session.expire_all()
    return outcomes
