"""The data plane's error answers as values: :class:`AoaiError` carries a status and a JSON body.

Every body here follows a public source; ``docs/standin.md`` ("What the services answer") lists them
with their sources and says which are verbatim and which are reconstructions.
"""

from __future__ import annotations

from typing import Any


class AoaiError(Exception):
    """A data-plane failure with its status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers


def error(status: int, code: str | None, message: str, **extra: Any) -> AoaiError:
    """``{"error": {"code": ..., "message": ..., **extra}}``, the service's usual shape."""
    return AoaiError(status, {"error": {"code": code, "message": message, **extra}})


def invalid_request(message: str, param: str | None, code: str | None, status: int = 400) -> AoaiError:
    """The OpenAI-style validation body ``{"error": {"message", "type": "invalid_request_error", "param",
    "code"}}`` the reasoning models answer with (e.g. dotnet/extensions#6945, owndev/Open-WebUI-Functions#136)."""
    return AoaiError(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    )


def gateway_error(status: int, message: str) -> AoaiError:
    """The gateway shape ``{"statusCode": N, "message": ...}`` (no ``error`` wrapper)."""
    return AoaiError(status, {"statusCode": status, "message": message})


def resource_not_found() -> AoaiError:
    """The ambiguous 404 for a wrong path, a bad/missing ``api-version`` or a retired model version
    (openai/openai-python#362, BerriAI/litellm#11116)."""
    return error(404, "404", "Resource not found")
