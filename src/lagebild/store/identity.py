"""Cross-article entity identity: one stable corpus id per referent.

The entity layer already merges, *within* an article, name variants, genitives,
demonyms, adjectives and capitals used for their state (Pjöngjang -> Nordkorea, with
the ISO code in `links`). Across articles we only have to decide whether two
per-article entities are the same referent. Keys, in order of trust:

1. `iso:KP` / `geo:1873107` — states and places linked to a code (type GPE/LOC only:
   the Pentagon carries the US code but is not the United States);
2. `<family>:<normalised name>` — the canonical name and every name-like mention of
   the entity ("Vereinte Nationen", "UN"), case- and dash-folded, genitive -s tried;
3. weak person keys `PER~<surname>` — a bare "Putin" joins "Wladimir Putin" only if
   exactly one person with that surname is known; "Wladimir Putin" adopts an earlier
   bare "Putin" the same way. Ambiguous surnames never merge.

Ids are `E` + 12 hex digits of the SHA-1 of the first key: deterministic (two stores
fed the same articles in the same order agree) and never reassigned. Key inserts are
`ON CONFLICT DO NOTHING`, so a re-run or a second writer cannot break the one-entity-
per-key rule (the first writer's mapping wins; run one ingest per store at a time).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..schema import Entity
from .dml import execute_raw, insert_rows
from .schema import entities, entity_keys, entity_names, entity_weak_keys

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_QUOTES = re.compile(r"[\u2018\u2019\u201a\u201b\u00b4`]")
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " .,;:!?\"'()[]{}«»„“”"

FAMILY = {"PER": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "MISC": "MISC"}


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Case-, dash-, quote- and space-folded form used for every name comparison."""
    text = unicodedata.normalize("NFC", text)
    text = _DASHES.sub("-", _QUOTES.sub("'", text))
    return _SPACE.sub(" ", text).strip(_EDGE_PUNCT).casefold()


def name_variants(text: str) -> list[str]:
    """The normalised name plus its genitive-stripped form (Lindqvists -> lindqvists, lindqvist)."""
    n = norm(text)
    out = [n]
    if len(n) > 4 and n.endswith(("s", "'")) and not n.endswith("ss"):
        out.append(n[:-1].rstrip("'"))
    return out


def entity_id_for(key: str) -> str:
    return "E" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def strong_keys(ent: Entity) -> list[str]:
    """Identity keys of a per-article entity, most trusted first."""
    fam = FAMILY.get(ent.type, ent.type)
    keys: list[str] = []
    if ent.type in ("GPE", "LOC"):
        if ent.links.iso3166:
            keys.append(f"iso:{ent.links.iso3166.upper()}")
        if ent.links.geonames:
            keys.append(f"geo:{ent.links.geonames}")
    name = norm(ent.name)
    if not (fam == "PER" and " " not in name):  # a bare surname is only a weak key
        keys.append(f"{fam}:{name}")
    for m in ent.mentions:
        if m.kind != "name":
            continue
        n = norm(m.text)
        # a bare surname is not a strong key for a person ("Kim" is many people)
        if fam == "PER" and " " not in n:
            continue
        keys.append(f"{fam}:{n}")
    return list(dict.fromkeys(keys))


def _surnames(ent: Entity) -> list[str]:
    """Single-token person names this entity answers to (last name part, bare mentions)."""
    if ent.type != "PER":
        return []
    out = [norm(ent.name).split(" ")[-1]]
    out += [norm(m.text) for m in ent.mentions if m.kind == "name" and " " not in norm(m.text)]
    return list(dict.fromkeys(v for n in out for v in name_variants(n)[:1]))


@dataclass
class _Pending:
    keys: dict[str, str] = field(default_factory=dict)
    weak: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, type)


class Resolver:
    """In-memory view of the identity tables, loaded once per store, updated per commit.

    The cache makes resolution a few dict lookups per entity; changes of a document are
    held in `_pending` until its transaction commits (`commit()`), so a rolled-back
    article never leaves ghost ids in the cache.
    """

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.weak: dict[str, set[str]] = {}
        self.names: dict[str, tuple[str, str]] = {}
        self._pending = _Pending()
        self.loaded = False

    def load(self, conn: Connection) -> None:
        self.keys = dict(conn.execute(select(entity_keys.c.key, entity_keys.c.entity_id)).all())
        self.weak = {}
        for key, eid in conn.execute(select(entity_weak_keys.c.key, entity_weak_keys.c.entity_id)):
            self.weak.setdefault(key, set()).add(eid)
        self.names = {eid: (name, typ) for eid, name, typ in
                      conn.execute(select(entities.c.id, entities.c.name, entities.c.type))}
        self.loaded = True

    # -- lookups that see the pending changes of the current document -------------------
    def _key(self, key: str) -> str | None:
        return self._pending.keys.get(key) or self.keys.get(key)

    def _weak(self, key: str) -> set[str]:
        return self.weak.get(key, set()) | self._pending.weak.get(key, set())

    def _name(self, eid: str) -> tuple[str, str] | None:
        return self._pending.names.get(eid) or self.names.get(eid)

    def find(self, ent: Entity) -> str | None:
        keys = strong_keys(ent)
        for key in keys:
            fam, _, rest = key.partition(":")
            for variant in ([key] if fam in ("iso", "geo") else
                            [f"{fam}:{v}" for v in name_variants(rest)]):
                hit = self._key(variant)
                if hit:
                    return hit
        if ent.type != "PER":
            return None
        full = norm(ent.name)
        for sur in _surnames(ent):
            cands = self._weak(f"PER~{sur}")
            if " " not in full:
                # a bare name: join the one person known by that surname; if several are,
                # join the entity that is itself only known by the bare name (if one is)
                if len(cands) == 1:
                    return next(iter(cands))
                bare = [c for c in cands if " " not in norm((self._name(c) or ("", ""))[0])]
                if len(bare) == 1:
                    return bare[0]
            else:
                # a full name: adopt an earlier bare-surname entity, never another full name
                bare = [c for c in cands if " " not in norm((self._name(c) or ("", ""))[0])]
                if len(bare) == 1 and len(cands) == 1:
                    return bare[0]
        return None

    def resolve(self, conn: Connection, ents: Iterable[Entity]) -> dict[str, str]:
        """Local entity id -> corpus id, creating entities and keys as needed (in `conn`)."""
        now = datetime.now(UTC)
        new_entities: list[dict] = []
        key_rows: list[dict] = []
        weak_rows: list[dict] = []
        name_rows: dict[tuple[str, str], dict] = {}
        renames: list[dict] = []
        out: dict[str, str] = {}
        for ent in ents:
            keys = strong_keys(ent)
            eid = self.find(ent)
            if eid is None:
                base = keys[0] if keys else f"{FAMILY.get(ent.type, ent.type)}:{norm(ent.name)}"
                eid, n = entity_id_for(base), 1
                while self._name(eid) is not None:  # same name, different referent
                    n += 1
                    eid = entity_id_for(f"{base}#{n}")
                place = ent.type in ("GPE", "LOC")
                new_entities.append({"id": eid, "name": ent.name, "type": ent.type,
                                     "iso3166": ent.links.iso3166 if place else None,
                                     "geonames": ent.links.geonames, "created_at": now})
                self._pending.names[eid] = (ent.name, ent.type)
            else:
                old = self._name(eid)
                if (old and ent.type == "PER" and " " not in old[0].strip()
                        and " " in ent.name.strip()):
                    # "Putin" becomes "Wladimir Putin" once the full name is seen
                    renames.append({"b_id": eid, "b_name": ent.name})
                    self._pending.names[eid] = (ent.name, old[1])
            out[ent.id] = eid
            for key in keys:
                if self._key(key) is None:
                    self._pending.keys[key] = eid
                    key_rows.append({"key": key, "entity_id": eid})
            for sur in _surnames(ent):
                wk = f"PER~{sur}"
                if eid not in self._weak(wk):
                    self._pending.weak.setdefault(wk, set()).add(eid)
                    weak_rows.append({"key": wk, "entity_id": eid})
            for surface, kind in [(ent.name, "name"), *((m.text, m.kind) for m in ent.mentions)]:
                n = norm(surface)
                if n and (n, eid) not in name_rows:
                    name_rows[(n, eid)] = {"norm": n, "entity_id": eid,
                                           "surface": surface, "kind": kind}
        if new_entities:
            insert_rows(conn, entities, new_entities, ignore_conflicts=True)
        if key_rows:
            insert_rows(conn, entity_keys, key_rows, ignore_conflicts=True)
        if weak_rows:
            insert_rows(conn, entity_weak_keys, weak_rows, ignore_conflicts=True)
        if name_rows:
            insert_rows(conn, entity_names, list(name_rows.values()), ignore_conflicts=True)
        for r in renames:
            execute_raw(conn, "UPDATE entities SET name = ? WHERE id = ?",
                        (r["b_name"], r["b_id"]))
        return out

    def commit(self) -> None:
        """The document's transaction committed: make its identity changes visible."""
        p = self._pending
        self.keys.update(p.keys)
        for k, ids in p.weak.items():
            self.weak.setdefault(k, set()).update(ids)
        self.names.update(p.names)
        self._pending = _Pending()

    def rollback(self) -> None:
        self._pending = _Pending()


def _insert_ignore(conn: Connection, table):
    """INSERT ... ON CONFLICT DO NOTHING for both dialects (concurrent writers, re-runs)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()
