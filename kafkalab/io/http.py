"""JSON over HTTP, on ``requests``: the one client the course uses for REST APIs (Kafka Connect, the schema
registry's Confluent-compatible API, the companion services' health pages).

:func:`request` returns whatever status comes back; :func:`call` wants a success and turns an error status into
:class:`HttpError`, one line quoting the server's own message. Nothing answering at all is :class:`Unreachable`.
Both are :class:`~kafkalab.errors.LabError`: a notebook shows them as one red line.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ..errors import LabError


class Answer(NamedTuple):
    """One HTTP answer: the status and the body (decoded JSON; text if it is not JSON; None if empty)."""

    status: int
    body: Any


class Unreachable(LabError):
    """Nothing answered at the address (refused, timed out, unknown host)."""


class HttpError(LabError):
    """The server answered with an error status; ``status`` and ``body`` keep its answer."""

    def __init__(self, message: str, status: int, body: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, body


def message_of(body: Any) -> str:
    """The server's error message from an error body (``{"error_code": ..., "message": ...}``), else the body."""
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return " ".join(str(body).split())[:300]


def request(method: str, url: str, body: Any = None, *, timeout_s: float = 10,
            content_type: str = "application/json", fix: str = "") -> Answer:
    """One call with a JSON ``body`` (if any): the :class:`Answer`, whatever its status.

    Raises :class:`Unreachable` (with ``fix`` appended) when nothing answers within ``timeout_s``.
    """
    import requests

    from .connection import registry_auth

    data = None if body is None else json.dumps(body)
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    try:  # a registry named by SCHEMA_REGISTRY_URL gets its basic-auth user info (kafkalab.io.connection)
        resp = requests.request(method, url, data=data, headers=headers, timeout=timeout_s, auth=registry_auth(url))
    except requests.RequestException as e:
        why = type(e).__name__ if isinstance(e, requests.Timeout) else "connection refused or no such host"
        raise Unreachable(f"nothing answers at {url} ({why})" + (f"; {fix}" if fix else "")) from None
    if not resp.content:
        return Answer(resp.status_code, None)
    try:
        return Answer(resp.status_code, resp.json())
    except ValueError:
        return Answer(resp.status_code, resp.text)


def call(method: str, url: str, body: Any = None, *, timeout_s: float = 10, content_type: str = "application/json",
         fix: str = "", service: str = "", ok: tuple[int, ...] = ()) -> Any:
    """One call that must succeed: the decoded body. An error status (400 or more, unless listed in ``ok``) raises
    :class:`HttpError` naming ``service`` (default: the host), the call and the server's message."""
    status, answer = request(method, url, body, timeout_s=timeout_s, content_type=content_type, fix=fix)
    if status >= 400 and status not in ok:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        raise HttpError(f"{service or parts.netloc} refused {method} {path}: {status} {message_of(answer)}",
                        status, answer)
    return answer
