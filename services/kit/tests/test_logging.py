"""Personal data never reaches the logs."""

import json

import structlog
from yjs_kit import logging as kit_logging


def test_id_numbers_and_mobiles_are_masked_everywhere_in_a_line(capsys):
    kit_logging.configure("probe")
    structlog.contextvars.bind_contextvars(case_id="C1")
    structlog.get_logger().info("applicant 11010519491231002X called from 13800000000",
                                person={"id_number": "440524188001010014", "phones": ["13912345678"]})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    text = json.dumps(line, ensure_ascii=False)
    assert "11010519491231002X" not in text and "13800000000" not in text and "440524188001010014" not in text
    assert "110105********002X" in line["event"] and "138****0000" in line["event"]
    assert line["person"]["phones"] == ["139****5678"]
    assert line["service"] == "probe" and line["case_id"] == "C1" and line["level"] == "info"


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


def test_standard_library_lines_go_through_the_same_masking_and_escaping(capsys):
    import logging

    kit_logging.configure("probe")
    body = {"legal_representative": {"id_number": "11010519491231002X", "mobile": "13800000000"},
            "account": "6222020200112233445"}
    logging.getLogger("kombu.messaging").error("Can't decode message body: %r", body)
    try:
        raise ValueError(f"bad person 440524188001010014 at 13912345678\x1b[2J\nforged line")
    except ValueError:
        logging.getLogger("nameko.containers").exception("error handling worker %s", "<worker>")
    out = capsys.readouterr().out
    assert "\x1b" not in out and out.count("\n") == 2  # JSON escapes what a terminal would obey
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert len(lines) == 2
    text = json.dumps(lines, ensure_ascii=False)
    for secret in ("11010519491231002X", "13800000000", "6222020200112233445", "440524188001010014", "13912345678"):
        assert secret not in text
    assert "6222****3445" in lines[0]["event"] and lines[0]["logger"] == "kombu.messaging"
    assert "\x1b[2J\nforged line" in lines[1]["exception"]  # readable once the line is parsed


def test_json_lines_escape_what_json_itself_does_not(capsys):
    kit_logging.configure("probe", fmt="json")
    structlog.get_logger().info("x", name="\u202e\x85\u2028")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and not any(c in out for c in "\u202e\x85\u2028")
    assert json.loads(out)["name"] == "\\u202e\\x85\\u2028"


def test_control_characters_can_never_forge_a_line(capsys):
    kit_logging.configure("probe", fmt="console")
    structlog.get_logger().info("path", path="/v1/cases/\n2026-12-02 [info] forged\x1b[2J\u202e")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\x1b" not in out and "\u202e" not in out and "\\u202e" in out


def test_case_ids_and_licence_numbers_stay_readable():
    assert kit_logging.mask("YJS202612020000001 330402000000012") == "YJS202612020000001 330402000000012"


def test_a_worker_error_answered_as_4xx_leaves_no_traceback(capsys):
    import logging

    class Answered(Exception):
        pass

    kit_logging.configure("probe")
    kit_logging.quiet_worker_errors(lambda exc: isinstance(exc, Answered))
    try:
        raise Answered("invalid token")
    except Answered:
        logging.getLogger("nameko.containers").exception("error handling worker")
    assert capsys.readouterr().out == ""


def test_a_line_written_while_an_event_is_applied_names_its_case_and_event(capsys):
    from yjs_contracts.envelope import new_event

    structlog.contextvars.clear_contextvars()  # what an earlier test bound
    kit_logging.configure("probe", fmt="json")
    first, second = (new_event("case.submitted", {}, case_id=case) for case in ("C1", "C2"))
    log = structlog.get_logger()
    kit_logging.about_event(first)
    log.info("one")
    kit_logging.about_event(second)
    log.info("two", case_id="given")  # what the line itself says stands
    kit_logging.about_event(None)
    log.info("three")
    one, two, three = _lines(capsys)
    assert (one["case_id"], one["event_id"], one["event_type"], one["correlation_id"]) == (
        "C1", str(first.event_id), "case.submitted", first.correlation_id)
    assert two["case_id"] == "given" and two["event_id"] == str(second.event_id)
    assert "case_id" not in three and "event_id" not in three and three["service"] == "probe"
