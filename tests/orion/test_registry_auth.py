"""A registry that answers 401 or 403: the error names the credential variables.

Apicurio's default configuration accepts every request, so a real 401 from
it would need an identity server; instead a small HTTP server on loopback
answers every request with the status (real HTTP through the real client,
not a mock of it).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orion.exceptions import ConfigurationError
from orion.registry import Registry

SCHEMA = '{"type": "record", "name": "r", "fields": []}'


class _Refusing(BaseHTTPRequestHandler):
    status = 401
    seen: list[str | None]

    def _refuse(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        body = b'{"error_code": 40101, "message": "Unauthorized"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _refuse

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[401, 403])
def refusing(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str | None]]]:
    """(URL, Authorization headers received) of a server refusing with the param's status."""
    seen: list[str | None] = []
    handler = type("Handler", (_Refusing,), {"status": request.param, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_a_refused_request_without_credentials_says_to_set_them(
    refusing: tuple[str, list[str | None]],
) -> None:
    with Registry(refusing[0], timeout_s=5) as registry, pytest.raises(ConfigurationError) as e:
        registry.check("raw.x-value", SCHEMA)
    assert "refused an unauthenticated request" in str(e.value)
    assert "ORION_SCHEMA_REGISTRY_USERNAME" in str(e.value)


def test_refused_credentials_name_the_user_not_the_password(
    refusing: tuple[str, list[str | None]],
) -> None:
    auth = ("svc-orion", "pw-not-printed-9")
    with (
        Registry(refusing[0], timeout_s=5, auth=auth) as registry,
        pytest.raises(ConfigurationError) as e,
    ):
        registry.check("raw.x-value", SCHEMA)
    text = str(e.value)
    assert "refused the credentials (ORION_SCHEMA_REGISTRY_USERNAME=svc-orion" in text
    assert "ORION_SCHEMA_REGISTRY_PASSWORD" in text and auth[1] not in text
    token = base64.b64encode(b"svc-orion:pw-not-printed-9").decode()
    assert f"Basic {token}" in refusing[1]  # the client really sent them
