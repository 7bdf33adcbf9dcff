"""The queue pages' tools: each person's saved filters, and accepting several clean submissions at once."""

import re

from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    Decision,
    Notification,
    SavedFilter,
    Submission,
    SubmissionStatus,
)
from backoffice.models.types import utcnow
from backoffice.workflows import decisions
from backoffice.workflows.bulk_decisions import MAX_BATCH
from backoffice.workflows.saved_filters import MAX_PER_QUEUE
from tests.factories import create_staff, with_registry
from tests.helpers import add_results, count_statements, one_of_many_queued, post_and_follow, rows_of

QUEUE = "/admin/registry_queue/"
DIVISION_QUEUE = "/admin/division_queue/"


def saved_links(html: str) -> list[str]:
    return re.findall(r'data-testid="saved-filter" data-saved-filter="\d+">\s*<a [^>]*>([^<]*)</a>', html)


def selectable(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'name="id" value="(\d+)" form="bulk-accept"', html)]


def listed(html: str, testid: str) -> list[int]:
    return [int(found) for found in re.findall(rf'data-testid="{testid}" data-submission="(\d+)"', html)]


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def saved_filter(name: str) -> SavedFilter:
    db.session.expire_all()
    return db.session.scalar(select(SavedFilter).where(SavedFilter.name == name))


def on_hold(submission: Submission) -> None:
    # What a hold keeps on the submission (the hold itself is the submission page's business).
    submission.held_at = utcnow()
    db.session.commit()


# ------------------------------------------------------------------------------------------ saved filters


def test_a_clerk_saves_the_current_filter_and_applies_it_in_one_click(app, login_as):
    late_failed = with_registry()
    add_results(late_failed, failures=1, warnings=0)
    with_registry()
    clerk = login_as("clerk", "western")

    filtered = f"{QUEUE}?kind=&failed=1&holder=nobody&q=++{late_failed.case.file_number}++&junk=1"
    assert 'data-testid="save-filter"' in clerk.get(filtered).get_data(as_text=True)
    page = post_and_follow(
        clerk,
        f"{QUEUE}filters/save/?failed=1&holder=nobody&q=+{late_failed.case.file_number}+&junk=1",
        name="  Failed   mine ",
    )
    html = page.get_data(as_text=True)
    assert "Your filter “Failed mine” is saved." in html
    assert saved_links(html) == ["Failed mine"]
    assert rows_of(html) == [late_failed.id]  # back on the queue, still filtered

    saved = saved_filter("Failed mine")
    assert saved.query == f"failed=1&q={late_failed.case.file_number}"  # normalised, never what was typed
    assert saved.queue == "with_registry" and saved.staff_id == clerk.user.id

    applied = clerk.get(f"{QUEUE}filters/apply/?id={saved.id}")
    assert applied.status_code == 302
    assert applied.location == f"{QUEUE}?failed=1&q={late_failed.case.file_number}"
    opened = clerk.get(applied.location).get_data(as_text=True)
    assert rows_of(opened) == [late_failed.id] and 'aria-current="true">Failed mine<' in opened

    created = events("saved_filter.created")
    assert len(created) == 1 and created[0].actor_id == clerk.user.id
    assert created[0].record_id == str(saved.id)
    assert created[0].after == {"queue": "with_registry", "filters": {"failed": "1"}, "search": True}
    assert late_failed.case.file_number not in str(created[0].after)  # the search text is not kept


def test_saving_a_name_again_replaces_that_filter_and_says_so(app, login_as):
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="Mine")
    page = post_and_follow(clerk, f"{QUEUE}filters/save/?late=1&holder=me", name="Mine").get_data(
        as_text=True
    )
    assert "Your filter “Mine” now keeps the current filter instead." in page
    assert saved_links(page) == ["Mine"]
    assert saved_filter("Mine").query == "late=1&holder=me"
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == 1
    replaced = events("saved_filter.replaced")
    assert replaced[0].before["filters"] == {"failed": "1"}
    assert replaced[0].after["filters"] == {"late": "1", "holder": "me"}


def test_a_user_deletes_their_saved_filter(app, login_as):
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="Failed")
    post_and_follow(clerk, f"{QUEUE}filters/save/?late=1", name="Late")
    saved_id = saved_filter("Failed").id
    page = post_and_follow(clerk, f"{QUEUE}filters/delete/?late=1", id=saved_id).get_data(as_text=True)
    assert "Your filter “Failed” is deleted." in page
    assert saved_links(page) == ["Late"]
    assert saved_filter("Failed") is None
    deleted = events("saved_filter.deleted")
    assert deleted[0].record_id == str(saved_id) and deleted[0].before["filters"] == {"failed": "1"}


def test_saved_filters_are_each_users_own_and_each_queues_own(app, login_as):
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="Mine only")
    saved = saved_filter("Mine only")
    colleague = login_as("clerk", "western")

    assert "Mine only" not in colleague.get(QUEUE).get_data(as_text=True)
    assert colleague.get(f"{QUEUE}filters/apply/?id={saved.id}").status_code == 404
    assert post_and_follow(colleague, f"{QUEUE}filters/delete/", id=saved.id).status_code == 404
    assert saved_filter("Mine only") is not None
    refusals = events("permission.refused")
    assert [event.after["reason"] for event in refusals] == ["not_owner", "not_owner"]
    assert {event.actor_id for event in refusals} == {colleague.user.id}
    assert refusals[0].after["record_type"] == "saved_filters" and refusals[0].after["record_id"] == str(
        saved.id
    )

    supervisor = login_as("supervisor", "western")
    post_and_follow(supervisor, f"{QUEUE}filters/save/?late=1", name="Registry late")
    registry_filter = saved_filter("Registry late")
    assert "Registry late" in supervisor.get(QUEUE).get_data(as_text=True)
    assert "Registry late" not in supervisor.get(DIVISION_QUEUE).get_data(as_text=True)
    assert supervisor.get(f"{DIVISION_QUEUE}filters/apply/?id={registry_filter.id}").status_code == 404
    assert supervisor.get(f"{QUEUE}filters/apply/?id={registry_filter.id}").status_code == 302
    assert (
        login_as("division_member", "western").get(f"{QUEUE}filters/apply/?id={saved.id}").status_code == 403
    )


def test_bad_names_and_empty_filters_are_refused_with_a_clear_message(app, login_as):
    clerk = login_as("clerk", "western")
    refusals = {
        "   ": "Give the filter a name.",
        "x" * 81: "A filter&#39;s name has at most 80 characters.",
        "tab\x7fbed": "A filter&#39;s name cannot hold control characters.",  # NUL is refused at the edge
    }
    for name, message in refusals.items():
        assert message in post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name=name).get_data(
            as_text=True
        )
    nothing = post_and_follow(clerk, f"{QUEUE}filters/save/?junk=1", name="Everything").get_data(as_text=True)
    assert "Choose a filter first: the whole queue needs no saved filter." in nothing
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == 0

    assert "is saved" in post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="y" * 80).get_data(
        as_text=True
    )
    marked_up = post_and_follow(clerk, f"{QUEUE}filters/save/?late=1", name="<i>Late</i>").get_data(
        as_text=True
    )
    assert "&lt;i&gt;Late&lt;/i&gt;" in marked_up and "<i>Late</i>" not in marked_up
    for number in range(2, MAX_PER_QUEUE):
        post_and_follow(clerk, f"{QUEUE}filters/save/?older_than={number}", name=f"Older than {number}")
    too_many = post_and_follow(clerk, f"{QUEUE}filters/save/?late=1", name="One more").get_data(as_text=True)
    assert "You have 20 saved filters in this queue, the most allowed: delete one first." in too_many
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == MAX_PER_QUEUE
    replaced = post_and_follow(clerk, f"{QUEUE}filters/save/?late=1", name="Older than 3").get_data(
        as_text=True
    )
    assert "now keeps the current filter instead" in replaced


def test_saving_and_deleting_a_filter_need_the_csrf_token(app, login_as):
    clerk = login_as("clerk", "western")
    assert clerk.post(f"{QUEUE}filters/save/?failed=1", data={"name": "No token"}).status_code == 400
    post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="Kept")
    saved = saved_filter("Kept")
    assert clerk.post(f"{QUEUE}filters/delete/", data={"id": saved.id}).status_code == 400
    assert saved_filter("Kept") is not None and saved_filter("No token") is None


# ------------------------------------------------------------------------------------------- bulk accept


def test_only_clean_rows_can_be_selected_and_the_confirmation_lists_exactly_the_selected_ones(app, login_as):
    first, second, third = with_registry(), with_registry(), with_registry()
    failed, held, claimed = with_registry(), with_registry(), with_registry()
    add_results(failed, failures=1, warnings=0)
    add_results(second, failures=0, warnings=2)  # warnings do not stop it
    on_hold(held)
    decisions.claim(claimed.id, create_staff("clerk", "western"))
    db.session.commit()
    clerk = login_as("clerk", "western")
    decisions.claim(third.id, clerk.user)  # held by the clerk who accepts: still clean
    db.session.commit()

    page = clerk.get(QUEUE).get_data(as_text=True)
    assert selectable(page) == [first.id, second.id, third.id]
    assert "Accept selected" in page
    assert "Accept selected" not in login_as("supervisor", "western").get(QUEUE).get_data(as_text=True)

    confirm = post_and_follow(
        clerk, f"{QUEUE}bulk/confirm/?failed=&late=1", id=[third.id, first.id, failed.id]
    )
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert listed(html, "bulk-row") == [first.id, third.id]
    assert first.case.file_number in html and "Written submissions" in html
    assert "Each submission below is accepted to the division: it goes to the division&#39;s queue." in html
    assert listed(html, "left-out-item") == [failed.id]
    assert "Some of its checks failed: open it and decide on it alone." in html
    assert re.findall(r'<input type="hidden" name="id" value="(\d+)">', html) == [
        str(first.id),
        str(third.id),
    ]
    assert f'action="{QUEUE}bulk/accept/?late=1"' in html and f'href="{QUEUE}?late=1"' in html  # Cancel
    db.session.expire_all()
    assert db.session.get(Submission, first.id).status is SubmissionStatus.WITH_REGISTRY
    assert db.session.get(Submission, first.id).claimed_by_id is None
    assert clerk.get(f"{QUEUE}bulk/confirm/").status_code == 405  # nothing on a GET


def test_confirming_accepts_each_to_the_division_with_its_decision_and_audit_events(app, login_as):
    selected = [with_registry() for _ in range(3)]
    untouched = with_registry()
    clerk = login_as("clerk", "western")
    ids = [submission.id for submission in selected]

    page = post_and_follow(clerk, f"{QUEUE}bulk/accept/", id=ids).get_data(as_text=True)
    assert "3 submissions accepted." in page
    assert listed(page, "accepted-item") == ids and listed(page, "left-out-item") == []
    db.session.expire_all()
    for submission_id in ids:
        submission = db.session.get(Submission, submission_id)
        assert submission.status is SubmissionStatus.WITH_DIVISION and submission.claimed_by_id is None
        decision = db.session.scalar(select(Decision).where(Decision.submission_id == submission_id))
        assert decision.accepted and decision.staff_id == clerk.user.id and decision.reasons == []
    assert db.session.get(Submission, untouched.id).status is SubmissionStatus.WITH_REGISTRY
    accepted = events("submission.accept_to_division")
    assert sorted(int(event.record_id) for event in accepted) == ids
    assert len(events("submission.claimed")) == 3
    batch = events("submission.bulk_accepted")
    assert batch[0].actor_id == clerk.user.id
    assert batch[0].after == {"queue": "with_registry", "accepted": ids, "refused": []}
    assert rows_of(clerk.get(QUEUE).get_data(as_text=True)) == [untouched.id]


def test_a_submission_refused_at_confirmation_leaves_the_others_accepted(app, login_as):
    clean, taken, failed_since, elsewhere, decided, last = (
        with_registry(),
        with_registry(),
        with_registry(),
        with_registry("central"),
        with_registry(),
        with_registry(),
    )
    clerk = login_as("clerk", "western")
    colleague = create_staff("clerk", "western")
    # Between the confirmation page and the confirm button: a colleague claims one and decides another.
    decisions.claim(taken.id, colleague)
    decisions.claim(decided.id, colleague)
    decisions.decide(decided.id, colleague, True, [])
    db.session.commit()
    add_results(failed_since, failures=1, warnings=0)

    ids = [clean.id, taken.id, failed_since.id, elsewhere.id, decided.id, last.id, 999999]
    page = post_and_follow(clerk, f"{QUEUE}bulk/accept/", id=ids).get_data(as_text=True)
    assert "2 submissions accepted." in page and "5 submissions not accepted" in page
    assert listed(page, "accepted-item") == [clean.id, last.id]
    assert sorted(listed(page, "left-out-item")) == sorted(
        [taken.id, failed_since.id, elsewhere.id, decided.id, 999999]
    )
    assert f"{colleague.full_name} is working on this submission." in page
    assert "Some of its checks failed" in page and "It no longer waits in this queue." in page
    assert page.count("This submission is not in your queue.") == 2
    assert elsewhere.case.file_number not in page  # out of scope: named by number only

    db.session.expire_all()
    statuses = {submission_id: db.session.get(Submission, submission_id).status for submission_id in ids[:-1]}
    assert statuses[clean.id] is statuses[last.id] is SubmissionStatus.WITH_DIVISION
    assert (
        statuses[taken.id]
        is statuses[failed_since.id]
        is statuses[elsewhere.id]
        is SubmissionStatus.WITH_REGISTRY
    )
    assert db.session.get(Submission, taken.id).claimed_by_id == colleague.id
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 3
    refusal = events("permission.refused")[-1]
    assert refusal.actor_id == clerk.user.id and refusal.after["reason"] == "out_of_scope"
    assert refusal.after["record_ids"] == [str(elsewhere.id)]  # an unknown id is not a refusal of a record


def test_a_clerk_of_another_office_accepts_nothing(app, login_as):
    western = [with_registry("western"), with_registry("western")]
    central_clerk = login_as("clerk", "central")
    ids = [submission.id for submission in western]

    confirm = post_and_follow(central_clerk, f"{QUEUE}bulk/confirm/", id=ids).get_data(as_text=True)
    assert (
        listed(confirm, "bulk-row") == []
        and "None of the selected submissions can be accepted together." in confirm
    )
    assert western[0].case.file_number not in confirm
    page = post_and_follow(central_clerk, f"{QUEUE}bulk/accept/", id=ids).get_data(as_text=True)
    assert "0 submissions accepted." in page
    db.session.expire_all()
    assert all(db.session.get(Submission, i).status is SubmissionStatus.WITH_REGISTRY for i in ids)
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0
    assert len(events("permission.refused")) == 2  # at the confirmation and at the acceptance


def test_supervisors_and_division_members_are_refused_the_registry_queues_bulk_routes(app, login_as):
    submission = with_registry()
    for client in (
        login_as("supervisor", "western"),
        login_as("supervisor", "national"),
        login_as("division_member", "western", "RPD"),
        login_as("admin", "western"),
    ):
        for step in ("confirm", "accept"):
            assert post_and_follow(client, f"{QUEUE}bulk/{step}/", id=submission.id).status_code == 403
    assert (
        login_as("clerk", "western").post(f"{QUEUE}bulk/accept/", data={"id": submission.id}).status_code
        == 400
    )
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.WITH_REGISTRY
    assert len(events("permission.refused")) == 8


def test_a_division_member_accepts_several_of_their_division_and_counsel_are_told(app, login_as):
    clerk = create_staff("clerk", "western")
    mine, other_division = with_registry("western", "RPD"), with_registry("western", "ID")
    for submission in (mine, other_division):
        decisions.claim(submission.id, clerk)
        decisions.decide(submission.id, clerk, True, [])
    db.session.commit()
    member = login_as("division_member", "western", "RPD")
    assert selectable(member.get(DIVISION_QUEUE).get_data(as_text=True)) == [mine.id]

    confirm = post_and_follow(member, f"{DIVISION_QUEUE}bulk/confirm/", id=[mine.id]).get_data(as_text=True)
    assert "Each submission below is accepted by the division, and counsel is told." in confirm
    page = post_and_follow(member, f"{DIVISION_QUEUE}bulk/accept/", id=[mine.id, other_division.id]).get_data(
        as_text=True
    )
    assert "1 submission accepted." in page
    db.session.expire_all()
    assert db.session.get(Submission, mine.id).status is SubmissionStatus.ACCEPTED
    assert db.session.get(Submission, other_division.id).status is SubmissionStatus.WITH_DIVISION
    notice = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    assert notice.values["accepted"] is True and notice.case_id == mine.case_id
    assert (
        post_and_follow(login_as("clerk", "western"), f"{DIVISION_QUEUE}bulk/accept/", id=mine.id).status_code
        == 403
    )


def test_an_empty_selection_or_more_than_fifty_at_once_is_refused_whole(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    empty = post_and_follow(clerk, f"{QUEUE}bulk/confirm/?failed=1").get_data(as_text=True)
    assert "Select at least one submission to accept." in empty
    too_many = [submission.id] + list(range(1_000_000, 1_000_000 + MAX_BATCH))
    page = post_and_follow(clerk, f"{QUEUE}bulk/accept/", id=too_many).get_data(as_text=True)
    assert "Select at most 50 submissions at a time." in page
    assert rows_of(page) == [submission.id]  # back on the queue
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.WITH_REGISTRY


def test_the_statements_for_the_queue_page_are_as_many_with_three_rows_as_with_fifty(app, login_as):
    clerk = login_as("clerk", "western")
    holder = create_staff("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}filters/save/?failed=1", name="Failed")
    post_and_follow(clerk, f"{QUEUE}filters/save/?late=1", name="Late")
    for number in range(50):
        submission = one_of_many_queued(number, holder)
        if number % 7 == 0:
            on_hold(submission)
        if number == 2:
            with_three = count_statements(clerk, QUEUE)
    with_fifty = count_statements(clerk, QUEUE)
    page = clerk.get(QUEUE).get_data(as_text=True)
    assert len(rows_of(page)) == 50 and 0 < len(selectable(page)) < 50
    assert with_three == with_fifty
