from __future__ import annotations

from bot.domain.webhook_logs import parse_log, target_message
from tests.helpers.fixtures import captured, fixture


def test_a_real_401_execution_log_gives_the_status_githubs_message_and_headers() -> None:
    execution = captured("13_triggered_webhook_logs_401")["executions"][0]

    answer = parse_log(execution["logs"], success=execution["success"])

    assert answer.status == 401
    assert answer.message == "Bad credentials"
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert "accept" not in answer.headers  # a request header, not the response's
    assert not answer.hidden
    assert answer.error is None


def test_a_real_204_execution_log_has_no_body_and_no_message() -> None:
    execution = captured("18_triggered_webhook_logs_204")["executions"][0]

    answer = parse_log(execution["logs"], success=True)

    assert answer.status == 204
    assert answer.message is None
    assert answer.headers["connection"] == "close"


def test_a_hidden_answer_is_recognised_from_the_security_line() -> None:
    result = fixture("derived/webhook-execute-401-response-hidden.json")

    answer = parse_log(result["logs"], success=result["success"])

    assert answer.hidden
    assert answer.status is None
    assert answer.error is None


def test_a_connection_error_gives_the_exception_text() -> None:
    result = fixture("derived/webhook-execute-connection-error-response-shown.json")

    answer = parse_log(result["logs"], success=False)

    assert answer.error is not None
    assert answer.error.startswith("Errno::ECONNREFUSED - Failed to open TCP connection")
    assert answer.status is None


def test_a_hidden_connection_error_still_says_the_request_raised() -> None:
    result = fixture("derived/webhook-execute-connection-error-response-hidden.json")

    answer = parse_log(result["logs"], success=False)

    assert answer.hidden
    assert answer.error == "the request raised an error; the broker hides which"


def test_the_http_version_is_whatever_the_broker_negotiated() -> None:
    logs = (
        "[2020-10-23T10:14:02Z] INFO: HTTP/1.0 403 Forbidden\n"
        "[2020-10-23T10:14:02Z] INFO: x-github-sso: required; url=https://github.com/orgs/acme/sso\n"
        '[2020-10-23T10:14:02Z] INFO: {"message":"Resource protected by organization SAML"}\n'
    )

    answer = parse_log(logs, success=False)

    assert answer.status == 403
    assert answer.headers["x-github-sso"].startswith("required")
    assert answer.message == "Resource protected by organization SAML"


def test_garbage_in_a_log_gives_an_unknown_answer_not_an_exception() -> None:
    answer = parse_log(
        "Webhook has not executed yet. Please retry in a few seconds.", success=False
    )

    assert (answer.status, answer.message, answer.error, answer.hidden) == (None, None, None, False)


def test_target_message_reads_json_text_or_parsed_json_and_ignores_the_rest() -> None:
    assert target_message('{"message": "Not Found"}') == "Not Found"
    assert target_message({"message": "Validation Failed"}) == "Validation Failed"
    assert target_message("not json") is None
    assert target_message(["message"]) is None
