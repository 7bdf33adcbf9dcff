"""The staff screens say things in words and start forms with what saves: a new staff user's form as it comes,
a service target naming its queue, who uses a reason, the audit log's who and what, time zones by name."""

from html.parser import HTMLParser

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, Office, Reason, ReasonUse, Role, StaffUser
from backoffice.workflows import decisions
from tests.factories import create_staff, with_registry
from tests.helpers import page_of, post_form, switch_to_french, text_of, visible_text


class _FormAsItComes(HTMLParser):
    """The values a browser would send for the first form with fields, untouched: text inputs, checked boxes,
    each select's selected option (else its first)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        named = {name: value or "" for name, value in attrs}
        if tag == "input" and named.get("name") and named.get("type") not in ("submit", "button"):
            if named.get("type") != "checkbox" or "checked" in named:
                self.values.setdefault(
                    named["name"], named.get("value", "y" if named.get("type") == "checkbox" else "")
                )
        elif tag == "select":
            self.select, self.first_option = named.get("name"), None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = named.get("value", "")
            if "selected" in named:
                self.values[self.select] = named.get("value", "")

    def handle_endtag(self, tag) -> None:
        if tag == "select" and self.select:
            self.values.setdefault(self.select, self.first_option or "")
            self.select = None


def form_as_it_comes(page: str) -> dict[str, str]:
    reader = _FormAsItComes()
    reader.feed(page)
    return reader.values


def test_a_new_staff_user_saves_with_the_form_as_it_comes_once_named(app, login_as):
    admin = login_as("admin", "western")
    page = page_of(admin, "/admin/staff/new/")
    assert "At least 12 characters. Give it to the person in confidence." in page
    assert "Leave empty to keep the current password" not in page
    values = form_as_it_comes(page)
    values |= {
        "email": "new.clerk@irb.example",
        "full_name": "Nora Newclerk",
        "new_password": "a long enough password",
    }
    response = admin.post("/admin/staff/new/", data=values)
    assert response.status_code == 302, (
        text_of(response.get_data(as_text=True), "main") if False else response.get_data(as_text=True)[-600:]
    )
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "new.clerk@irb.example"))
    western = db.session.scalar(select(Office).where(Office.code == "western"))
    assert (user.role, user.office, user.division) == (Role.CLERK, western, None)


def test_a_new_staff_user_needs_a_password(app, login_as):
    admin = login_as("admin", "western")
    values = form_as_it_comes(page_of(admin, "/admin/staff/new/"))
    values |= {"email": "no.password@irb.example", "full_name": "No Password"}
    response = admin.post("/admin/staff/new/", data=values)
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "no.password@irb.example")) is None


def test_a_service_target_names_its_queue_in_words(app, login_as):
    admin = login_as("admin", "western")
    assert "Days in the queue: Registry queue" in page_of(admin, "/admin/servicetarget/edit/?id=1")
    switch_to_french(admin, "/admin/servicetarget/edit/?id=1")
    assert "Jours dans la file : File de travail du greffe" in page_of(
        admin, "/admin/servicetarget/edit/?id=1"
    )


def test_who_uses_a_reason_is_said_in_words_and_kept_when_editing(app, login_as):
    admin = login_as("admin", "western")
    division_reason = db.session.scalar(select(Reason).where(Reason.used_by == ReasonUse.DIVISION).limit(1))
    page = page_of(admin, f"/admin/reason/edit/?id={division_reason.id}")
    assert '<option selected value="division">Division</option>' in page
    assert '<option value="registry">Registry</option>' in page


def test_the_audit_log_says_who_did_what_in_words(app, login_as):
    admin = login_as("admin", "western")
    post_form(
        admin,
        "/admin/division/edit/?id=1",
        page="/admin/division/edit/?id=1",
        name_en="Refugee Protection Division",
        name_fr="Section de la protection des réfugiés (SPR)",
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "divisions.updated"))
    switch_to_french(admin, "/admin/audit/")
    listing = visible_text(page_of(admin, "/admin/audit/"), "fr")
    assert "Section : modification" in listing and admin.user.full_name in listing
    assert "divisions.updated" not in listing and "-0500" not in listing
    assert "heure de l'Est" in listing
    details = page_of(admin, f"/admin/audit/details/?id={event.id}")
    assert "Nom (français)" in text_of(details, "audit-after") and "name_fr" not in details


def test_the_audit_details_of_queue_work_name_people_and_reasons_in_french(app, login_as):
    submission = with_registry()
    clerk = create_staff("clerk", "western", full_name="Marc Campbell")
    decisions.claim(submission.id, clerk)
    reason = db.session.scalar(select(Reason).where(Reason.code == "R-TOC"))
    decisions.decide(submission.id, clerk, False, [reason.code], "")
    db.session.commit()
    claimed, rejected = (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == action))
        for action in ("submission.claimed", "submission.reject_by_registry")
    )
    supervisor = login_as("supervisor", "western")
    switch_to_french(supervisor, "/admin/audit/")

    claim = text_of(page_of(supervisor, f"/admin/audit/details/?id={claimed.id}"), "audit-after")
    rejection = text_of(page_of(supervisor, f"/admin/audit/details/?id={rejected.id}"), "audit-after")

    assert "Prise en charge par" in claim and "Marc Campbell" in claim and "@" not in claim
    assert reason.text_fr in rejection and "R-TOC" not in rejection and "['" not in rejection
