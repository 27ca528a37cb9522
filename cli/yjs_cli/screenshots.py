"""`yjs screenshots`: a PNG of each main page of the portal, as a phone shows it, for the README.
Uses the running system, or starts one; submits examples/establishment.json (under a fresh name)
as the person the pages show."""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import urlencode

from yjs_contracts import samples
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID

from .browser import Browser
from .client import ApiClient, token_for
from .demo import fresh_name, system_for

SUBJECT = "张伟"


def run_screenshots(args) -> int:
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    system = system_for(args.url)
    try:
        client = ApiClient(args.url, token_for(SUBJECT, id_number=LEGAL_REPRESENTATIVE_ID))
        body = fresh_name(json.loads(Path(args.example).read_text(encoding="utf-8")),
                          random.randrange(len(samples._CHARS) ** 3))
        case_id = client.submit(body).json()["case_id"]
        uscc = client.wait_until_final(case_id)["outputs"]["uscc"]
        with Browser() as browser:
            def shoot(name: str, path: str) -> None:
                browser.open(args.url + path)
                # the whole page, not only the first screen
                height = min(browser.script("return document.documentElement.scrollHeight"), 8000)
                browser.call("POST", "/window/rect", {"width": browser.size[0], "height": height})
                browser.screenshot(str(out / f"{name}.png"))
                browser.call("POST", "/window/rect", {"width": browser.size[0], "height": browser.size[1]})
                print(out / f"{name}.png")

            browser.open(f"{args.url}/dev/sign-in?" + urlencode(
                {"role": "applicant", "subject": SUBJECT, "id_number": LEGAL_REPRESENTATIVE_ID, "next": "/"}))
            for name, path in (("home", "/"), ("cases", "/cases"), ("case", f"/cases/{case_id}"),
                               ("establishment", "/apply/establishment"), ("enterprise", f"/enterprises/{uscc}"),
                               ("licensing", f"/apply/licensing?uscc={uscc}"), ("notices", "/notices")):
                shoot(name, path)
            browser.open(f"{args.url}/dev/sign-in?" + urlencode({"role": "operator", "next": "/"}))
            shoot("operator", "/operator")
        return 0
    finally:
        if system is not None:
            system.stop()
