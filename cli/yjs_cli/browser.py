"""A headless Chromium driven over the W3C WebDriver protocol: Debian's `chromium` and
`chromium-driver`, spoken to with `requests`. A few dozen lines instead of a client library:
the libraries' async transports do not run under eventlet, which every test here runs under."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from typing import Any

import requests

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the protocol's key for an element reference
PHONE_WIDTH = (390, 844)


class BrowserMissing(RuntimeError):
    pass


def _find(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissing(f"none of {', '.join(names)} is installed: `infra/local/ensure-services.sh chromium` installs "
                         "Debian's chromium and chromium-driver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Element:
    def __init__(self, browser: "Browser", ref: str):
        self.browser, self.ref = browser, ref

    def _call(self, method: str, path: str = "", body: dict | None = None) -> Any:
        return self.browser.call(method, f"/element/{self.ref}{path}", body)

    @property
    def text(self) -> str:
        return self._call("GET", "/text")

    def attribute(self, name: str) -> str | None:
        return self._call("GET", f"/property/{name}")

    @property
    def selected(self) -> bool:
        return self._call("GET", "/selected")

    def click(self) -> None:
        self._call("POST", "/click", {})

    def type(self, text: str) -> None:
        """Replaces what the field holds with `text`, typed."""
        self._call("POST", "/clear", {})
        if text:
            self._call("POST", "/value", {"text": text})


class Browser:
    """`with Browser() as browser: browser.open(url); browser.find("#id").text`"""

    def __init__(self, size: tuple[int, int] = PHONE_WIDTH):
        self.size = size
        self.process: subprocess.Popen | None = None
        self.session: str | None = None

    def __enter__(self) -> "Browser":
        chromium, driver = _find("chromium", "chromium-browser"), _find("chromedriver")
        port = _free_port()
        self.process = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.base + "/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise BrowserMissing("chromedriver did not start")
            time.sleep(0.2)
        args = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                f"--window-size={self.size[0]},{self.size[1]}", "--lang=zh-CN"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root (CI runs as root)
        answer = requests.post(self.base + "/session", json={"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": args}}}}, timeout=60)
        if answer.status_code != 200:
            self.close()
            raise BrowserMissing(f"chromium did not start: {answer.text[:500]}")
        self.session = answer.json()["value"]["sessionId"]
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.session:
            try:
                requests.delete(f"{self.base}/session/{self.session}", timeout=20)
            except requests.RequestException:
                pass
            self.session = None
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        answer = requests.request(method, f"{self.base}/session/{self.session}{path}", json=body, timeout=60)
        value = answer.json()["value"]
        if answer.status_code != 200:
            raise LookupError(f"{method} {path}: {value.get('error')}: {value.get('message', '')[:300]}")
        return value

    def open(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return self.call("GET", "/url")

    @property
    def text(self) -> str:
        """What the page says, as a person reads it."""
        return self.script("return document.body ? document.body.innerText : ''")

    @property
    def source(self) -> str:
        return self.call("GET", "/source")

    def find(self, css: str) -> Element:
        return Element(self, self.call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])

    def find_all(self, css: str) -> list[Element]:
        return [Element(self, e[ELEMENT]) for e in
                self.call("POST", "/elements", {"using": "css selector", "value": css})]

    def field(self, name: str) -> Element:
        return self.find(f'[name="{name}"]')

    def script(self, source: str, *args: Any) -> Any:
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "the page"):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except LookupError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not come within {timeout} s; the page says:\n{self.text[:3000]}")
            time.sleep(0.3)

    def screenshot(self, path: str) -> None:
        with open(path, "wb") as out:
            out.write(base64.b64decode(self.call("GET", "/screenshot")))
