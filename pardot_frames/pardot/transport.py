"""The transport seam: one HTTP exchange, nothing else (no auth, no retries, no parsing).

``Transport`` is a small protocol; ``AiohttpTransport`` is the real one (one aiohttp session per
job). A test can give the client another transport to script answers the simulator never gives.
A transport raises ``NoAnswer`` when no HTTP answer came back; ``unknown`` says whether the
request may have reached the server (a timeout or a dropped connection) or surely did not
(the connection could not be made). aiohttp is imported when the first session opens: a dry run
without credentials, or a command that sends nothing, does not pay for it (0.1 s).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pardot_frames._control import NoAnswer  # the seam's contract: raised when no HTTP answer came
from pardot_frames.errors import ApiError

if TYPE_CHECKING:
    import aiohttp


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: method, path with its encoded query (relative to the base URL), optional form."""

    method: str
    path_query: str
    form: Mapping[str, str] | None = field(default=None, repr=False)  # may carry credentials
    in_uri: bool = False  # the payload rides in the URI: a refusal of its length can be met by splitting
    multipart: bool = False  # send the form as multipart/form-data (else application/x-www-form-urlencoded)
    json_body: bytes | None = field(default=None, repr=False)  # a JSON body (the v5 Import API)
    file: tuple[str, str, bytes] | None = field(default=None, repr=False)  # a multipart file: part, filename, data
    accept: str = "pardot"  # what a good answer looks like: "pardot" (v4/v5 JSON), "import" (v5 import), "csv"


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer as it came: status, body text, headers."""

    status: int
    text: str
    headers: Mapping[str, str]


class Transport(Protocol):
    """Sends one request to ``base`` (a scheme and host) and gives back the answer, or raises NoAnswer (or
    ApiError for a TLS certificate that is not trusted: never retried, never skipped)."""

    async def exchange(self, base: str, request: Request, headers: Mapping[str, str]) -> Answer: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """The real transport: one aiohttp session, ``connections`` sockets, a total timeout per exchange."""

    def __init__(self, timeout: float, connections: int) -> None:
        self._timeout = timeout
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout), connector=connector
            )
        return self._session

    async def exchange(self, base: str, request: Request, headers: Mapping[str, str]) -> Answer:
        import aiohttp
        from yarl import URL

        session = self._open()
        url = URL(base + request.path_query, encoded=True)
        body, content_type = _body(request)
        if content_type is not None:
            headers = {**headers, "Content-Type": content_type}
        try:
            async with session.request(request.method, url, headers=headers, data=body) as response:
                text = await response.text(errors="replace")
                return Answer(response.status, text, response.headers)
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = f"the TLS certificate of {base} is not trusted ({exc.certificate_error})"
            raise ApiError(f"{reason}; pardot-frames always checks certificates") from None
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, (ConnectionRefusedError, socket.gaierror))
            why = "connection refused" if isinstance(exc.os_error, ConnectionRefusedError) else type(exc).__name__
            why = "the host name does not resolve" if isinstance(exc.os_error, socket.gaierror) else why
            raise NoAnswer(f"cannot connect to {base} ({why})", False, lasting=refused) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NoAnswer(f"no answer from {base} ({type(exc).__name__})", True) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _body(request: Request) -> tuple[object, str | None]:
    """The request's body as aiohttp sends it (JSON bytes, a dict to urlencode, a multipart writer or the
    multipart form as bytes) and its content type where aiohttp does not set one."""
    if request.json_body is not None:
        return request.json_body, "application/json"
    if request.file is not None:
        import aiohttp

        writer = aiohttp.MultipartWriter("form-data")
        name, filename, data = request.file
        part = writer.append(data, {"Content-Type": "text/csv"})
        part.set_content_disposition("form-data", name=name, filename=filename)
        return writer, None
    if not request.form:
        return None, None
    if not request.multipart:
        return dict(request.form), None
    return multipart_form(request.form)


def multipart_form(form: Mapping[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body of text fields, built whole (RFC 7578), and its content type. aiohttp's
    writer sends each part in several writes; one value goes out in one write with the headers, so the
    server is woken once per call, not once per write."""
    values = [value.encode() for value in form.values()]
    boundary = secrets.token_hex(16)
    while any(boundary.encode() in value for value in values):  # a value that holds it would end its part
        boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in zip(form, values, strict=True)
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _quoted(name: str) -> str:
    """A field name inside its quotes, escaped as browsers do (RFC 7578 4.2 leaves it to the sender)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


__all__ = ["AiohttpTransport", "Answer", "NoAnswer", "Request", "Transport", "multipart_form"]
