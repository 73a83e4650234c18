#!/usr/bin/env python3
"""Stand-in for the mail catcher axllent/mailpit: an SMTP receiver that keeps every message in
memory, and the small part of the catcher's HTTP API that the project's tests read (the
interface is in ../README.md). Standard library only; our own code throughout.

    /mailpit            serve: SMTP on 0.0.0.0:1025, HTTP on 0.0.0.0:8025
    /mailpit readyz     exit 0 when the HTTP server answers /readyz (the healthcheck)
"""

import email
import email.policy
import json
import os
import re
import secrets
import signal
import socketserver
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from email.utils import getaddresses
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMTP_ADDRESS = os.environ.get("MP_SMTP_BIND_ADDR", "0.0.0.0:1025")
HTTP_ADDRESS = os.environ.get("MP_UI_BIND_ADDR", "0.0.0.0:8025")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def say(message):
    print(f"mailpit-standin: {message}", file=sys.stderr, flush=True)


class Mailbox:
    """The messages received, newest first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    def add(self, raw: bytes, sender: str, recipients: list[str]) -> dict:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        message = {
            "ID": secrets.token_urlsafe(16),
            "MessageID": str(parsed.get("Message-ID", "")).strip("<>"),
            "From": addresses(parsed.get_all("From", []))[:1] or [{"Name": "", "Address": sender}],
            "To": addresses(parsed.get_all("To", [])),
            "Cc": addresses(parsed.get_all("Cc", [])),
            "Bcc": [],
            "Subject": str(parsed.get("Subject", "")),
            "Created": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "Size": len(raw),
            "Text": text.get_content() if text else "",
            "HTML": html.get_content() if html else "",
            "Envelope": {"From": sender, "To": recipients},
        }
        message["From"] = message["From"][0]
        message["Snippet"] = " ".join(message["Text"].split())[:250]
        with self.lock:
            self.messages.insert(0, message)
        say(f"received {message['ID']} from {sender} to {', '.join(recipients)}")
        return message

    def summaries(self) -> list[dict]:
        keys = ("ID", "MessageID", "From", "To", "Cc", "Bcc", "Subject", "Created", "Size")
        with self.lock:
            return [
                {**{key: m[key] for key in keys}, "Snippet": m["Snippet"], "Read": False}
                for m in self.messages
            ]

    def get(self, message_id: str) -> dict | None:
        with self.lock:
            found = [m for m in self.messages if m["ID"] == message_id]
            if message_id == "latest" and self.messages:
                found = self.messages[:1]
        if not found:
            return None
        return {key: value for key, value in found[0].items() if key != "Envelope"}

    def delete(self, ids: list[str] | None) -> None:
        with self.lock:
            if ids:
                self.messages = [m for m in self.messages if m["ID"] not in ids]
            else:
                self.messages = []


def addresses(headers) -> list[dict]:
    return [{"Name": name, "Address": address} for name, address in getaddresses(headers)]


MAILBOX = Mailbox()


class SmtpSession(socketserver.StreamRequestHandler):
    """Enough SMTP for a client such as Python's smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET,
    NOOP, QUIT. No authentication and no TLS are offered, as the catcher's defaults."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 mailpit-standin ESMTP ready")
        sender, recipients = None, []
        while raw := self.rfile.readline(4096):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self.reply("250-mailpit-standin")
                self.reply("250-8BITMIME")
                self.reply("250-SMTPUTF8")
                self.reply(f"250 SIZE {MAX_MESSAGE_BYTES}")
            elif verb == "HELO":
                self.reply("250 mailpit-standin")
            elif verb == "MAIL":
                found = re.search(r"FROM:\s*<([^>]*)>", line, re.IGNORECASE)
                if not found:
                    self.reply("501 Syntax: MAIL FROM:<address>")
                    continue
                sender, recipients = found[1], []
                self.reply("250 OK")
            elif verb == "RCPT":
                found = re.search(r"TO:\s*<([^>]+)>", line, re.IGNORECASE)
                if sender is None or not found:
                    self.reply("503 MAIL first, then RCPT TO:<address>")
                    continue
                recipients.append(found[1])
                self.reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = self.read_data()
                if body is None:
                    return
                stored = MAILBOX.add(body, sender, recipients)
                self.reply(f"250 OK queued as {stored['ID']}")
                sender, recipients = None, []
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> bytes | None:
        lines = []
        while raw := self.rfile.readline(MAX_MESSAGE_BYTES):
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            # Dot-stuffing: a line that starts with a dot was sent with one more.
            lines.append(raw[1:] if raw.startswith(b"..") else raw)
        return None


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Api(BaseHTTPRequestHandler):
    """GET /api/v1/messages, GET /api/v1/message/<ID> (or latest), DELETE /api/v1/messages
    (all, or {"IDs": [...]}), GET /livez and /readyz, and a plain list at /."""

    def send(self, status: int, body, content_type="application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/livez", "/readyz"):
            self.send(HTTPStatus.OK, b"ok\n", "text/plain")
        elif path == "/api/v1/messages":
            messages = MAILBOX.summaries()
            self.send(
                HTTPStatus.OK,
                {
                    "total": len(messages),
                    "unread": len(messages),
                    "count": len(messages),
                    "messages_count": len(messages),
                    "start": 0,
                    "tags": [],
                    "messages": messages,
                },
            )
        elif path.startswith("/api/v1/message/"):
            found = MAILBOX.get(path.removeprefix("/api/v1/message/"))
            if found is None:
                self.send(HTTPStatus.NOT_FOUND, b"message not found\n", "text/plain")
            else:
                self.send(HTTPStatus.OK, found)
        elif path == "/":
            lines = [f"{m['Created']}  {m['To']}  {m['Subject']}" for m in MAILBOX.summaries()]
            page = "mailpit stand-in: the messages, newest first\n\n" + "\n".join(lines) + "\n"
            self.send(HTTPStatus.OK, page.encode(), "text/plain; charset=utf-8")
        else:
            self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def do_DELETE(self):
        if self.path.split("?", 1)[0] != "/api/v1/messages":
            self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        ids = json.loads(self.rfile.read(length) or b"{}").get("IDs") if length else None
        MAILBOX.delete(ids)
        self.send(HTTPStatus.OK, b"ok", "text/plain")

    def log_message(self, format, *args):
        say(f"http {self.command} {self.path}")


def split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)  # noqa: S104 - a container listens on all addresses


def serve() -> int:
    smtp = SmtpServer(split(SMTP_ADDRESS), SmtpSession)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    http = ThreadingHTTPServer(split(HTTP_ADDRESS), Api)
    # As PID 1 nothing ends the process on SIGTERM (docker stop) unless it says so.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say(f"SMTP on {SMTP_ADDRESS}, HTTP on {HTTP_ADDRESS}")
    http.serve_forever()
    return 0


def readyz() -> int:
    _, port = split(HTTP_ADDRESS)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as answer:
            return 0 if answer.status == HTTPStatus.OK else 1
    except OSError:
        return 1


if __name__ == "__main__":
    if sys.argv[1:] == ["readyz"]:
        sys.exit(readyz())
    sys.exit(serve())
