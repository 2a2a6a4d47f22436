"""CRF NER feature code: tag-scheme decoding and the mined gazetteer (invented sentences).

Why: training and inference share these functions, so a decoding or gazetteer bug would
silently cost F1 on both sides; these checks pin the behaviour down without a model.
"""

from __future__ import annotations

from pathlib import Path

from lagebild.extract.ner_crf import (
    FeatureSet,
    MinedGazetteer,
    bio_spans,
    package_gazetteer_features,
    to_bioes,
)

BIO = ["B-PER", "I-PER", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG", "I-LOC"]


def test_bio_and_bioes_decode_to_the_same_chunks() -> None:
    chunks = [(0, 2, "PER"), (3, 4, "LOC"), (4, 7, "ORG"), (7, 8, "LOC")]
    assert list(bio_spans(BIO)) == chunks
    bioes = to_bioes(BIO)
    assert bioes == ["B-PER", "E-PER", "O", "S-LOC", "B-ORG", "I-ORG", "E-ORG", "S-LOC"]
    assert list(bio_spans(bioes)) == chunks


def test_bioes_decoding_tolerates_broken_sequences() -> None:
    # an E- without a B- is a one-token chunk; an S- inside a chunk closes it
    assert list(bio_spans(["E-PER", "B-ORG", "S-ORG", "O"])) == [
        (0, 1, "PER"),
        (1, 2, "ORG"),
        (2, 3, "ORG"),
    ]


def _train() -> list[tuple[list[str], list[str]]]:
    return [
        ("Frieda Holm reist nach Kleinstedt .".split(), ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]),
        ("Holm lobt Kleinstedt .".split(), ["B-PER", "O", "B-LOC", "O"]),
        ("Die Brücke ist alt .".split(), ["O", "O", "O", "O", "O"]),
        ("Die Brücke ist neu .".split(), ["O", "O", "O", "O", "O"]),
        ("Die Brücke spielt .".split(), ["B-ORG", "I-ORG", "O", "O"]),
    ]


def test_mined_gazetteer_marks_known_names_and_parts(tmp_path: Path) -> None:
    gaz = MinedGazetteer.build(_train())
    assert gaz.entries[("Frieda", "Holm")] == "PER"
    assert gaz.entries[("Holm",)] == "PER"  # named inside a longer entity counts as named
    assert ("Die", "Brücke") not in gaz.entries  # labelled in 1 of 3 occurrences
    feats = gaz.features("Gestern kam Frieda Holm nach Kleinstedt .".split())
    assert "gz=B-PER" in feats[2] and "gz=I-PER" in feats[3]
    assert "gz=B-LOC" in feats[5]
    assert gaz.part_features(["Kleinstedt-Besuch", "Kleinstedtreise"]) == [
        ["hp=LOC"],
        ["cp=LOC"],
    ]
    path = tmp_path / "gaz.tsv"
    gaz.to_file(path)
    again = MinedGazetteer.from_file(path)
    assert again.entries == gaz.entries and again.words == gaz.words


def test_package_gazetteer_features() -> None:
    feats = package_gazetteer_features("Die französische Regierung und die Vereinten Nationen".split())
    assert "pk=adj" in feats[1]
    assert feats[4] == [] and "pk=B-ORG" in feats[5] and "pk=I-ORG" in feats[6]


def test_feature_set_config_round_trip() -> None:
    fs = FeatureSet(window=3, rich=True, package_gaz=True, mined=MinedGazetteer.build(_train()))
    words = "Holm lobt Kleinstedt .".split()
    rows = fs(words, [("-", "-", "-")] * len(words))
    assert len(rows) == len(words)
    assert any(f.startswith("-3") for f in rows[3])  # the +-3 window reaches back
    assert fs.config() == {
        "window": 3,
        "rich": True,
        "package_gaz": True,
        "mined_gaz": True,
        "parts": False,
        "lexicon": False,
        "heads": False,
        "forms": False,
        "hyphens": False,
    }
    lex = FeatureSet(lexicon=True)
    assert lex.config()["lexicon"] is True
    assert lex.extras(["Gestern", "kam", "Xqzvbrt"]) == [["lx=cap"], [], ["lx=unk"]]


def test_links_with_a_path_are_no_part_of_a_name() -> None:
    import spacy

    from lagebild.extract.ner_crf import _link

    doc = spacy.blank("de")("Quelle pic.twitter.com/abc123 Newman und www.spiegel.de")
    assert [t.text for t in doc if _link(t)] == ["pic.twitter.com/abc123"]


def test_double_space_does_not_split_a_name() -> None:
    import lagebild

    rec = lagebild.analyze("Die Ex-Chefin Martha  Oberndorfer betonte, sie sei zufrieden. "
                           "Oberndorfer sprach von einem Erfolg.")
    person = next(e for e in rec.entities if e.type == "PER")
    assert person.name == "Martha Oberndorfer"  # the canonical name has one space
    assert [m.text for m in person.mentions] == ["Martha  Oberndorfer", "Oberndorfer"]
    assert rec.check_offsets() == []
