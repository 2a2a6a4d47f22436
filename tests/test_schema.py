"""The record format is a public contract: these tests pin its field names."""

from __future__ import annotations

import json

from lagebild.schema import SCHEMA_VERSION, Record, json_schema

EXPECTED_FIELDS = {
    "Record": {"schema", "document", "entities", "statements", "quantities", "events", "times"},
    "Document": {"id", "title", "published", "language", "text", "url", "source"},
    "Entity": {"id", "name", "type", "mentions", "links"},
    "Statement": {"id", "kind", "speaker", "speaker_span", "cue", "content", "parts", "mood",
                  "confidence"},
    "Quantity": {"id", "span", "value", "low", "high", "approximate", "unit", "quantifies",
                 "source", "statement"},
    "Event": {"id", "type", "mode", "trigger", "actor", "target", "modality", "source",
              "statement", "time", "place"},
    "TimeExpr": {"id", "span", "value", "type"},
}


def test_field_names_are_pinned():
    schema = json_schema()
    assert set(schema["properties"]) == EXPECTED_FIELDS["Record"]
    for name, fields in EXPECTED_FIELDS.items():
        if name == "Record":
            continue
        assert set(schema["$defs"][name]["properties"]) == fields, name


def test_enums_are_pinned():
    defs = json_schema()["$defs"]
    assert set(defs["Statement"]["properties"]["kind"]["enum"]) == {
        "direct", "indirect", "mixed", "according_to", "reported"}
    assert set(defs["Event"]["properties"]["modality"]["enum"]) == {
        "actual", "planned", "considered", "threatened", "conditional", "denied", "hypothetical"}
    assert len(defs["Event"]["properties"]["type"]["enum"]) == 17


def test_roundtrip_and_version():
    rec = Record.model_validate({
        "document": {"id": "x", "text": "Hallo Welt."},
        "entities": [{"id": "e1", "name": "Welt", "type": "LOC",
                      "mentions": [{"start": 6, "end": 10, "text": "Welt"}]}],
    })
    data = json.loads(rec.to_json())
    assert data["schema"] == SCHEMA_VERSION == "lagebild.record/1"
    again = Record.model_validate(data)
    assert again == rec
    assert again.check_offsets() == []


def test_check_offsets_reports_mismatch():
    rec = Record.model_validate({
        "document": {"id": "x", "text": "Hallo Welt."},
        "entities": [{"id": "e1", "name": "Welt", "type": "LOC",
                      "mentions": [{"start": 0, "end": 4, "text": "Welt"}]}],
    })
    assert len(rec.check_offsets()) == 1


def test_published_schema_file_is_current():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "record.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(
        json.dumps(json_schema(), ensure_ascii=False)
    ), "docs/record.schema.json is stale: run `lagebild schema > docs/record.schema.json`"
