"""Activation output mapping (the connector's Audience Studio "Output Mapping"), as polars expressions.

Either every column as it is (``export_all_columns``), or chosen columns with output names; plus
"string builder" columns made of parts: literal text, the export's timestamp, the segment id, the
segment name and the audience id. Applied before validation, so mapped names are checked like any
column. In a job file::

    [output_mapping]
    export_all_columns = false
    segment_id = "1234"
    segment_name = "VIP buyers"
    columns = [{source = "mail", output = "email"}, {source = "fname", output = "first_name"}]
    [[output_mapping.strings]]
    output = "source"
    parts = [{text = "segment "}, {value = "segment_name"}, {text = " at "}, {value = "timestamp"}]
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pardot_frames.errors import ColumnError, ConfigError

VALUES = ("timestamp", "segment_id", "segment_name", "audience_id")


class Part(BaseModel):
    """One piece of a built string: literal ``text`` or one of the export's ``value``s."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str | None = None
    value: Literal["timestamp", "segment_id", "segment_name", "audience_id"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Part:
        if (self.text is None) == (self.value is None):
            raise ValueError(f"a string part takes either text or value (one of {', '.join(VALUES)})")
        return self


class BuiltString(BaseModel):
    """An output column made of parts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    output: str
    parts: list[Part]


class Column(BaseModel):
    """A chosen source column and its output name (the source name when not given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str
    output: str | None = None


class OutputMapping(BaseModel):
    """Which columns go out, under which names, plus built strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    export_all_columns: bool = True
    columns: list[Column] = []
    strings: list[BuiltString] = []
    segment_id: str | None = None
    segment_name: str | None = None
    audience_id: str | None = None
    timestamp: datetime | None = None  # the export's timestamp; set when the export starts if not given

    def __init__(self, **values: object) -> None:
        """Validate; every problem in one ConfigError naming its place (output_mapping.strings.0...)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(
                [
                    f"output_mapping.{'.'.join(map(str, e['loc']))}: {str(e['msg']).removeprefix('Value error, ')}"
                    for e in exc.errors()
                ]
            ) from None

    @model_validator(mode="after")
    def _consistent(self) -> OutputMapping:
        if self.export_all_columns and self.columns:
            raise ValueError(
                "export_all_columns = true exports every column unchanged; set it to false to choose columns"
            )
        return self

    def stamped(self, moment: datetime | None = None) -> OutputMapping:
        """This mapping with its timestamp fixed (once per export, so every chunk agrees)."""
        if self.timestamp is not None:
            return self
        return self.model_copy(update={"timestamp": moment or datetime.now(UTC)})

    def _value(self, name: str) -> str:
        if name == "timestamp":
            moment = self.timestamp or datetime.now(UTC)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        value = getattr(self, name)
        if value is None:
            raise ConfigError([f"output_mapping uses {name} in a string, but {name} is not set"])
        return str(value)

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame as it goes out: chosen (or all) columns under output names, then built strings."""
        missing = [c.source for c in self.columns if c.source not in frame.columns]
        if missing:
            raise ColumnError(
                [
                    f"output_mapping: source column {m!r} is not in the input (columns: {', '.join(frame.columns)})"
                    for m in missing
                ]
            )
        if self.export_all_columns:
            chosen = [pl.col(c) for c in frame.columns]
        else:
            chosen = [pl.col(c.source).alias(c.output or c.source) for c in self.columns]
        built = [
            pl.concat_str(
                [pl.lit(p.text if p.text is not None else self._value(p.value or "")) for p in s.parts]
            ).alias(s.output)
            for s in self.strings
        ]
        names = [e.meta.output_name() for e in chosen + built]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ColumnError([f"output_mapping: output column {c!r} is produced more than once" for c in clashes])
        return frame.select(*chosen, *built) if frame.width or built else frame
