"""A browser on the portal: one keep-alive connection with cookies and the CSRF token,
opening an operation page and sending Try it as htmx does."""

from __future__ import annotations

import http.client
import re
import urllib.parse


class Browser:
    """One keep-alive connection with cookies and the CSRF token, as a browser has."""

    def __init__(self, port: int, *, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def open_operation(self, api: str, operation: str) -> None:
        status, page = self.request("GET", f"/apis/{api}/operations/{operation}/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not found:
            raise SystemExit(f"the operation page answered {status} without a CSRF token")
        self.token = found.group(1).decode()

    def try_it(
        self, api: str, operation: str, form: list[tuple[str, str]] | None = None
    ) -> tuple[int, bytes]:
        body = urllib.parse.urlencode([("csrfmiddlewaretoken", self.token), *(form or [])])
        return self.request(
            "POST",
            f"/apis/{api}/operations/{operation}/try",
            body=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "Referer": f"http://127.0.0.1:{self.port}/",
            },
        )

    def close(self) -> None:
        self.connection.close()


def shown_status(html: bytes) -> int | None:
    found = re.search(rb"data-status>(\d{3}) ", html)
    return int(found.group(1)) if found else None
