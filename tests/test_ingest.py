"""Bad input must give a clear, typed error — never a crash, never a silent guess."""

from __future__ import annotations

import pytest

from lagebild.ingest import InputError, decode, detect_language, make_document, read_path

GERMAN = ("Die Regierung hat am Montag neue Hilfen angekündigt. Der Minister sagte, die Lage "
          "sei ernst, und es werde mehr Geld für die Gemeinden geben.")


def test_valid_german_document_gets_content_id():
    a = make_document(GERMAN)
    b = make_document(GERMAN + "  ")
    assert a.id == b.id and len(a.id) == 16
    assert a.language == "de"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty(text):
    with pytest.raises(InputError) as exc:
        make_document(text)
    assert exc.value.reason == "empty"


def test_binary_bytes():
    with pytest.raises(InputError) as exc:
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    assert exc.value.reason == "binary"


def test_latin1_bytes_name_the_encoding():
    data = GERMAN.replace("ü", "ü").encode("latin-1")
    with pytest.raises(InputError) as exc:
        decode(data, name="a.txt")
    assert exc.value.reason == "encoding"
    assert "--encoding" in exc.value.message
    assert decode(data, encoding="latin-1") == GERMAN


def test_too_large():
    with pytest.raises(InputError) as exc:
        make_document(GERMAN * 100, max_bytes=1000)
    assert exc.value.reason == "too_large"


def test_not_german():
    english = ("The government announced new aid on Monday. The minister said that the situation "
               "was serious and that there would be more money for the towns.")
    assert detect_language(english) == "en"
    with pytest.raises(InputError) as exc:
        make_document(english)
    assert exc.value.reason == "not_german"


def test_bad_date():
    with pytest.raises(InputError) as exc:
        make_document(GERMAN, published="gestern")
    assert exc.value.reason == "malformed"


def test_read_html(tmp_path):
    page = (
        "<!doctype html><html><head><title>Hilfe für Gemeinden</title>"
        "<meta property='article:published_time' content='2025-03-04'></head><body>"
        "<nav>Startseite | Politik | Wirtschaft</nav><article><h1>Hilfe für Gemeinden</h1>"
        f"<p>{GERMAN}</p><p>{GERMAN}</p></article><footer>Impressum</footer></body></html>"
    )
    path = tmp_path / "seite.html"
    path.write_text(page, encoding="utf-8")
    doc = read_path(path)
    assert "Regierung" in doc.text
    assert "Impressum" not in doc.text
    assert doc.title == "Hilfe für Gemeinden"
    assert str(doc.published) == "2025-03-04"


def test_read_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        read_path(tmp_path / "nope.txt")
    assert exc.value.reason == "unreadable"
