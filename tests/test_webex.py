"""Webex meetings: the real webexpythonsdk, through our adapter, against the Webex API emulator over
loopback. Failures come out as temporary or permanent errors at once, never after a sleep."""

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from backoffice.integrations.webex import (
    MeetingInfo,
    WebexPermanentError,
    WebexSettings,
    WebexTemporaryError,
    check_connection,
    create_meeting,
    delete_meeting,
    get_meeting,
    update_meeting,
)
from tests.helpers import PROJECT_ROOT

TORONTO = "America/Toronto"
HEARING_START = datetime(2031, 3, 4, 9, 30, tzinfo=ZoneInfo(TORONTO))
COUNSEL_EMAIL = "jane.doe@counsel.example.ca"


@pytest.fixture
def settings(app, webex_emulator) -> WebexSettings:
    return WebexSettings.from_config(app.config)


def schedule_hearing(settings: WebexSettings, start: datetime = HEARING_START) -> MeetingInfo:
    return create_meeting(
        settings,
        "IRB hearing MC3-01234",
        start,
        start + timedelta(hours=2),
        TORONTO,
        invitee_email=COUNSEL_EMAIL,
        invitee_name="Jane Doe",
    )


def control(settings: WebexSettings, path: str, body: dict) -> dict:
    """POST to the emulator's own control endpoints (no token needed)."""
    address = urlsplit(settings.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        return json.load(connection.getresponse())
    finally:
        connection.close()


def test_a_meeting_is_created_read_rescheduled_and_cancelled(settings, webex_emulator):
    created = schedule_hearing(settings)
    assert created.meeting_number.isdigit()
    assert created.web_link.startswith("https://irb-cisr.webex.example/meet/j.php?MTID=")
    assert (created.start, created.end) == (HEARING_START, HEARING_START + timedelta(hours=2))
    assert get_meeting(settings, created.meeting_id) == created

    later = HEARING_START + timedelta(days=7, hours=4)
    moved = update_meeting(
        settings,
        created.meeting_id,
        "IRB hearing MC3-01234 (resumed)",
        later,
        later + timedelta(hours=1),
        TORONTO,
    )
    assert (moved.meeting_id, moved.web_link) == (created.meeting_id, created.web_link)
    assert (moved.start, moved.end) == (later, later + timedelta(hours=1))
    assert get_meeting(settings, created.meeting_id) == moved
    assert webex_emulator.meetings[created.meeting_id]["title"] == "IRB hearing MC3-01234 (resumed)"

    delete_meeting(settings, created.meeting_id)
    assert created.meeting_id not in webex_emulator.meetings
    with pytest.raises(WebexPermanentError) as gone:
        get_meeting(settings, created.meeting_id)
    assert gone.value.status == 404


def test_counsel_is_the_invitee_and_webex_sends_them_no_email_of_its_own(settings, webex_emulator):
    created = schedule_hearing(settings)
    later = HEARING_START + timedelta(days=1)
    update_meeting(settings, created.meeting_id, "IRB hearing", later, later + timedelta(hours=1), TORONTO)
    [invitee] = webex_emulator.meetings[created.meeting_id]["invitees"]
    assert (invitee["email"], invitee["displayName"]) == (COUNSEL_EMAIL, "Jane Doe")
    delete_meeting(settings, created.meeting_id)
    assert webex_emulator.emails_sent == []


def test_webex_emails_the_invitee_only_when_asked(settings, webex_emulator):
    created = create_meeting(
        settings,
        "IRB hearing",
        HEARING_START,
        HEARING_START + timedelta(hours=1),
        TORONTO,
        COUNSEL_EMAIL,
        "Jane Doe",
        send_email=True,
    )
    delete_meeting(settings, created.meeting_id, send_email=True)
    assert [sent["kind"] for sent in webex_emulator.emails_sent] == ["invitation", "cancellation"]


def test_times_without_an_offset_are_wall_clock_times_in_the_meeting_time_zone(settings):
    created = schedule_hearing(settings, start=datetime(2031, 7, 2, 13, 0))
    assert created.start == datetime(2031, 7, 2, 13, 0, tzinfo=ZoneInfo(TORONTO))
    assert created.start.utcoffset() == timedelta(hours=-4)


def test_cancelling_a_meeting_already_gone_is_not_an_error(settings, webex_emulator):
    created = schedule_hearing(settings)
    delete_meeting(settings, created.meeting_id)
    delete_meeting(settings, created.meeting_id)
    delete_meeting(settings, "0123456789abcdef0123456789abcdef")
    assert webex_emulator.calls[-2:] == [
        ("DELETE", f"/v1/meetings/{created.meeting_id}"),
        ("DELETE", "/v1/meetings/0123456789abcdef0123456789abcdef"),
    ]


def test_rescheduling_a_meeting_that_is_gone_is_a_permanent_error(settings):
    later = HEARING_START + timedelta(days=1)
    with pytest.raises(WebexPermanentError) as refused:
        update_meeting(settings, "0123456789abcdef0123456789abcdef", "IRB hearing", later, later, TORONTO)
    assert refused.value.status == 404


def test_a_wrong_token_is_a_permanent_error(settings, webex_emulator):
    wrong = WebexSettings(settings.base_url, "not-the-token", settings.timeout_seconds)
    with pytest.raises(WebexPermanentError) as refused:
        schedule_hearing(wrong)
    assert refused.value.status == 401 and not refused.value.temporary
    assert "not-the-token" not in str(refused.value)
    assert webex_emulator.meetings == {}


def test_an_empty_token_is_refused_before_any_call_and_never_taken_from_the_environment(
    settings, webex_emulator, monkeypatch
):
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", webex_emulator.access_token)
    with pytest.raises(WebexPermanentError):
        check_connection(WebexSettings(settings.base_url, "", 5))
    assert webex_emulator.calls == []


def test_a_refused_request_is_permanent_and_its_message_names_no_one(settings):
    with pytest.raises(WebexPermanentError) as refused:
        create_meeting(
            settings,
            "IRB hearing",
            HEARING_START,
            HEARING_START + timedelta(hours=1),
            TORONTO,
            "jane.doe@@counsel",
            "Jane Doe",
        )
    assert refused.value.status == 400
    assert "jane" not in str(refused.value).lower() and "@" not in str(refused.value)
    assert "create a meeting" in str(refused.value) and "tracking id ROUTER_" in str(refused.value)


def test_a_meeting_that_ends_before_it_starts_is_refused(settings):
    with pytest.raises(WebexPermanentError) as refused:
        create_meeting(
            settings, "IRB hearing", HEARING_START, HEARING_START, TORONTO, COUNSEL_EMAIL, "Jane Doe"
        )
    assert refused.value.status == 400


def test_a_rate_limited_call_is_a_temporary_error_and_does_not_sleep(settings, webex_emulator, monkeypatch):
    def no_sleeping(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    monkeypatch.setattr(time, "sleep", no_sleeping)
    webex_emulator.fail_next(429, retry_after=30)
    with pytest.raises(WebexTemporaryError) as limited:
        schedule_hearing(settings)
    assert limited.value.status == 429 and limited.value.retry_after == 30
    assert webex_emulator.calls == [("POST", "/v1/meetings")]  # asked once, not retried
    assert schedule_hearing(settings).meeting_id in webex_emulator.meetings


def test_a_rate_limited_call_without_retry_after_leaves_the_wait_to_the_caller(settings, webex_emulator):
    webex_emulator.fail_next(429)
    with pytest.raises(WebexTemporaryError) as limited:
        check_connection(settings)
    assert limited.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_a_temporary_error(settings, webex_emulator, status):
    webex_emulator.fail_next(status)
    with pytest.raises(WebexTemporaryError) as failed:
        schedule_hearing(settings)
    assert failed.value.status == status and failed.value.temporary
    assert webex_emulator.meetings == {}


def test_a_failure_while_reading_before_rescheduling_is_reported_as_such(settings, webex_emulator):
    created = schedule_hearing(settings)
    webex_emulator.fail_next(503)
    later = HEARING_START + timedelta(days=1)
    with pytest.raises(WebexTemporaryError, match="update a meeting"):
        update_meeting(
            settings, created.meeting_id, "IRB hearing", later, later + timedelta(hours=1), TORONTO
        )
    assert get_meeting(settings, created.meeting_id) == created


def test_a_server_that_answers_too_late_is_a_temporary_error_within_the_timeout(settings, webex_emulator):
    webex_emulator.hold_next()  # answered only once released, after the caller gave up
    with pytest.raises(WebexTemporaryError, match="did not answer in time") as late:
        check_connection(WebexSettings(settings.base_url, settings.access_token, timeout_seconds=0.2))
    assert webex_emulator.holding == 1, "the caller gave up before the answer"
    assert late.value.status is None and late.value.retry_after is None


def test_a_server_that_accepts_and_never_answers_is_a_temporary_error_within_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(WebexTemporaryError, match="did not answer in time"):
            get_meeting(WebexSettings(f"http://127.0.0.1:{port}/v1/", "token", 0.2), "abc")


def test_nothing_listening_is_a_temporary_error(closed_port):
    settings = WebexSettings(f"http://127.0.0.1:{closed_port}/v1/", "token", 5)
    with pytest.raises(WebexTemporaryError, match="could not be reached"):  # refused at once, not timed out
        check_connection(settings)


def test_a_base_url_without_its_trailing_slash_still_reaches_v1(settings, webex_emulator):
    without_slash = WebexSettings(settings.base_url.rstrip("/"), settings.access_token, 5)
    assert check_connection(without_slash) == "IRB Hearings Scheduling (emulator)"
    assert webex_emulator.calls == [("GET", "/v1/people/me")]


def test_failures_can_be_planned_over_http(settings, webex_emulator):
    assert control(settings, "/_emulator/fail", {"status": 503, "times": 2, "retry_after": 1}) == {
        "planned": 2
    }
    for _ in range(2):
        with pytest.raises(WebexTemporaryError) as failed:
            check_connection(settings)
        assert failed.value.status == 503 and failed.value.retry_after == 1
    assert check_connection(settings) == "IRB Hearings Scheduling (emulator)"


def test_the_emulator_can_be_reset_over_http(settings, webex_emulator):
    schedule_hearing(settings)
    control(settings, "/_emulator/reset", {})
    assert webex_emulator.meetings == {} and webex_emulator.calls == []


def test_check_connection_gives_the_display_name_of_the_token_owner(settings, webex_emulator):
    assert check_connection(settings) == "IRB Hearings Scheduling (emulator)"
    assert webex_emulator.calls == [("GET", "/v1/people/me")]


def test_the_emulator_runs_alone_from_the_command_line():
    command = [sys.executable, "-m", "backoffice.devservices.webex_emulator", "--port", "0", "--token", "t0k"]
    emulator = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base_url = re.search(r"http://127\.0\.0\.1:\d+/v1/", emulator.stdout.readline()).group(0)
        settings = WebexSettings(base_url, "t0k", 5)
        assert check_connection(settings) == "IRB Hearings Scheduling (emulator)"
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
