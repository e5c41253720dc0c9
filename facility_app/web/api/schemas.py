"""Shared field types and base models of request and response bodies."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from .registry import MAX_ID

log = logging.getLogger(__name__)


def _local_iso(value: datetime) -> str:
    from ..auth import facility

    return value.astimezone(ZoneInfo(facility().timezone)).isoformat()


#: An instant, shown in the facility's time zone with its offset.
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(_local_iso, return_type=str, when_used="json-unless-none"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def text(limit: int, min_length: int = 0) -> Any:
    """A stripped string of bounded length."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=limit)
    ]


class In(BaseModel):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class Patch(In):
    """A partial update: omitted fields keep their value (see :func:`keep`)."""

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


def keep(tp: Any) -> Any:
    """A PATCH field that may be left out but not set to null."""
    return Annotated[tp | None, AfterValidator(_not_null)]


class Query(BaseModel):
    """Query-string parameters: unknown ones are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Out(BaseModel):
    """A response, read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(Out):
    """One invalid field."""

    field: str
    message: str


class ErrorInfo(Out):
    """A refusal: a stable code, a message a person can act on, and what was wrong."""

    code: str
    message: str
    field: str | None = None
    params: dict[str, Any] | None = None
    details: list[ErrorDetail] | None = None


class ErrorOut(Out):
    """The body of every 4xx answer."""

    error: ErrorInfo
