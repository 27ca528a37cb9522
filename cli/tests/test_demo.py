"""What `yjs demo` submits: fresh names, and a change and a deregistration of enterprises it established."""

import json
from pathlib import Path

from yjs_cli.demo import ORDER, about, fresh_name
from yjs_contracts.api import parse_submission

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_change_renames_the_first_enterprise_established_and_the_deregistration_closes_the_last():
    body = json.loads((EXAMPLES / "change.json").read_text(encoding="utf-8"))
    changed = about(fresh_name(body, 7), ["91350100M000100Y43", "91110107082833558H"])
    assert changed["application"]["uscc"] == "91350100M000100Y43"
    name = changed["application"]["changes"]["name"]
    assert name["name"] != "嘉兴新禾餐饮管理有限公司" and name["name"].endswith("新禾餐饮管理有限公司")
    assert parse_submission(changed)[0] == "change"
    closing = about(json.loads((EXAMPLES / "deregistration.json").read_text(encoding="utf-8")),
                    ["91350100M000100Y43", "91110107082833558H"])
    assert closing["application"]["uscc"] == "91110107082833558H"
    order = sorted((p.stem for p in EXAMPLES.glob("*.json") if not p.name.endswith(".demo.json")),
                   key=lambda stem: (ORDER.get(stem.split("-")[0], 0), stem))
    assert order[-2:] == ["change", "deregistration"]
