"""Every error the API can answer, and the one table that turns faults into them."""

from __future__ import annotations

import json
from typing import Any

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from werkzeug import Response
from yjs_contracts.api import ErrorBody, ErrorDetail, ErrorInfo, InvalidApplication
from yjs_kit.auth import Unauthorized


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[ErrorDetail] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


def forbidden(message: str = "this role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def not_authorized_for_enterprise(uscc: str) -> ApiError:
    return ApiError(403, "not_authorized_for_enterprise",
                    f"only the legal representative of {uscc} or an agent it authorised for this matter may submit it")


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


#: RemoteError exc_type from a service -> (status, code)
REMOTE_ERRORS = {
    "CaseNotFound": (404, "not_found"),
    "DeadLetterNotFound": (404, "not_found"),
    "IdempotencyConflict": (409, "idempotency_conflict"),
    "InvalidApplication": (422, "invalid_application"),
    "OperationalError": (503, "unavailable"),
    "PermitNotFound": (404, "not_found"),
    "PermitNotRevocable": (409, "not_revocable"),
    "NoticeNotFound": (404, "not_found"),
    "NoticeClosed": (409, "notice_closed"),
    "ObjectionsNotAccepted": (409, "objections_not_accepted"),
    "DeregistrationNotFound": (404, "not_found"),
    "LiquidationReportRefused": (409, "liquidation_report_refused"),
    "ReviewNotFound": (404, "not_found"),
    "ReviewClosed": (409, "review_closed"),
    "InvalidDecision": (422, "invalid_decision"),
    "CaseEnded": (409, "case_ended"),
    "WithdrawalRefused": (409, "withdrawal_refused"),
    "NothingToSupplement": (409, "nothing_to_supplement"),
    "CaseNotEnded": (409, "case_not_ended"),
    "AlreadyRated": (409, "already_rated"),
    "FollowUpNotFound": (404, "not_found"),
    "FollowUpClosed": (409, "follow_up_closed"),
    "FollowUpNotReady": (409, "follow_up_not_ready"),
    "AppealRefused": (409, "appeal_refused"),
    "CheckNotFound": (404, "not_found"),
    "CheckClosed": (409, "check_closed"),
    "EnterpriseNotFound": (404, "not_found"),
    "AgentNotFound": (404, "not_found"),
    "ListingNotFound": (404, "not_found"),
    "NotAuthorizedForEnterprise": (403, "not_authorized_for_enterprise"),
    "EnterpriseNotActive": (409, "enterprise_not_active"),
    "FieldNotRequested": (422, "field_not_requested"),
    "CallerNotVerified": (401, "unauthorized"),
    "CallerForbidden": (403, "forbidden"),
}
#: errors that name their fields in their text ("field: reason; …")
DETAILED_ERRORS = ("InvalidApplication", "FieldNotRequested")


def as_api_error(error: Exception) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, Unauthorized):
        return ApiError(401, "unauthorized", str(error))
    if isinstance(error, InvalidApplication):
        return ApiError(422, "invalid_application", "the application is invalid", error.details)
    if isinstance(error, RemoteError) and error.exc_type in REMOTE_ERRORS:
        status, code = REMOTE_ERRORS[error.exc_type]
        details = remote_details(str(error.value)) if error.exc_type in DETAILED_ERRORS else []
        return ApiError(status, code, str(error.value), details)
    if isinstance(error, (eventlet.Timeout, UnknownService)):
        return ApiError(503, "unavailable", "a service did not answer in time")
    return ApiError(500, "internal_error", "unexpected error; it has been logged")


def remote_details(message: str) -> list[ErrorDetail]:
    """An InvalidApplication raised behind RPC arrives as its text, "field: reason; …"
    (InvalidApplication's own format): every offending field again."""
    details = []
    for part in message.split("; "):
        field, sep, reason = part.partition(": ")
        if sep and field and " " not in field:
            details.append(ErrorDetail(field=field, reason=reason))
    return details


def error_response(error: ApiError) -> Response:
    body = ErrorBody(error=ErrorInfo(code=error.code, message=error.message, details=error.details))
    return json_response(error.status, body.model_dump(mode="json"))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")
