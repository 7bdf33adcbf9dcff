"""Error pages in both languages, in the look of the rest of the back office."""

from flask import Flask, Response, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from backoffice.api import http_error_response, server_error_response
from backoffice.edge import OddInput
from backoffice.extensions import db

MESSAGES = {
    400: (_l("Request not understood"), _l("The request could not be understood. Go back and try again.")),
    403: (
        _l("Access refused"),
        _l("Your role, office or division does not give access to this page. The attempt was recorded."),
    ),
    404: (_l("Page not found"), _l("There is nothing here, or nothing you may see.")),
    405: (_l("Request not allowed"), _l("This page does not accept this kind of request.")),
    413: (_l("File too large"), _l("The file is larger than this page accepts.")),
    503: (
        _l("Not available at the moment"),
        _l("A service the back office needs does not answer at the moment. Try again in a minute."),
    ),
    500: (
        _l("Something went wrong"),
        _l(
            "The back office could not finish this request. Nothing was half-saved; try again, and tell the help desk if it happens again."
        ),
    ),
}
ODD_INPUT_MESSAGE = (
    _l("Request not understood"),
    _l(
        "The request holds a character or a number that this page cannot accept (a control character, "
        "or a number too large). Go back, correct it and try again."
    ),
)
CSRF_MESSAGE = (
    _l("Form expired"),
    _l("This form was open too long or came from elsewhere. Go back, reload the page and try again."),
)


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if _is_api_request():
            return _with_headers_of(error, http_error_response(error))
        if isinstance(error, CSRFError):
            title, message = CSRF_MESSAGE
        elif isinstance(error, OddInput):
            title, message = ODD_INPUT_MESSAGE
        else:
            title, message = MESSAGES.get(error.code, (error.name, error.description))
            if error.code == 503 and error.description != type(error).description:
                message = error.description  # what is unavailable, said by whoever raised it (translated)
        return _with_headers_of(error, make_response(_render(title, message, error.code or 500)))

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception):
        app.logger.exception("Unexpected error on %s %s", request.method, request.endpoint)
        if _is_api_request():
            db.session.rollback()
            return server_error_response()
        title, message = MESSAGES[500]
        return _render(title, message, 500)


def _with_headers_of(error: HTTPException, response: Response) -> Response:
    """Keep the headers the error carries besides its own body's type: a 405 says in `Allow` what is allowed."""
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def _render(title, message, status: int):
    return render_template("error.html", title=title, message=message, status=status), status
