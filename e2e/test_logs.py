"""Every process's log, after a run with real ID numbers and mobiles in the applications and
hostile requests at the door: no ID number or mobile in the clear, no raw control character."""

from __future__ import annotations

import re
import time
from datetime import date

import requests
from yjs_contracts import samples
from yjs_contracts.codes import make_id_number

#: C0/C1 controls (a line's own newline aside), DEL, bidi overrides and isolates
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_no_personal_data_and_no_control_character_reaches_any_log(system, fresh_application):
    people = [make_id_number("330402", date(1979, 3, 8), 417), make_id_number("110105", date(1991, 7, 21), 66)]
    mobiles = ["13512345678", "18698765432"]
    body = fresh_application()
    application = body["application"]
    application["legal_representative"].update(id_number=people[0], mobile=mobiles[0])
    application["shareholders"][0]["id_number"] = people[0]
    application["officers"][0]["id_number"] = people[0]
    application["contacts"]["liaison"]["mobile"] = mobiles[1]
    application["contacts"]["finance_officer"].update(id_number=people[1], mobile=mobiles[1])
    application["contacts"]["tax_handler"].update(id_number=people[1], mobile=mobiles[1])
    client = system.client()
    answer = client.submit(body)
    assert answer.status_code == 202, answer.text
    record = client.wait_until_final(answer.json()["case_id"], timeout=90)
    assert record["status"] == "completed", record

    # a refusal naming the ID number, an invalid body carrying them, forged lines in a path,
    # failed authentications
    refused = fresh_application()
    wrong = people[1][:-1] + ("0" if people[1][-1] != "0" else "1")
    refused["application"]["legal_representative"]["id_number"] = wrong
    refused_id = client.submit(refused).json()["case_id"]
    assert client.wait_until_final(refused_id, timeout=90)["status"] == "rejected"
    invalid = fresh_application()
    invalid["application"]["legal_representative"]["name"] = f"\x1b[2J{people[0]}\u202e{mobiles[0]}"
    assert client.submit(invalid).status_code == 422
    base = system.base_url
    headers = {"Authorization": client.session.headers["Authorization"]}
    requests.get(f"{base}/v1/cases/%0A2026-12-02%20[error]%20forged%1B[2J{people[0]}", headers=headers, timeout=10)
    for _ in range(3):
        assert requests.get(f"{base}/v1/cases", headers={"Authorization": f"Bearer {people[0]}.{mobiles[0]}"},
                            timeout=10).status_code == 401
    time.sleep(1)  # let every process write what it has

    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in system.log_dir.glob("*.log")}
    assert len(logs) >= 8
    for name, text in logs.items():
        for secret in people + [wrong] + mobiles:
            assert secret not in text, f"{name} shows {secret} unmasked"
        raw = RAW_CONTROL.search(text)
        assert raw is None, f"{name} holds a raw control character {raw.group()!r}: {text[max(0, raw.start() - 200):raw.end() + 50]!r}"
    gateway = "".join(text for name, text in logs.items() if name.startswith("gateway"))
    assert "authentication failed" in gateway and "Traceback" not in gateway
