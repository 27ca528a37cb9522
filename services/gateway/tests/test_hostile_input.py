"""What a hostile or careless client sends gets a clear 4xx in the error shape, never a 500,
never a case stuck for good; a client that keeps failing is slowed down. Through the real
gateway, broker and database, with case and registration behind it."""

import socket

import pytest
import requests
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_gateway.service import Gateway
from yjs_gateway.throttle import THROTTLED
from yjs_kit.auth import mint
from yjs_kit.config import DEV_JWT_SECRET
from yjs_kit.testing import http_port, wait_for
from yjs_registration.service import RegistrationService


@pytest.fixture
def gateway(start_service, monkeypatch):
    """gateway(**config) -> (base url, call) with case and registration running behind it."""
    monkeypatch.setenv("YJS_SERVICES", "case,registration")
    start_service(CaseService)
    start_service(RegistrationService)

    def start(**config):
        base = f"http://127.0.0.1:{http_port(start_service(Gateway, **config))}"

        def call(method, path, token=None, **kwargs):
            headers = kwargs.pop("headers", {})
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return requests.request(method, base + path, headers=headers, timeout=20, **kwargs)

        return base, call

    return start


def token(subject="alice", role="applicant", **kw):
    return mint(DEV_JWT_SECRET, subject, role, **kw)


def body(trade_name="锦程"):
    return {"matter": "establishment",
            "application": samples.establishment_application(trade_name, seals=(), bank_account=False)}


def error_of(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def fields(answer, status=422):
    return {d["field"] for d in error_of(answer, status)["details"]}


def raw_request(base: str, request: bytes) -> bytes:
    host, port = base.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def chunked(base: str, path: str, payload: bytes, bearer: str, content_type="application/json") -> bytes:
    pieces = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 4096]), payload[i:i + 4096])
                      for i in range(0, len(payload), 4096))
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    return raw_request(base, head + pieces + b"0\r\n\r\n")


def test_transport_media_type_size_depth_chunks_routing_and_headers(gateway):
    base, api = gateway()
    import json

    assert "unsupported_media_type" == error_of(api("POST", "/v1/cases", token(), data=json.dumps(body()),
                                                   headers={"Content-Type": "text/plain"}), 415)["code"]
    deep = "[" * 100_000 + "]" * 100_000
    assert fields(api("POST", "/v1/cases", token(), data=deep, headers={"Content-Type": "application/json"})) == {"body"}
    assert error_of(api("POST", "/v1/cases", token(), data=b"{" * (2 << 20),
                        headers={"Content-Type": "application/json"}), 413)["code"] == "body_too_large"
    # a valid body sent in chunks is read like any other, and an endless one is cut at the limit
    answer = chunked(base, "/v1/cases", json.dumps(body(), ensure_ascii=False).encode(), token())
    assert answer.startswith(b"HTTP/1.1 202"), answer[:300]
    assert b"HTTP/1.1 413" in chunked(base, "/v1/cases", b" " * (1 << 21), token())[:20]
    # the framework's own answers are in the error shape too
    assert error_of(api("GET", "/v1/nowhere"), 404)["code"] == "not_found"
    refused = api("DELETE", "/v1/cases")
    assert error_of(refused, 405)["code"] == "method_not_allowed" and "POST" in refused.headers["Allow"]
    for answer in (refused, api("GET", "/healthz"), api("GET", "/v1/cases", token())):
        assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Cache-Control"] == "no-store"
    # Idempotency-Key: at most 200 printable ASCII characters
    assert fields(api("POST", "/v1/cases", token(), json=body("新锐"), headers={"Idempotency-Key": "k" * 8100})) \
        == {"Idempotency-Key"}
    assert fields(api("POST", "/v1/cases", token(), json=body("新锐"), headers={"Idempotency-Key": "ké"})) \
        == {"Idempotency-Key"}
    assert api("POST", "/v1/cases", token(), json=body("新锐"), headers={"Idempotency-Key": "k" * 200}).status_code == 202


def test_queries_and_path_ids_are_bounded_before_any_database(gateway):
    _, api = gateway()
    nines = "9" * 30
    staff = token("registrar", "department", department="registration")
    operator = token("ops", "operator")
    assert fields(api("GET", "/v1/cases?limit=²", token())) == {"limit"}
    assert fields(api("GET", "/v1/cases?limit=100000", token())) == {"limit"}
    assert fields(api("GET", "/v1/cases?status=everything", token())) == {"status"}
    assert fields(api("GET", f"/v1/cases?after=YJS{nines}%0A", token())) == {"after"}
    assert fields(api("GET", "/v1/notices?limit=²")) == {"limit"}
    assert fields(api("GET", "/v1/notices?uscc=%1B[2J")) == {"uscc"}
    assert fields(api("GET", "/v1/departments/registration/reviews?limit=²", staff)) == {"limit"}
    assert fields(api("GET", f"/v1/departments/registration/reviews?after=R{nines}", staff)) == {"after"}
    assert fields(api("POST", f"/v1/departments/registration/reviews/R{nines}/decision", staff,
                      json={"decision": "approve"})) == {"review_id"}
    assert fields(api("GET", "/v1/follow-ups?limit=²", operator)) == {"limit"}
    assert fields(api("GET", f"/v1/follow-ups?after=F{nines}", operator)) == {"after"}
    assert fields(api("POST", f"/v1/dead-letters/case:{nines}/replay", operator)) == {"dead_letter_id"}
    assert fields(api("POST", "/v1/dead-letters/case:²/replay", operator)) == {"dead_letter_id"}
    assert api("GET", "/v1/cases?limit=100&after=YJS20261202000001", token()).json()["items"] == []


def test_full_width_digits_never_get_in_so_no_case_is_stuck(gateway):
    _, api = gateway()
    bad = body()
    bad["application"]["enterprise"]["domicile"]["division_code"] = "３３０４０２"
    bad["application"]["legal_representative"]["name"] = "张\x00伟"
    bad["application"]["shareholders"][0]["contribution_deadline"] = "1900-01-01"
    assert fields(api("POST", "/v1/cases", token(), json=bad)) == {
        "application.enterprise.domicile.division_code", "application.legal_representative.name",
        "application.shareholders.0.contribution_deadline"}
    assert api("GET", "/v1/cases", token()).json()["items"] == []


def test_a_burst_of_bad_tokens_meets_429_with_retry_after(gateway):
    _, api = gateway()
    before = THROTTLED.labels("auth_failures")._value.get()
    statuses = [api("GET", "/v1/cases", "not-a-token").status_code for _ in range(150)]
    assert statuses[:60] == [401] * 60
    assert statuses.count(429) >= 80 and set(statuses) == {401, 429}
    throttled = api("GET", "/v1/cases", token())  # the address, not just the token, is slowed down
    assert error_of(throttled, 429)["code"] == "too_many_requests"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert THROTTLED.labels("auth_failures")._value.get() - before >= 80


def test_submissions_are_limited_per_subject_as_configured(gateway):
    _, api = gateway(SUBMISSIONS_PER_MINUTE=3)
    statuses = [api("POST", "/v1/cases", token("bob"), json=body(name)).status_code for name in ("锦程", "新锐", "恒达", "泰和")]
    assert statuses == [202, 202, 202, 429]
    assert api("POST", "/v1/cases", token("carol"), json=body("泰和")).status_code == 202  # another subject


def test_what_was_accepted_but_wrong_is_refused_field_by_field(gateway):
    _, api = gateway()

    def with_(path, value, matter_body=None):
        submission = matter_body or body()
        target = submission["application"]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return fields(api("POST", "/v1/cases", token(), json=submission))

    assert with_(("enterprise", "registered_capital"), "500_000") == {"application.enterprise.registered_capital"}
    assert with_(("enterprise", "registered_capital"), 1000000.0) == {"application.enterprise.registered_capital"}
    assert with_(("enterprise", "registered_capital"), "１000000.00") == {"application.enterprise.registered_capital"}
    assert with_(("enterprise", "business_scope"), ["软件开发" + "a" * 900_000]) == {"application.enterprise.business_scope.0"}
    assert with_(("officers", 1, "name"), "\u202e娜李") == {"application.officers.1.name"}
    assert with_(("contacts", "liaison", "name"), "   ") == {"application.contacts.liaison.name"}
    entity = {"kind": "entity", "name": "某某投资有限公司", "uscc": "91350100M000100Y44", "nationality": "ZZZ",
              "subscribed_amount": "1.00", "contribution_form": "currency", "contribution_deadline": "2030-12-31"}
    with_entity = body()
    with_entity["application"]["shareholders"].append(entity)
    assert fields(api("POST", "/v1/cases", token(), json=with_entity)) == {"application.shareholders.1.uscc",
                                                                           "application.shareholders.1.nationality"}
    twice = body()
    twice["application"]["shareholders"].append(dict(twice["application"]["shareholders"][0]))
    assert fields(api("POST", "/v1/cases", token(), json=twice)) == {"application.shareholders"}
    def closing():
        return {"matter": "deregistration", "application": samples.deregistration_application("91350100M000100Y43")}

    assert with_(("commitments", "debts_settled"), "yes", closing()) == {"application.commitments.debts_settled"}
    assert with_(("commitments", "investors_agree"), 1, closing()) == {"application.commitments.investors_agree"}
    # the public objection form, no token: a name with a NUL is no name
    assert fields(api("POST", "/v1/notices/ZXGG20261202000001/objections",
                      json={"name": "某\x00公司", "contact": "13900000000", "reason": "尚欠货款"})) == {"name"}
    assert api("GET", "/v1/cases", token()).json()["items"] == []


def test_nesting_is_measured_without_parsing_strings_skipped():
    from yjs_gateway.http import nests_deeper_than

    assert not nests_deeper_than(b"[" * 32 + b"]" * 32, 32)
    assert nests_deeper_than(b"[" * 33 + b"]" * 33, 32)
    assert nests_deeper_than(b'{"a":' * 33 + b"1" + b"}" * 33, 32)
    wide = b"[" + b",".join([b"[]"] * 40) + b"]"  # many openings, two levels: scanned, and shallow
    assert not nests_deeper_than(wide, 32)
    assert not nests_deeper_than(b'["' + b"[" * 40 + b'"]', 32)  # brackets inside a string are text
    assert not nests_deeper_than(b'["\\"' + b"[" * 40 + b'"]', 32)  # an escaped quote does not end it
