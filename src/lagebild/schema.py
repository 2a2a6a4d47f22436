"""The Lagebild record: the one data model that flows from ingest to store.

Every field name here is a public contract (`lagebild.record/1`). Users keep records
for years and compare them across versions, so fields are only ever *added* within a
major schema version; renaming or removing one bumps `SCHEMA_VERSION`.

Offsets are Python string indices (code points) into `document.text`, half-open
`[start, end)`, so `text[start:end] == span.text` always holds; `Record.check_offsets`
verifies it and the tests pin it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "lagebild.record/1"

EntityType = Literal["PER", "ORG", "GPE", "LOC", "MISC"]
StatementKind = Literal["direct", "indirect", "mixed", "according_to", "reported"]
Mood = Literal["subjunctive", "indicative"]
MentionKind = Literal["name", "adjectival", "part", "metonym"]
PloverType = Literal[
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
    "OTHER",
]
Modality = Literal[
    "actual", "planned", "considered", "threatened", "conditional", "denied", "hypothetical"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    """A piece of the document text: `document.text[start:end] == text`."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Document(_Model):
    id: str = Field(description="Stable id: given by the user or derived from the content hash.")
    title: str | None = None
    published: date | None = None
    language: str = "de"
    text: str
    url: str | None = None
    source: str | None = Field(default=None, description="Outlet or feed the text came from.")


class Mention(Span):
    kind: MentionKind = Field(
        default="name",
        description="name: the name itself; adjectival: demonym/adjective (russische, Russen); "
        "part: a name inside a hyphenated compound (US-Gesandte); metonym: a capital "
        "standing for its state (Pjöngjang for Nordkorea).",
    )


class EntityLinks(_Model):
    iso3166: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code for states.")
    geonames: int | None = Field(default=None, description="GeoNames id for places, where known.")


class Entity(_Model):
    id: str
    name: str = Field(description="Canonical name within this document (German).")
    type: EntityType
    mentions: list[Mention] = Field(default_factory=list)
    links: EntityLinks = Field(default_factory=EntityLinks)


class Statement(_Model):
    id: str
    kind: StatementKind
    speaker: str | None = Field(default=None, description="Entity id, or null if unnamed/unknown.")
    speaker_span: Span | None = Field(
        default=None,
        description="The mention in the text the statement is attached to (may be a pronoun "
        "or a description resolved to `speaker`).",
    )
    cue: Span | None = None
    content: Span
    parts: list[Span] = Field(
        default_factory=list, description="The content's pieces when it is interrupted."
    )
    mood: Mood = "indicative"
    confidence: float | None = Field(default=None, ge=0, le=1)


class Quantity(_Model):
    id: str
    span: Span
    value: float | None = Field(default=None, description="Exact value, null for vague amounts.")
    low: float | None = None
    high: float | None = None
    approximate: str | None = Field(
        default=None, description="The hedge as written: rund, mehr als, bis zu, mindestens ..."
    )
    unit: str | None = None
    quantifies: str | None = Field(default=None, description="What is counted, as in the text.")
    source: str | None = Field(default=None, description="Entity id; null = the author.")
    statement: str | None = Field(default=None, description="Statement id the figure occurs in.")


class Event(_Model):
    id: str
    type: PloverType
    mode: str | None = Field(default=None, description="PLOVER mode, e.g. military, economic.")
    trigger: Span
    actor: str | None = None
    target: str | None = None
    modality: Modality = "actual"
    source: str | None = Field(default=None, description="Entity id; null = the author.")
    statement: str | None = None
    time: str | None = Field(default=None, description="Time id (see `times`).")
    place: str | None = Field(default=None, description="Entity id of a place.")


class TimeExpr(_Model):
    id: str
    span: Span
    value: str | None = Field(
        default=None,
        description="Normalised ISO 8601 value (2024-10-23, 2024-W43, 2023, 2024-10-01/2024-10-31, "
        "P3Y, PAST_REF) resolved against document.published.",
    )
    type: Literal["date", "interval", "duration", "set", "reference"] = "date"


class Record(_Model):
    schema_: str = Field(default=SCHEMA_VERSION, alias="schema")
    document: Document
    entities: list[Entity] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    times: list[TimeExpr] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self, indent: int | None = 1) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)

    def to_dict(self) -> dict:
        return json.loads(self.model_dump_json(by_alias=True))

    def iter_spans(self):
        """Every span in the record, for offset checks and highlighting."""
        for e in self.entities:
            yield from e.mentions
        for s in self.statements:
            for sp in (s.speaker_span, s.cue, s.content, *s.parts):
                if sp is not None:
                    yield sp
        for q in self.quantities:
            yield q.span
        for ev in self.events:
            yield ev.trigger
        for t in self.times:
            yield t.span

    def check_offsets(self) -> list[str]:
        """Return a description of every span whose text does not match the document."""
        text = self.document.text
        return [
            f"{sp.start}:{sp.end} {sp.text!r} != {text[sp.start:sp.end]!r}"
            for sp in self.iter_spans()
            if text[sp.start : sp.end] != sp.text
        ]


def json_schema() -> dict:
    """The published JSON Schema for `lagebild.record/1`."""
    schema = Record.model_json_schema(by_alias=True)
    schema["$id"] = "https://lagebild.invalid/schema/record-1.json"
    schema["title"] = SCHEMA_VERSION
    return schema
