"""Webex meetings for hearings, through `webexpythonsdk`: the only module that imports it.

Calls never wait inside: the SDK's own rate-limit handling (which sleeps for Retry-After and tries
again) is turned off, every request has one timeout, and a failure is raised at once as
WebexTemporaryError (worth a retry later, by the job) or WebexPermanentError. Their messages carry
the status, the operation and Webex's tracking id, never what Webex echoed back (it may quote an
invitee's address or name).

Webex emails invitees on create, update and cancel unless told not to (`sendEmail`); by default we
tell it not to, since counsel hears from us, in both official languages, through the outbox.
"""

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from webexpythonsdk import ApiError, MalformedResponse, immutable_data_factory
from webexpythonsdk.api.meetings import MeetingsAPI
from webexpythonsdk.api.people import PeopleAPI
from webexpythonsdk.response_codes import RESPONSE_CODES
from webexpythonsdk.restsession import RestSession

from backoffice.integrations.delivery import ProviderFailure
from backoffice.observability.metrics import errors_counted

TEMPORARY_STATUSES = frozenset({408, 423, 429})  # and every 5xx
GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True)
class WebexSettings:
    base_url: str  # e.g. "https://webexapis.com/v1/"
    access_token: str
    timeout_seconds: float = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "WebexSettings":
        """From the application's configuration (pass `current_app.config`)."""
        return cls(
            base_url=config["WEBEX_BASE_URL"],
            access_token=config["WEBEX_ACCESS_TOKEN"],
            timeout_seconds=float(config.get("WEBEX_TIMEOUT_SECONDS", 10)),
        )


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    web_link: str
    meeting_number: str
    start: datetime
    end: datetime


class WebexError(ProviderFailure):
    """Webex refused or could not be reached. The message is safe to log and show staff."""


class WebexTemporaryError(WebexError):
    """Worth trying again later: 429 (after `retry_after` seconds, when Webex said), 423, 5xx,
    a timeout, a refused or broken connection, an unreadable answer."""


class WebexPermanentError(WebexError):
    """Trying again will not help until something changes: 400, 401 (bad or expired token),
    403, 404, 409."""

    temporary = False


@errors_counted("webex", WebexError)
def create_meeting(
    settings: WebexSettings,
    title: str,
    start: datetime,
    end: datetime,
    timezone: str,
    invitee_email: str,
    invitee_name: str,
    *,
    send_email: bool = False,
) -> MeetingInfo:
    """Schedule a meeting with counsel as its invitee. Naive `start`/`end` are wall-clock times in
    `timezone` (an IANA name); aware ones are sent with their offset."""
    with _failures_translated("create a meeting"):
        created = _meetings(settings).create(
            title=title,
            start=_webex_time(start),
            end=_webex_time(end),
            timezone=timezone,
            invitees=[{"email": invitee_email, "displayName": invitee_name}],
            sendEmail=send_email,
        )
        return _meeting_info(created.to_dict())


@errors_counted("webex", WebexError)
def update_meeting(
    settings: WebexSettings,
    meeting_id: str,
    title: str,
    start: datetime,
    end: datetime,
    timezone: str,
    *,
    send_email: bool = False,
) -> MeetingInfo:
    """Reschedule. The API's update is a PUT of the whole meeting and requires its password, so the
    meeting is read first; the invitees are a separate resource and stay as they are."""
    with _failures_translated("update a meeting"):
        meetings = _meetings(settings)
        password = meetings.get(meeting_id).to_dict().get("password")
        if not password:
            # Webex shows a meeting's password only to its host (and to admins).
            raise WebexPermanentError(
                "Webex did not show the meeting's password: the token is not its host's"
            )
        updated = meetings.update(
            meeting_id,
            title=title,
            password=password,
            start=_webex_time(start),
            end=_webex_time(end),
            timezone=timezone,
            sendEmail=send_email,
        )
        return _meeting_info(updated.to_dict())


@errors_counted("webex", WebexError)
def delete_meeting(settings: WebexSettings, meeting_id: str, *, send_email: bool = False) -> None:
    """Cancel. A meeting Webex no longer has is already cancelled, which is what was asked."""
    session = _session(settings)
    try:
        with _failures_translated("cancel a meeting"):
            # MeetingsAPI.delete cannot pass the sendEmail query parameter; the session can.
            session.delete(f"meetings/{meeting_id}", params={"sendEmail": str(send_email).lower()})
    except WebexPermanentError as error:
        if error.status not in GONE_STATUSES:
            raise


@errors_counted("webex", WebexError)
def get_meeting(settings: WebexSettings, meeting_id: str) -> MeetingInfo:
    with _failures_translated("read a meeting"):
        return _meeting_info(_meetings(settings).get(meeting_id).to_dict())


@errors_counted("webex", WebexError)
def check_connection(settings: WebexSettings) -> str:
    """The display name of the account the token belongs to, for an integration health line."""
    with _failures_translated("check the connection"):
        return str(PeopleAPI(_session(settings), immutable_data_factory).me().displayName)


def _session(settings: WebexSettings) -> RestSession:
    if not settings.access_token:
        # The SDK would otherwise fall back to a WEBEX_ACCESS_TOKEN environment variable.
        raise WebexPermanentError("Webex: no access token is configured")
    try:
        return RestSession(
            access_token=settings.access_token,
            # Relative paths are joined onto the base URL: without its trailing slash, "/v1" is lost.
            base_url=settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/",
            single_request_timeout=max(1, math.ceil(settings.timeout_seconds)),  # whole seconds only
            wait_on_rate_limit=False,
        )
    except ValueError:
        raise WebexPermanentError("Webex: the configured base URL is not usable") from None


def _meetings(settings: WebexSettings) -> MeetingsAPI:
    return MeetingsAPI(_session(settings), immutable_data_factory)


def _webex_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _meeting_info(meeting: Mapping[str, Any]) -> MeetingInfo:
    try:
        return MeetingInfo(
            meeting_id=str(meeting["id"]),
            web_link=str(meeting["webLink"]),
            meeting_number=str(meeting["meetingNumber"]),
            start=datetime.fromisoformat(meeting["start"]),
            end=datetime.fromisoformat(meeting["end"]),
        )
    except (KeyError, TypeError, ValueError):
        raise WebexTemporaryError("Webex answered with a meeting we could not read") from None


@contextmanager
def _failures_translated(action: str) -> Iterator[None]:
    try:
        yield
    except ApiError as error:
        raise _api_failure(action, error) from None
    except requests.Timeout:
        raise WebexTemporaryError(f"Webex did not answer in time to {action}") from None
    except requests.ConnectionError:
        raise WebexTemporaryError(f"Webex could not be reached to {action}") from None
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ):
        raise WebexPermanentError(f"Webex: the configured base URL is not usable to {action}") from None
    except requests.RequestException as error:
        raise WebexTemporaryError(f"Webex failed ({type(error).__name__}) to {action}") from None
    except (MalformedResponse, json.JSONDecodeError):
        raise WebexTemporaryError(f"Webex answered with a body we could not read to {action}") from None


def _api_failure(action: str, error: ApiError) -> WebexError:
    status = error.status_code
    # Webex's own message may quote what was sent (an invitee's address): keep only the standard text.
    message = f"Webex answered {status} to {action}: {RESPONSE_CODES.get(status, error.status or 'error')}"
    if error.tracking_id:
        message += f" (tracking id {error.tracking_id})"
    if status in TEMPORARY_STATUSES or status >= 500:
        return WebexTemporaryError(message, retry_after=_retry_after(error.response), status=status)
    return WebexPermanentError(message, status=status)


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds, as Webex sends it; None when absent or not a number of seconds."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
