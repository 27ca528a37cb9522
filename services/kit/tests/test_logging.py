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
