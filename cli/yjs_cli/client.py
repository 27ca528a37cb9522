"""A small client of the v1 API, for the command line, the demo and the tests."""

from __future__ import annotations

import os
import time
from typing import Any

import requests
from yjs_kit.auth import mint
from yjs_kit.config import DEV_JWT_SECRET

FINAL = ("completed", "partially_completed", "rejected", "withdrawn")


def default_url() -> str:
    return os.environ.get("YJS_URL", "http://127.0.0.1:8000")


def token_for(subject: str, role: str = "applicant", department: str | None = None,
              id_number: str | None = None, name: str | None = None) -> str:
    """A token as the identity provider would issue it after 实名认证: an applicant's carries the
    person's name and 居民身份证号码 (`id_number`), which acting for an enterprise needs."""
    return mint(os.environ.get("JWT_SECRET", DEV_JWT_SECRET), subject, role, department,
                name=(name or subject) if role == "applicant" else None,
                id_number=id_number if role == "applicant" else None)


class ApiClient:
    def __init__(self, base_url: str | None = None, token: str | None = None):
        self.base_url = (base_url or default_url()).rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def submit(self, body: dict[str, Any], idempotency_key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", "/v1/cases", json=body, headers=headers)

    def case(self, case_id: str) -> dict[str, Any]:
        answer = self.request("GET", f"/v1/cases/{case_id}")
        answer.raise_for_status()
        return answer.json()

    def wait_until_final(self, case_id: str, timeout: float = 60.0, interval: float = 0.2) -> dict[str, Any]:
        """Poll the record until the case ends. A service that is restarting (the gateway's 503,
        an answer that does not come in time) is waited for until `timeout`, as an applicant's
        client would."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                record = self.case(case_id)
            except (requests.ConnectionError, requests.Timeout) as error:
                record, unavailable = None, error
            except requests.HTTPError as error:
                if error.response is None or error.response.status_code not in (502, 503, 504):
                    raise
                record, unavailable = None, error
            if record is not None and record["status"] in FINAL:
                return record
            if time.monotonic() > deadline:
                state = record["status"] if record is not None else f"unavailable ({unavailable})"
                raise TimeoutError(f"case {case_id} still {state} after {timeout:.0f}s")
            time.sleep(interval)
