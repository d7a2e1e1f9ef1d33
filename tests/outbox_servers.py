"""Local providers for the outbox tests and benchmark, each on port 0 in a thread:
a real SMTP server (aiosmtpd) and a fake of the SMS provider's HTTP interface."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP

# aiosmtpd logs every command it reads at INFO: a line per message is noise here.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Collect:
    def __init__(self, received: list[EmailMessage], count_only: bool):
        self.received = received
        self.count_only = count_only
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if not self.count_only:
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    received: list[EmailMessage]
    handler: _Collect

    @property
    def count(self) -> int:
        return self.handler.count


@contextmanager
def smtp_server(count_only: bool = False):
    """A real SMTP server on 127.0.0.1 and a free port; collects what it is sent."""
    received: list[EmailMessage] = []
    handler = _Collect(received, count_only)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {}

    def run():
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0))
        box["server"] = server
        box["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the SMTP server did not start"
    try:
        yield SmtpServer(box["port"], received, handler)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass
class SmsFake:
    url: str
    requests: list[dict] = field(default_factory=list)
    # The status the next answers carry (200 takes the message).
    status: int = 200


@contextmanager
def sms_server(token: str = "secret-token"):
    """A fake of the SMS provider: takes a POST of JSON with the bearer token."""
    fake = SmsFake("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            authorised = self.headers.get("Authorization") == f"Bearer {token}"
            fake.requests.append(
                {**body, "authorised": authorised, "key": self.headers.get("Idempotency-Key")}
            )
            status = fake.status if authorised else 401
            answer = json.dumps({"status": "queued" if status == 200 else "error"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
