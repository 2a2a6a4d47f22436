"""Layer: entities — who and what is named, merged into one entity per referent.

Sources of mentions, in order of trust:
1. the package gazetteer (`data/states.tsv`, `data/entity_aliases.tsv`, plus CLDR state names from
   Babel): states, their adjectives and demonyms (*russische*, *Russen* -> Russland), capitals used
   as metonyms (*Pjöngjang* -> Nordkorea), fixed organisations (UN, Pentagon, Kreml);
2. the trained NER model (GermEval labels PER/LOC/ORG/OTH with -deriv/-part variants) for
   everything the gazetteer cannot know: people, parties, cities, events.
Within a document, person names are merged by their parts (*Kim Jong-un*, *Kim*, *Kims*), and
genitive forms by their base (*Russlands*). Cross-document identity is the corpus layer's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from spacy.attrs import ENT_IOB, ENT_TYPE, IDX, ORTH
from spacy.language import Language
from spacy.tokens import Doc

from ..resources import read_tsv
from ..schema import Entity, EntityLinks, Mention
from . import doc_text
from .spans import Containers, Coverage

_ADJ_ENDINGS = ("en", "er", "es", "em", "e", "")
#: Words before a capital that make it a place rather than a stand-in for the government.
_PLACE_PREPS = {"in", "nach", "aus", "bei", "nahe", "um", "vor", "bis", "durch", "über", "im",
                "hauptstadt", "stadt"}
_LOC_WORDS = re.compile(r"(Meer|Gebirge|See|Golf|Küste|Region|[Gg]ebiet|Halbinsel|Kanal|Tal)\b")
_COMPASS = ("Nord", "Süd", "Ost", "West", "Zentral", "Mittel")


@dataclass(frozen=True)
class GazEntry:
    key: str  # canonical entity key
    type: str
    kind: str  # name | adjectival | metonym | city
    iso: str | None = None
    geonames: int | None = None


@dataclass
class Gazetteer:
    names: dict[tuple[str, ...], GazEntry] = field(default_factory=dict)
    adjectives: dict[str, GazEntry] = field(default_factory=dict)
    demonyms: dict[str, GazEntry] = field(default_factory=dict)
    capitals: dict[tuple[str, ...], tuple[GazEntry, GazEntry]] = field(default_factory=dict)
    #: first word of any name or capital -> longest entry length; most tokens start no name,
    #: so one set lookup per token replaces up to ten tuple lookups (the hot path)
    first_words: dict[str, int] = field(default_factory=dict)


@cache
def gazetteer() -> Gazetteer:
    """Build lookup tables once per process from the package's data files and Babel."""
    gaz = Gazetteer()
    iso_to_name: dict[str, str] = {}
    for row in read_tsv("states.tsv"):
        iso, name = row["iso"], row["name"]
        iso_to_name[iso] = name
        geo = int(row["geonames"]) if row.get("geonames") else None
        entry = GazEntry(name, "GPE", "name", iso, geo)
        for alias in [name, *filter(None, (row.get("aliases") or "").split("|"))]:
            gaz.names[tuple(alias.split())] = entry
        for adj in filter(None, (row.get("adj") or "").split("|")):
            gaz.adjectives[adj.lower()] = GazEntry(name, "GPE", "adjectival", iso, geo)
        for dem in filter(None, (row.get("demonyms") or "").split("|")):
            gaz.demonyms[dem] = GazEntry(name, "GPE", "adjectival", iso, geo)
        cap_geo = int(row["capital_geonames"]) if row.get("capital_geonames") else None
        capitals = [c for c in (row.get("capital") or "").split("|") if c]
        for cap in capitals:
            city = GazEntry(capitals[0], "GPE", "city", None, cap_geo)
            gaz.capitals[tuple(cap.split())] = (GazEntry(name, "GPE", "metonym", iso, geo), city)
    try:  # CLDR names: every state Babel knows, not only the ones in our table
        from babel import Locale

        for iso, cldr in Locale("de").territories.items():
            if len(iso) == 2 and iso.isalpha():
                key = iso_to_name.get(iso, cldr)
                gaz.names.setdefault(tuple(cldr.split()), GazEntry(key, "GPE", "name", iso))
    except Exception:  # noqa: BLE001 - Babel data missing must not break analysis
        pass
    for row in read_tsv("entity_aliases.tsv"):
        entry = GazEntry(row["canonical"], row["type"], "name", row.get("iso") or None)
        for alias in [row["canonical"], *filter(None, (row.get("aliases") or "").split("|"))]:
            gaz.names[tuple(alias.split())] = entry
        if row.get("seat"):  # "Brüssel will ..." is the EU, "in Brüssel" the city
            seat = GazEntry(row["seat"], "GPE", "city")
            metonym = GazEntry(row["canonical"], row["type"], "metonym", row.get("iso") or None)
            gaz.capitals[tuple(row["seat"].split())] = (metonym, seat)
    for key in [*gaz.names, *gaz.capitals]:
        gaz.first_words[key[0]] = max(gaz.first_words.get(key[0], 0), len(key))
    # demonym plurals that equal a state name (Polen, Schweden, Ungarn) are names
    for key in list(gaz.demonyms):
        if (key,) in gaz.names:
            del gaz.demonyms[key]
    return gaz


@dataclass
class _Cand:
    start: int
    end: int
    type: str
    kind: str
    key: str | None = None  # canonical key when known from the gazetteer
    iso: str | None = None
    geonames: int | None = None


_NER_TYPE = {"PER": "PER", "ORG": "ORG", "LOC": "GPE", "OTH": "MISC"}


def _strip_genitive(text: str) -> str:
    if len(text) > 3 and text.endswith("s") and not text.endswith("ss"):
        return text[:-1]
    return text


def _lookup_name(gaz: Gazetteer, words: tuple[str, ...]) -> GazEntry | None:
    entry = gaz.names.get(words)
    if entry is None and words[-1].endswith("s"):
        entry = gaz.names.get((*words[:-1], _strip_genitive(words[-1])))
    return entry


def _adjective(gaz: Gazetteer, word: str) -> GazEntry | None:
    low = word.lower()
    for ending in _ADJ_ENDINGS:
        if ending and not low.endswith(ending):
            continue
        stem = low[: len(low) - len(ending)] if ending else low
        entry = gaz.adjectives.get(stem)
        if entry is not None:
            return entry
    return None


class _Tokens:
    """Token texts and offsets read once from the Doc's arrays.

    Iterating a Doc creates a Python Token object per token; this layer looks at every
    token several times, so plain lists are several times faster (it is on the hot path).
    """

    __slots__ = ("texts", "starts", "iob", "ent_type")

    def __init__(self, doc: Doc):
        arr = doc.to_array([ORTH, IDX, ENT_IOB, ENT_TYPE]) if len(doc) else None
        strings = doc.vocab.strings
        self.texts: list[str] = [strings[int(o)] for o in arr[:, 0]] if arr is not None else []
        self.starts: list[int] = arr[:, 1].tolist() if arr is not None else []
        self.iob: list[int] = arr[:, 2].tolist() if arr is not None else []
        self.ent_type: list[str] = ([strings[int(t)] if t else "" for t in arr[:, 3]]
                                    if arr is not None else [])

    def end(self, i: int) -> int:
        return self.starts[i] + len(self.texts[i])


def _is_place_use(toks: _Tokens, start_tok: int) -> bool:
    """A capital after a locative preposition, or as a dateline, names the city itself."""
    texts = toks.texts
    if start_tok > 0 and texts[start_tok - 1].lower() in _PLACE_PREPS:
        return True
    at_par_start = start_tok == 0 or "\n" in texts[start_tok - 1]
    nxt = texts[start_tok + 1] if start_tok + 1 < len(texts) else ""
    return at_par_start and nxt in {"–", "-", "—", "(", ":"}


def _gazetteer_candidates(toks: _Tokens, gaz: Gazetteer) -> list[_Cand]:
    cands: list[_Cand] = []
    texts, starts = toks.texts, toks.starts
    i, n = 0, len(texts)
    while i < n:
        text = texts[i]
        if not text[:1].isalpha():
            i += 1
            continue
        matched = False
        max_len = gaz.first_words.get(text) or gaz.first_words.get(_strip_genitive(text))
        if max_len and text[:1].isupper():
            for length in range(min(max_len, n - i), 0, -1):
                words = tuple(texts[i : i + length])
                start, end = starts[i], toks.end(i + length - 1)
                entry = _lookup_name(gaz, words)
                if entry is not None:
                    cands.append(_Cand(start, end, entry.type, "name", entry.key, entry.iso,
                                       entry.geonames))
                    i += length
                    matched = True
                    break
                cap = gaz.capitals.get(words) or (
                    gaz.capitals.get((*words[:-1], _strip_genitive(words[-1]))))
                if cap is not None:
                    state, city = cap
                    if _is_place_use(toks, i):
                        cands.append(_Cand(start, end, "GPE", "name", city.key, None,
                                           city.geonames))
                    else:
                        cands.append(_Cand(start, end, state.type, "metonym", state.key,
                                           state.iso, state.geonames))
                    i += length
                    matched = True
                    break
        if matched:
            continue
        entry = gaz.demonyms.get(text) or _adjective(gaz, text)
        if entry is not None:
            cands.append(_Cand(starts[i], toks.end(i), "GPE", "adjectival", entry.key,
                               entry.iso, entry.geonames))
        elif "-" in text[1:-1]:
            head = text.split("-", 1)[0]
            part = _lookup_name(gaz, (head,))
            if part is not None and (text,) not in gaz.names:
                cands.append(_Cand(starts[i], starts[i] + len(head), part.type, "part",
                                   part.key, part.iso, part.geonames))
        i += 1
    return cands


def _iter_ents(toks: _Tokens):
    """(start_char, end_char, label) of the NER spans, from the IOB arrays."""
    iob, n = toks.iob, len(toks.iob)
    i = 0
    while i < n:
        if iob[i] == 3:  # B
            j = i + 1
            while j < n and iob[j] == 1:  # I
                j += 1
            yield toks.starts[i], toks.end(j - 1), toks.ent_type[i]
            i = j
        else:
            i += 1


def _ner_candidates(doc: Doc, toks: _Tokens, gaz: Gazetteer) -> list[_Cand]:
    cands: list[_Cand] = []
    for start_char, end_char, raw_label in _iter_ents(toks):
        label = raw_label.upper()
        base = label[:3]
        etype = _NER_TYPE.get(base)
        if etype is None:
            continue
        text = doc_text(doc)[start_char:end_char]
        if label.endswith("DERIV"):
            continue  # adjectives: only those the gazetteer resolves to a state are kept
        if label.endswith("PART"):
            if "-" not in text:
                continue
            head = text.split("-", 1)[0]
            cands.append(_Cand(start_char, start_char + len(head), etype, "part"))
            continue
        if etype == "GPE" and (_LOC_WORDS.search(text) or (
                text.startswith(_COMPASS) and text[:1].isupper() and len(text.split()) == 1
                and not _lookup_name(gaz, (text,)))):
            etype = "LOC"
        cands.append(_Cand(start_char, end_char, etype, "name"))
    return cands


def _merge_candidates(gaz_cands: list[_Cand], ner_cands: list[_Cand]) -> list[_Cand]:
    """Gazetteer wins where both overlap; NER fills the rest. No overlapping mentions.

    Exception: a hyphenated compound the NER tags as a whole name (*EU-Kommission*) is one
    named mention, not a part mention of its first element.
    """
    whole = Containers((c.start, c.end) for c in ner_cands if c.kind == "name")
    gaz_cands = [c for c in gaz_cands
                 if not (c.kind == "part" and whole.holds(c.start, c.end, strict_end=True))]
    taken = Coverage([(c.start, c.end) for c in gaz_cands])
    out = list(gaz_cands)
    for c in ner_cands:
        if taken.overlaps(c.start, c.end):
            continue
        out.append(c)
        taken.add(c.start, c.end)
    out.sort(key=lambda c: c.start)
    return out


class _Persons(dict):
    """Person keys seen so far, plus the first multi-word key each first or last name
    belongs to (a scan over all keys per mention made long texts quadratic)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_part: dict[str, str] = {}

    def add(self, key: str) -> None:
        if key not in self:
            self[key] = key
            parts = key.split()
            if len(parts) > 1:
                self.by_part.setdefault(parts[0], key)
                self.by_part.setdefault(parts[-1], key)


def _person_key(text: str, persons: _Persons) -> str:
    """Merge 'Kim', 'Kims', 'Putin' into a longer name already seen ('Kim Jong-un')."""
    words = text.split()
    if len(words) > 1:
        return " ".join(words)  # a double space in the source is no part of the name
    word = words[0]
    for candidate in (word, _strip_genitive(word)):
        full = persons.by_part.get(candidate)
        if full is not None:
            return full
        if candidate in persons:
            return candidate
    return word


def build_entities(doc: Doc, cands: list[_Cand]) -> list[Entity]:
    text = doc_text(doc)
    # full person names first, so that short forms anywhere in the text merge into them
    persons = _Persons()
    for c in sorted((c for c in cands if c.type == "PER" and c.kind == "name"),
                    key=lambda c: -(c.end - c.start)):
        name = text[c.start : c.end]
        key = _person_key(name, persons)
        persons.add(key)
        c.key = key
    for c in cands:
        if c.kind == "part" and c.key is None:
            key = _person_key(text[c.start : c.end], persons)
            if key in persons:  # 'Kim' in 'Kim-Diktatur' is the person, whatever NER said
                c.type, c.key = "PER", key
    by_key: dict[tuple[str, str], Entity] = {}
    order: list[Entity] = []
    index: dict[int, tuple[int, str]] = {}
    seen_surfaces: set[str] = set()
    for c in cands:
        mtext = text[c.start : c.end]
        if c.key is None:
            surface = " ".join(mtext.split())  # a double space in the source is no part of a name
            base = _strip_genitive(surface)
            c.key = base if base in seen_surfaces else surface
            seen_surfaces.add(surface)
        etype = c.type
        k = (c.key, etype)
        ent = by_key.get(k)
        if ent is None:
            ent = Entity(id=f"e{len(order) + 1}", name=c.key, type=etype,  # type: ignore[arg-type]
                         links=EntityLinks(iso3166=c.iso, geonames=c.geonames))
            by_key[k] = ent
            order.append(ent)
        ent.mentions.append(Mention(start=c.start, end=c.end, text=mtext, kind=c.kind))  # type: ignore[arg-type]
        index[c.start] = (c.end, ent.id)
    doc._.lb_entity_index = index
    return order


def _propagate(doc: Doc, toks: _Tokens, cands: list[_Cand]) -> list[_Cand]:
    """Tag every other occurrence of a name the NER found once in this document.

    NER decides per sentence; a name is a name throughout the article ("laut Lindqvist" ...
    "sagte Lindqvist"). Only capitalised tokens, surnames and full single-token names of
    PER/ORG/MISC entities, so common words are not swept in.
    """
    text = doc_text(doc)
    forms: dict[str, str] = {}
    for c in cands:
        if c.kind != "name" or c.type not in {"PER", "ORG", "MISC"}:
            continue
        words = text[c.start : c.end].split()
        keys = [words[-1]] if c.type == "PER" else ([words[0]] if len(words) == 1 else [])
        for w in keys:
            w = _strip_genitive(w) if c.type == "PER" else w
            if len(w) >= 3 and w[:1].isupper():
                forms.setdefault(w, c.type)
    if not forms:
        return cands
    covered = Coverage([(c.start, c.end) for c in cands])
    extra: list[_Cand] = []
    for i, word in enumerate(toks.texts):
        etype = forms.get(word) or forms.get(_strip_genitive(word))
        if etype is None:
            continue
        start, end = toks.starts[i], toks.end(i)
        if covered.overlaps(start, end):
            continue
        extra.append(_Cand(start, end, etype, "name"))
    return sorted(cands + extra, key=lambda c: c.start) if extra else cands


@Language.component("lagebild_entities")
def entities_component(doc: Doc) -> Doc:
    gaz = gazetteer()
    toks = _Tokens(doc)
    cands = _merge_candidates(_gazetteer_candidates(toks, gaz), _ner_candidates(doc, toks, gaz))
    cands = _propagate(doc, toks, cands)
    doc._.lb_entities = build_entities(doc, cands)
    return doc
