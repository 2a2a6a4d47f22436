"""End-to-end: the `lagebild` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lagebild.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "beispiel_grenzkonflikt.txt"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lagebild.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_analyze_one_file_prints_record():
    proc = run_cli("analyze", str(EXAMPLE), "--published", "2026-03-04")
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)
    assert rec["schema"] == "lagebild.record/1"
    assert rec["document"]["published"] == "2026-03-04"
    text = rec["document"]["text"]
    for e in rec["entities"]:
        for m in e["mentions"]:
            assert text[m["start"]:m["end"]] == m["text"]
    names = {e["name"] for e in rec["entities"]}
    assert {"Moldau", "Ukraine", "Europäische Union"} <= names


@pytest.fixture()
def batch_dir(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (src / "sub" / "b.txt").write_text(
        "Der Kanzler sagte am Montag, die Regierung werde die Hilfen verlängern. "
        "Laut Finanzministerium kostet das rund 2,5 Milliarden Euro.", encoding="utf-8")
    (src / "empty.txt").write_text("", encoding="utf-8")
    (src / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (src / "latin1.txt").write_bytes("Die Brücke über die Straße ist für den Verkehr gesperrt, "
                                     "sagte der Bürgermeister.".encode("latin-1"))
    (src / "english.txt").write_text("The minister said on Monday that the government would "
                                     "extend the aid for the towns and the people.", encoding="utf-8")
    return src


def test_batch_goes_on_and_reports_failures(batch_dir: Path, tmp_path: Path):
    out = tmp_path / "out"
    proc = run_cli("analyze", str(batch_dir), "--out", str(out))
    assert proc.returncode == 1  # some files failed ...
    written = sorted(p.name for p in out.glob("*.json"))
    assert written == ["a.json", "sub__b.json"]  # ... the good ones are all there
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    reasons = {Path(f["path"]).name: f["reason"] for f in failures}
    assert reasons == {"empty.txt": "empty", "binary.txt": "binary", "latin1.txt": "encoding",
                       "english.txt": "not_german"}
    assert "analysed 2" in proc.stderr and "failed 4" in proc.stderr

    # a re-run resumes: nothing is redone or duplicated
    again = run_cli("analyze", str(batch_dir), "--out", str(out))
    assert "analysed 0, skipped 2" in again.stderr
    assert sorted(p.name for p in out.glob("*.json")) == written


def test_text_and_html_formats(tmp_path: Path, capsys):
    assert main(["analyze", str(EXAMPLE), "--format", "text"]) == 0
    report = capsys.readouterr().out
    assert "Entities (" in report and "Statements (" in report
    assert main(["analyze", str(EXAMPLE), "--format", "html", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "beispiel_grenzkonflikt.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<mark" in page


def test_html_escapes_article_text(tmp_path: Path):
    evil = tmp_path / "evil.txt"
    evil.write_text("Der Minister <script>alert(1)</script> sagte, die Lage sei ernst und es "
                    "werde neue Hilfen für die Gemeinden geben.", encoding="utf-8")
    assert main(["analyze", str(evil), "--format", "html", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "evil.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "lagebild.record/1"


def test_eval_on_gold_seed(shared: Path, capsys):
    assert main(["eval", str(shared / "gold"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["gold"]
    assert result["documents"] >= 1
    assert result["micro"]["entity_mentions"]["gold"] > 0


def test_text_report_names_unnamed_sources() -> None:
    # a figure inside a statement by an unnamed source is that source's, not the author's
    from lagebild import analyze
    from lagebild.render import to_text

    rec = analyze("Die Gemeinde baut eine Brücke. Mehrere Anwohner sagten, dabei würden "
                  "Tausende Bäume gefällt.")
    line = next(x for x in to_text(rec).splitlines() if x.lstrip().startswith("q") and "Tausende" in x)
    st = next(s for s in rec.statements if "Tausende" in s.content.text)
    assert line.endswith(f"(source: {st.speaker_span.text} in {st.id})")
