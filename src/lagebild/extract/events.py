"""Layer: events — PLOVER political events with actor, target, modality and source.

Why rules and no parser: no German dependency parser is trained in this project yet, and
news reports political events with a small set of constructions: a trigger verb or noun
from a lexicon (`data/event_triggers.tsv`, lemma -> PLOVER type and mode), its clause, the
named actors in that clause and a few cue words that set the modality
(`data/event_cues.tsv`). The work is done per clause:

1. **Clauses.** A sentence is cut at commas, semicolons, colons, dashes and brackets, and at
   *und/aber/oder/...* between two verb groups. Pieces without a verb (appositions,
   enumerations) are glued to their neighbour. Each clause is classified as main (V2/V1),
   subordinate (*dass, weil, wenn, ...*), relative, *zu*-infinitive or elliptic coordinate.
2. **Items.** The entity mentions of `doc._.lb_entities` (plus the pronouns *er/sie*) are
   grouped into noun phrases by scanning left over articles, adjectives and nouns; the word
   that stops the scan gives the item's role: a preposition ("an", "gegen", "in>acc") or
   free (nominative/accusative/dative, case unknown).
3. **Roles.** Subject = the free item in the prefield of a V2 clause, else the first free item
   after the finite verb (or after the conjunction in verb-final clauses), skipping phrases
   whose determiner marks them dative/accusative/genitive (*dem Iran*, *den USA*, *der
   Ukraine* - the head's gender from `data/noun_gender.tsv`; the morph layer gives no case);
   *zu*-infinitives take their controller from the governing clause; elliptic coordinates
   inherit the subject; passives take the actor from *von/durch X* and demote the subject or
   dative to target, also for a noun after a passive support verb (*Dem Iran wurde mit
   Sanktionen gedroht*: SANCTION, actor null, target Iran). The target is the first item
   after a target preposition (*an, gegen, auf, nach, in die, mit, ...*), else the first
   free object (an oblique prefield phrase included). Noun triggers take the actor from
   their own phrase (*russische Angriffe*, *Angriff Russlands*) or, after a support verb
   (*verhängte Sanktionen*), from the clause subject. Demonyms resolve to the state through
   the entity layer's adjectival mentions.
4. **Agent check.** Natural forces and accidents (`data/event_agents.tsv`: *Sturm,
   Hochwasser, Erdbeben, Unfall*) are no PLOVER actors: a verb event they do or, for
   violence, cause (*beim Erdbeben getötet*) is dropped. An ASSAULT with no political actor
   or target is kept with actor null when its place is named and people did it: an agentless
   passive (*In Charkiw wurden drei Soldaten getötet*) or an armed noun as the doer
   (*Bewaffnete*, *Truppen*, *Drohnen*).
5. **Modality.** Cues in the trigger's own clause win (negation, *will*, *prüft*, *wenn*,
   *kann*, ...); otherwise the cues of the governing clause apply to its complement
   (*drohte, X zu bewaffnen* -> threatened). A fixed priority decides between several.
   *soll ... getötet worden sein* (sollen + perfect infinitive) is hearsay, not a plan.
6. **Source.** An event inside a statement's content (`doc._.lb_statements`) is asserted by
   that statement's speaker; otherwise by the author (null). A threat's content stays with
   the author (modality `threatened` says whose it is), following the gold guidelines.

Everything a parser would give us (clauses, their kind and parent, the subject, the role of
each noun phrase) is computed in `_analyse_sentence` and the helpers it calls, into plain
`_Clause`/`_Item` records; a trained parser can fill those later without touching trigger,
modality or source logic. `time` is a time expression in the trigger's clause (else its
sentence); `place` a GPE/LOC after *in/bei/nahe/vor* in the clause.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import read_tsv
from ..schema import Event
from ..schema import Span as SpanModel

# --------------------------------------------------------------------------- closed classes

_BOUNDARY = frozenset({",", ";", ":", "–", "—", "(", ")", "[", "]", "-", "…"})
_SENT_PUNCT = frozenset({".", "!", "?"})
_DETS = frozenset(
    "der die das des dem den ein eine einer eines einem einen sein seine seiner seines seinem "
    "seinen ihr ihre ihrer ihres ihrem ihren unser unsere unserer unseren unserem dieser diese "
    "dieses diesem diesen jener jene jenes jenem jenen beide beiden mehrere viele vieler vielen "
    "einige einiger einigen zahlreiche zahlreicher zahlreichen alle aller allen sämtliche "
    "welche solche solchen kein keine keinen keinem keiner keines".split()
)
_GEN_DETS = frozenset({"des", "der", "eines", "einer"})
_PREPS = frozenset(
    "an am ans auf aufs aus bei beim bis durch durchs für fürs gegen gegenüber hinter in im ins "
    "mit nach neben ohne seit über überm übers um unter von vom vor vorm zu zum zur zwischen "
    "laut trotz wegen während infolge angesichts seitens gemäß samt statt anstatt außer "
    "innerhalb außerhalb nahe nahe entlang mittels aufgrund dank binnen jenseits zugunsten "
    "bezüglich inmitten unweit".split()
)
_POSTPS = frozenset({"zufolge", "gegenüber"})
_SUBORD = frozenset(
    "dass daß weil wenn falls ob obwohl obgleich nachdem bevor ehe damit sodass indem seit "
    "seitdem sofern solange sobald soweit während als da wie wo weshalb warum wodurch "
    "womit".split()
)
_INF_SUBORD = frozenset({"um", "ohne", "statt", "anstatt"})
_REL = frozenset(
    "der die das dem den deren dessen denen welche welcher welches welchem welchen".split()
)
_CONJ = frozenset({"und", "oder", "aber", "sondern", "doch", "denn", "sowie", "jedoch"})
_PARTICLES = frozenset(
    "an ab auf aus bei ein fest fort frei heim her hin los mit nach nieder vor weg weiter "
    "zu zurück zusammen entgegen gegenüber hinzu heran herein heraus hinaus voran vorbei "
    "dar teil statt um durch über".split()
)
_PARTICLE_ALT = "|".join(sorted(_PARTICLES, key=len, reverse=True))
#: particle + zu/ge + rest: "einzusetzen", "eingesetzt", "angegriffen"
_PARTICLE_ZU_GE = re.compile(rf"^({_PARTICLE_ALT})(zu|ge)(.{{3,}})$")
_INSEPARABLE = ("be", "ver", "er", "zer", "ent", "emp", "miss", "über", "unter", "hinter", "wider")
_WERDEN = frozenset({"wird", "werden", "wurde", "wurden", "worden", "werde", "geworden"})
_SEIN = frozenset({"ist", "sind", "war", "waren", "sei", "seien", "gewesen"})
_AUX = _WERDEN | _SEIN | frozenset(
    "hat hatte haben hatten habe hätte hätten wäre wären würde würden kann konnte können "
    "konnten könne könnte könnten will wollte wollen wollten wolle soll sollte sollen sollten "
    "solle muss musste müssen mussten müsse müsste darf durfte dürfen dürfe dürfte "
    "dürften mag mögen möchte möchten".split()
)
_PLURAL_AUX = frozenset(
    "sind waren seien haben hatten hätten werden wurden würden können konnten könnten wollen "
    "wollten sollen sollten müssen mussten dürfen dürften".split()
)
_NEG = frozenset(
    {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "niemals", "nie",
     "keinerlei", "nichts", "weder"}
)
_NEG_EXCEPT_NEXT = frozenset({"nur", "zuletzt", "ohne", "so", "minder", "selten", "allein", "mehr"})
_PRONOUNS = frozenset({"er", "sie"})
_NP_INNER = frozenset({"ganz", "ganzen", "ganzem", "ganzer", "gesamten", "gesamte"})
_NP_CONJ = frozenset({"und", "oder", "sowie", "bzw."})
#: Subject pronouns we do not resolve; they still fill the subject slot.
_OTHER_PRONOUNS = frozenset({"ich", "du", "wir", "man", "es"})
_ADVERBS = frozenset(
    "bisher bislang nun jetzt bereits schon auch noch nur dringend zudem außerdem inzwischen "
    "zuvor später heute gestern morgen wieder erneut immer sehr mehr weiter weiterhin damals "
    "dann daher deshalb deswegen trotzdem jedoch allerdings also etwa rund fast kaum offenbar "
    "angeblich mutmaßlich wohl gar ebenfalls sogar derzeit zunächst zuletzt schließlich "
    "künftig nunmehr überhaupt vielmehr erstmals teilweise wirklich ebenso hier dort da so "
    "doch ja eben bald sofort gerade knapp mindestens höchstens insgesamt vorerst stets nie "
    "niemals nicht zusammen gemeinsam selbst allein wiederum nämlich zwar lediglich bereits "
    "gegenüber darüber hinaus dabei damit dafür dagegen davon dazu darauf daran darin "
    "freiwillig ungewöhnlich heftig massiv scharf deutlich erneut offiziell".split()
)
_NONVERB_LEMMAS = frozenset(
    "eigen offen modern trocken verschieden golden selten zusammen oben unten morgen gegen "
    "neben wegen seiten zwischen binnen innen außen hinten vorne eben gestern intern extern "
    "gern fern sieben zehn elf zwölf trotzdem außerdem vergangen gelegen entschieden "
    "vorhanden zufrieden verboten besonders ebenso zuvor unter hinter".split()
)
_TARGET_PREPS = frozenset(
    {"an", "ans", "gegen", "auf", "aufs", "nach", "in>acc", "ins", "mit", "gegenüber", "für",
     "über"}
)
_PLACE_PREPS = frozenset({"in", "im", "bei", "beim", "nahe", "unweit", "vor"})
_AGENT_PREPS = frozenset({"von", "vom", "durch", "seitens", "of:von", "of:vom", "of:durch"})
#: Nouns in these phrases are purposes or background of another event, not events of their own
#: ("zur Unterstützung", "während des Gipfeltreffens", "trotz der Sanktionen").
_NOUN_SKIP_ROLES = frozenset({"zur", "zum", "während", "trotz", "laut", "of:während", "of:trotz"})
#: A noun trigger in such a phrase never takes the clause subject as its actor.
_NO_SUBJECT_ROLES = frozenset(
    {"trotz", "wegen", "nach", "seit", "während", "vor", "bei", "beim", "laut", "infolge",
     "angesichts", "aufgrund", "zufolge", "in", "im", "aus", "von", "vom", "ohne", "dank"}
)
#: Determiners that never start a nominative phrase: "dem Iran", "den USA", "des Kremls".
_OBLIQUE_DETS = frozenset(
    "dem den des einem einen eines diesem diesen jenem jenen seinem seinen seines seiner "
    "ihrem ihren ihres ihrer unserem unseren unseres unserer keinem keinen keines".split()
)
#: Nominative only before a masculine singular head ("der Iran"); before a feminine or plural
#: one a dative or genitive ("der Ukraine", "der USA").
_DER_DETS = frozenset({"der", "dieser", "jener"})
#: Violent types whose doer the agent check looks at (natural forces are no PLOVER actors).
_VIOLENT = frozenset({"ASSAULT", "COERCE"})
#: Phrase roles in which a natural force or an accident does or causes what the clause reports:
#: subject/object, passive agent, cause ("beim Erdbeben", "infolge des Sturms"), opponent
#: ("kämpften gegen die Flut"). Not "trotz", "während", "vor", "nach": background only.
_CAUSE_ROLES = frozenset(
    {"", "von", "vom", "durch", "durchs", "bei", "beim", "infolge", "wegen", "aufgrund", "gegen",
     "of:von", "of:vom", "of:durch", "of:bei", "of:beim", "of:infolge", "of:wegen"}
)
_SYMMETRIC = frozenset({"AGREE", "CONSULT", "COOPERATE"})
_PRIORITY = ("denied", "threatened", "conditional", "considered", "planned", "hypothetical")
_POLITICAL = ("PER", "ORG", "GPE")

# --------------------------------------------------------------------------- lexicons


@dataclass(frozen=True, slots=True)
class _Trig:
    type: str
    mode: str | None
    pos: str
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Cue:
    modality: str | None  # None = support verb
    negated: str | None
    role: str


@dataclass(frozen=True)
class _Lexicon:
    verbs: dict[str, _Trig]
    nouns: dict[str, _Trig]
    heads: dict[str, _Trig]  # lower-case compound heads
    head_sizes: tuple[int, ...]  # their lengths, longest first
    cue_verbs: dict[str, _Cue]
    cue_nouns: dict[str, _Cue]
    cue_words: dict[str, _Cue]
    cue_phrases: tuple[tuple[tuple[str, ...], _Cue], ...]
    cue_subord: dict[str, _Cue]
    agents: dict[str, tuple[str, str]]  # noun -> (class, unless_next), `data/event_agents.tsv`
    agent_heads: dict[str, tuple[str, str]]  # lower-case compound heads of the same
    agent_head_sizes: tuple[int, ...]
    gender_words: dict[str, str]  # `data/noun_gender.tsv`
    gender_suffixes: tuple[tuple[str, str, bool], ...]  # (suffix, gender, names only), longest first


@cache
def lexicon() -> _Lexicon:
    """Read the trigger and cue lexicons once per process."""
    verbs: dict[str, _Trig] = {}
    nouns: dict[str, _Trig] = {}
    heads: dict[str, _Trig] = {}
    for row in read_tsv("event_triggers.tsv"):
        flags = frozenset(x for x in (row.get("flags") or "").split(",") if x)
        trig = _Trig(row["type"], row.get("mode") or None, row["pos"], flags)
        if row["pos"] == "V":
            verbs[row["lemma"]] = trig
        else:
            nouns[row["lemma"]] = trig
            if "head" in flags:
                heads[row["lemma"].lower()] = trig
    cv: dict[str, _Cue] = {}
    cn: dict[str, _Cue] = {}
    cw: dict[str, _Cue] = {}
    cs: dict[str, _Cue] = {}
    cp: list[tuple[tuple[str, ...], _Cue]] = []
    for row in read_tsv("event_cues.tsv"):
        mod = row["modality"]
        cue = _Cue(None if mod == "-" else mod, row.get("negated") or None,
                   row.get("role") or "subj")
        table = {"V": cv, "N": cn, "W": cw, "S": cs}.get(row["pos"])
        if table is not None:
            table[row["cue"]] = cue
        elif row["pos"] == "P":
            cp.append((tuple(row["cue"].split()), cue))
    sizes = tuple(sorted({len(h) for h in heads}, reverse=True))
    agents: dict[str, tuple[str, str]] = {}
    agent_heads: dict[str, tuple[str, str]] = {}
    for row in read_tsv("event_agents.tsv"):
        entry = (row["class"], (row.get("unless_next") or "").strip())
        agents[row["noun"]] = entry
        if row["match"] == "head":
            agent_heads[row["noun"].lower()] = entry
    gender_words: dict[str, str] = {}
    suffixes: list[tuple[str, str, bool]] = []
    for row in read_tsv("noun_gender.tsv"):
        if row["kind"] == "word":
            gender_words[row["form"]] = row["gender"]
        else:
            suffixes.append((row["form"], row["gender"], row["kind"] == "name_suffix"))
    suffixes.sort(key=lambda x: -len(x[0]))
    return _Lexicon(verbs, nouns, heads, sizes, cv, cn, cw, tuple(cp), cs, agents, agent_heads,
                    tuple(sorted({len(h) for h in agent_heads}, reverse=True)), gender_words,
                    tuple(suffixes))


# --------------------------------------------------------------------------- token facts


_NOUN_ENDINGS = ("en", "e", "n", "s", "es")


@lru_cache(maxsize=1 << 16)
def _compound_head(lem: str, low: str) -> _Trig | None:
    """Trigger of a compound by its head: Raketenangriff(e), Waffenlieferungen, EU-Sanktionen.

    Cached per word form: news vocabulary repeats, and this runs for every long noun.
    """
    lex = lexicon()
    forms = [lem] if lem == low else [lem, low]
    forms += [low[: -len(e)] for e in _NOUN_ENDINGS if low.endswith(e)]
    for form in forms:
        for size in lex.head_sizes:  # longest head first
            if len(form) - size >= 3:
                trig = lex.heads.get(form[-size:])
                if trig is not None:
                    return trig
    return None


@lru_cache(maxsize=1 << 16)
def _verb_info(lw: str, lem: str) -> tuple[_Trig | None, _Cue | None, str, bool, bool] | None:
    """(trigger, cue, lemma key, participle, zu-infix) of a lower-case word; None: no verb.

    Context-free, so cached per form; the caller adds what depends on neighbours.
    """
    lex = lexicon()
    trig = cue = None
    key = ""
    for k in _verb_keys(lw, lem):
        trig = lex.verbs.get(k)
        cue = lex.cue_verbs.get(k)
        if trig is not None or cue is not None:
            key = k
            break
    if not key:
        if not lem.endswith(("en", "ern", "eln")) or lem in _NONVERB_LEMMAS or lw.endswith(
                ("end", "ende", "enden", "ender", "endes", "lich", "ig", "isch")):
            return None
        key = lem
    pm = _PARTICLE_ZU_GE.match(lw)
    part = (lw.startswith("ge") and lw.endswith(("t", "en")) and len(lw) > 5) or (
        pm is not None and pm.group(2) == "ge"
    ) or lw.endswith("iert") or (
        lw != lem and lw in (lem[:-2] + "t", lem[:-2] + "et") and lem.startswith(_INSEPARABLE)
    )
    zu = pm is not None and pm.group(2) == "zu" and key.startswith(pm.group(1))
    return trig, cue, key, part, zu


def _verb_keys(low: str, lemma: str) -> tuple[str, ...]:
    """Lemma candidates for a lower-case verb form simplemma may have missed.

    Covers -iert participles (*mobilisiert*), particle participles and zu-infinitives
    (*einmarschiert*, *einzusetzen*) - the forms news uses most for political verbs.
    """
    keys = [lemma, low]
    if "iert" in low:
        for form in (low, lemma):
            for suffix in ("ierten", "iertes", "ierter", "ierte", "iert"):
                if form.endswith(suffix):
                    keys.append(form[: -len(suffix)] + "ieren")
                    break
    m = _PARTICLE_ZU_GE.match(low)
    if m is not None:
        p, zu_ge, stem = m.groups()
        keys.append(p + stem)
        if zu_ge == "ge":
            if stem.endswith("iert"):
                keys.append(p + stem[:-4] + "ieren")
            elif stem.endswith("t"):
                keys.append(p + stem[:-1] + "en")
    return tuple(keys)


@dataclass
class _Facts:
    """Per-token facts computed once per doc (plain lists: cheap to index)."""

    text: list[str]
    idx: list[int]
    sent_start: list[bool]
    low: list[str]
    lemma: list[str]
    verbish: list[bool]
    finite_like: list[bool]
    participle: list[bool]
    vtrig: list[_Trig | None]
    ntrig: list[_Trig | None]
    vcue: list[_Cue | None]
    vkey: list[str]
    zu_infix: list[bool]  # "einzusetzen"
    verb_pos: list[int]  # verbish tokens, ascending
    static_cues: list[tuple[int, _Cue]]  # noun, word and phrase cues, ascending
    neg_pos: list[int]  # negation words, ascending
    #: first token of a GPE/ORG/LOC name -> its last token ("Europäische Union" -> "Union")
    names: dict[int, int] = field(default_factory=dict)


def _token_facts(doc: Doc, lex: _Lexicon) -> _Facts:
    n = len(doc)
    texts: list[str] = []
    idx: list[int] = []
    # Token.is_sent_start re-checks the annotation over the whole doc on every call
    sent_start = [v == 1 for v in doc.to_array("SENT_START").tolist()] if n else []
    low: list[str] = []
    lemma: list[str] = []
    for t in doc:  # one pass over the Token objects: creating them is the expensive part
        texts.append(t.text)
        idx.append(t.idx)
        low.append(t.lower_)
        lemma.append(t.lemma_ or t.text)
    verbish = [False] * n
    finite_like = [False] * n
    participle = [False] * n
    vtrig: list[_Trig | None] = [None] * n
    ntrig: list[_Trig | None] = [None] * n
    vcue: list[_Cue | None] = [None] * n
    vkey = [""] * n
    zu_infix = [False] * n
    closed = _DETS | _PREPS | _CONJ | _SUBORD | _ADVERBS | _NEG | _PRONOUNS | _OTHER_PRONOUNS
    for i in range(n):
        text = texts[i]
        lw = low[i]
        if not text[:1].isalpha():
            continue
        if text[0].isupper():
            if lw in _AUX and (sent_start[i] or texts[i - 1] in _BOUNDARY):
                verbish[i] = finite_like[i] = True
                vkey[i] = lemma[i]
                vcue[i] = lex.cue_verbs.get(lemma[i])
                continue
            trig = lex.nouns.get(lemma[i]) or lex.nouns.get(text)
            if trig is None and len(lw) > 6:
                trig = _compound_head(lemma[i].lower(), lw)
            ntrig[i] = trig
            continue
        if lw in _AUX:
            verbish[i] = finite_like[i] = True
            vkey[i] = lemma[i]
            word_cue = lex.cue_words.get(lw)
            # a W row with modality '-' cancels the lemma's cue: "konnte" is a realised ability
            vcue[i] = None if word_cue is not None and word_cue.modality is None \
                else lex.cue_verbs.get(lemma[i])
            continue
        if lw in closed:
            continue
        info = _verb_info(lw, lemma[i].lower())
        if info is None:
            continue
        if info[0] is None and info[1] is None and 0 < i < n - 1 and texts[i + 1][:1].isupper() \
                and texts[i + 1].isalpha() and (low[i - 1] in _DETS or (
                    low[i - 1] in _PREPS and low[i - 1] != "zu")):
            continue  # "im maltesischen Valletta": an unknown adjective, not a verb
        vtrig[i], vcue[i], vkey[i], part, zu_ge = info
        verbish[i] = True
        participle[i] = part
        zu_infix[i] = zu_ge
        finite_like[i] = not part and not zu_ge and not (i > 0 and low[i - 1] == "zu")
    static: list[tuple[int, _Cue]] = []
    neg_pos: list[int] = []
    first_words = {ph[0] for ph, _cue in lex.cue_phrases}
    for i in range(n):
        lw = low[i]
        cue = lex.cue_nouns.get(lemma[i]) if texts[i][:1].isupper() else None
        if cue is None:
            cue = lex.cue_words.get(lw)
        if cue is not None and cue.modality is not None:
            static.append((i, cue))
        if lw in _NEG:
            neg_pos.append(i)
        if lw in first_words:
            for phrase, pcue in lex.cue_phrases:
                if tuple(low[i:i + len(phrase)]) == phrase:
                    static.append((i, pcue))
    static.sort(key=lambda x: x[0])
    verb_pos = [i for i in range(n) if verbish[i]]
    return _Facts(texts, idx, sent_start, low, lemma, verbish, finite_like, participle, vtrig,
                  ntrig, vcue, vkey, zu_infix, verb_pos, static, neg_pos)


# --------------------------------------------------------------------------- clause analysis


@dataclass
class _Item:
    """A noun phrase holding an entity mention (or a pronoun) inside a clause."""

    start: int  # token index of the phrase start
    head: int  # token index of the chosen mention
    end: int  # token index after the last mention token
    role: str  # '' = free; else the governing preposition ('in>acc' for directional 'in')
    ent: str | None
    etype: str | None
    pron: str | None = None


@dataclass
class _Clause:
    start: int
    end: int
    kind: str = "main"  # main | sub | rel | inf | coord
    word: str = ""  # the subordinator
    finite: int = -1
    items: list[_Item] = field(default_factory=list)
    subject: _Item | None = None
    antecedent: _Item | None = None
    parent: int = -1
    cues: list[tuple[int, _Cue]] = field(default_factory=list)
    negated: bool = False
    future: bool = False  # werden + infinitive, no participle: "wird ... verhängen"


@dataclass
class _Mention:
    start: int  # token
    end: int  # token (exclusive)
    ent: str
    etype: str
    kind: str
    text: str


def _doc_mentions(doc: Doc) -> list[_Mention]:
    out: list[_Mention] = []
    for ent in doc._.lb_entities or []:
        for m in ent.mentions:
            span = doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            out.append(_Mention(span.start, span.end, ent.id, ent.type, m.kind, m.text))
    out.sort(key=lambda m: (m.start, -m.end))
    return out


def _is_adj(low: str, text: str) -> bool:
    return (text[:1].islower() and low not in _ADVERBS and low not in _PREPS and len(low) > 3
            and low not in _CONJ and low not in _NP_CONJ  # "oder", "aber" end like adjectives
            and low.endswith(("e", "en", "er", "es", "em")))


def _segments(doc: Doc, s_start: int, s_end: int, f: _Facts) -> list[list[int]]:
    """Cut a sentence into clause segments [start, end) (boundary tokens left out)."""
    segs: list[list[int]] = []
    a = s_start
    for i in range(s_start, s_end + 1):
        if i == s_end or f.text[i] in _BOUNDARY or f.text[i] in _SENT_PUNCT:
            if i > a:
                segs.append([a, i])
            a = i + 1
    out: list[list[int]] = []
    for a, b in segs:
        start = a
        for k in range(a + 1, b - 1):
            if f.low[k] in _CONJ and _coordinates_clauses(f, start, k, b):
                out.append([start, k])
                start = k
        out.append([start, b])
    return out


def _coordinates_clauses(f: _Facts, start: int, k: int, end: int) -> bool:
    """Does the conjunction at k join two clauses (not two noun phrases)?

    Yes when a finite verb follows it directly ("hat Geld und braucht Soldaten"), or when
    the left part is a closed clause (its auxiliary's participle/infinitive already came)
    and the right part has a finite verb in second position ("und Putin will ...").
    "haben X nach Rumänien und Litauen entsandt" stays one clause: the bracket is open.
    """
    if f.verbish[k + 1] and f.finite_like[k + 1]:
        return any(f.finite_like[j] for j in range(start, k))
    fin = [j for j in range(start, k) if f.finite_like[j]]
    if not fin:
        return False
    if f.low[fin[-1]] in _AUX and not any(
            f.verbish[j] and not f.finite_like[j] for j in range(fin[-1] + 1, k)):
        return False
    right = next((j for j in range(k + 1, end) if f.verbish[j]), -1)
    return right != -1 and right - k <= 6 and f.finite_like[right]


_SOFT = frozenset({",", "(", ")"})


def _merge_verbless(segs: list[list[int]], f: _Facts) -> list[list[int]]:
    """Glue verbless pieces (appositions, enumerations) to the clause they belong to.

    Only across commas and brackets: a semicolon, colon or dash ends a clause even when our
    verb guess missed its verb.
    """
    has_verb = [any(f.verbish[j] for j in range(a, b)) for a, b in segs]
    soft = [all(f.text[k] in _SOFT for k in range(segs[i][1], segs[i + 1][0]))
            for i in range(len(segs) - 1)] + [False]
    out: list[list[int]] = []
    pending: list[int] | None = None
    for idx, (a, b) in enumerate(segs):
        first = f.low[a]
        if pending is not None:
            a = pending[0]
            pending = None
        if has_verb[idx] or first in _SUBORD:
            out.append([a, b])
            continue
        nxt = segs[idx + 1] if idx + 1 < len(segs) else None
        if nxt is not None and soft[idx] and f.low[nxt[0]] not in _SUBORD | _REL | _CONJ:
            pending = [a, b]
        elif out and idx > 0 and soft[idx - 1]:
            out[-1][1] = b
        else:
            out.append([a, b])
    if pending is not None:
        out.append(pending)
    return out


def _np_start(doc: Doc, f: _Facts, i: int, lo: int, mention_tok: set[int]) -> tuple[int, str]:
    """Scan left from token i over the noun phrase; return (phrase start, role).

    A mention that is a genitive attribute inside a prepositional phrase ("nach Angaben des
    Pentagons", "zur Unterstützung Russlands") gets the role "of:<prep>": it is neither the
    object of the preposition nor free.
    """
    k = i - 1
    start = i
    gen = (k >= lo and f.text[i].endswith("s") and f.text[k][:1].isupper() and k not in mention_tok
           and f.text[k].isalpha() and not f.verbish[k] and f.low[k] not in _PREPS)
    while k >= lo:
        text = f.text[k]
        lw = f.low[k]
        if text.isspace():
            k -= 1  # "vor einem  Flächenbrand": a doubled space is its own token
            continue
        if lw in _PREPS:
            role = lw
            if lw == "in" and f.low[start] in {"die", "den", "das"}:
                role = "in>acc"
            return start, ("of:" + role) if gen else role
        if lw in _DETS:
            start = k
            # "die Regierung der Ukraine": a genitive attaches to the noun before it
            if lw in _GEN_DETS and k - 1 >= lo and f.text[k - 1][:1].isupper() \
                    and (k - 1) not in mention_tok and f.low[k - 1] not in _DETS \
                    and f.low[k - 1] not in _PREPS:
                gen = True
                k -= 1
                continue
            k -= 1
            if k >= lo and f.low[k] in _PREPS:
                continue
            return start, ""
        if lw in _NP_INNER:
            k -= 1
            continue
        if lw in _PRONOUNS or lw in _OTHER_PRONOUNS:
            break
        if text[:1].isupper() and start < i and f.low[start] not in _DETS \
                and _is_adj(f.low[start], f.text[start]) and not text.endswith("s") \
                and not _in_agent_attribute(f, k, lo, f.low[start]):
            break  # "gegen Russland neue Sanktionen": only a genitive (-s) precedes adjectives
        if text == "(" and k + 1 == start:
            k -= 1  # "der Terrororganisation (PKK)": the bracketed name is an apposition
            continue
        if k in mention_tok or (text[:1].isupper() and text.isalpha() and not f.verbish[k]
                                and not f.sent_start[k]) or (_is_adj(lw, text) and not f.verbish[k]) \
                or text[:1].isdigit():
            start = k
            k -= 1
            continue
        break
    return start, ""


def _in_agent_attribute(f: _Facts, k: int, lo: int, adj: str) -> bool:
    """Is the noun at k the agent of the attributive participle `adj` ("eine von Riad
    geführte Allianz", "das durch die EU finanzierte Projekt")? Then it stays inside the
    phrase; before a plain adjective it does not ("von der EU neue Sanktionen")."""
    stem = adj
    for ending in ("en", "er", "es", "em", "e"):
        if adj.endswith(ending):
            stem = adj[: -len(ending)]
            break
    pm = _PARTICLE_ZU_GE.match(stem)
    if not (stem.endswith("iert") or (stem.endswith(("t", "en")) and (
            stem.startswith(("ge", *_INSEPARABLE)) or (pm is not None and pm.group(2) == "ge")))):
        return False
    j = k - 1
    if j >= lo and f.low[j] in _DETS:
        j -= 1
    return j >= lo and f.low[j] in ("von", "vom", "durch")


def _pick(ms: list[_Mention]) -> _Mention:
    names = [m for m in ms if m.kind in ("name", "metonym")]
    if names:
        pers = [m for m in names if m.etype == "PER"]
        return (pers or names)[-1]
    return ms[0]


def _items(doc: Doc, f: _Facts, c: _Clause, mentions: list[_Mention], mstarts: list[int],
           mention_tok: set[int]) -> list[_Item]:
    lo = bisect.bisect_left(mstarts, c.start)
    groups: dict[int, tuple[str, list[_Mention]]] = {}
    order: list[int] = []
    for m in mentions[lo:]:
        if m.start >= c.end:
            break
        if m.etype == "MISC":
            continue
        start, role = _np_start(doc, f, m.start, c.start, mention_tok)
        if m.end < c.end and f.low[m.end] in _POSTPS and not role:
            role = f.low[m.end]
        if start not in groups:
            groups[start] = (role, [])
            order.append(start)
        groups[start][1].append(m)
    items: list[_Item] = []
    for start in order:
        role, ms = groups[start]
        m = _pick(ms)
        end = max(x.end for x in ms)
        if m.kind == "part" and role and not role.startswith("of:"):
            role = "of:" + role  # "nach Pentagon-Angaben": the name only modifies the head
        if not role and items and start > c.start and f.low[start - 1] in _NP_CONJ \
                and items[-1].end == start - 1:
            role = items[-1].role  # "nach Rumänien und Litauen": both in the phrase
        items.append(_Item(start, m.start, end, role, m.ent, m.etype))
    for k in range(c.start, c.end):
        lw = f.low[k]
        if (lw in _PRONOUNS or lw in _OTHER_PRONOUNS) and k not in mention_tok:
            pron = lw
            if f.text[k] == "Sie" and not f.sent_start[k]:
                pron = "Sie"  # polite address, not a third person
            role = f.low[k - 1] if k > c.start and f.low[k - 1] in _PREPS else ""
            items.append(_Item(k, k, k + 1, role, None, None, pron=pron))
    items.sort(key=lambda it: it.start)
    return items


def _is_zu_inf(f: _Facts, j: int) -> bool:
    return f.zu_infix[j] or (j > 0 and f.low[j - 1] == "zu")


def _ends_in_zu_inf(f: _Facts, a: int, b: int) -> bool:
    """A zu-infinitive clause: its verbs end in a zu-infinitive, none of them finite before."""
    verbs = f.verb_pos[bisect.bisect_left(f.verb_pos, a):bisect.bisect_left(f.verb_pos, b)]
    if not verbs:
        return False
    zu = [j for j in verbs if _is_zu_inf(f, j)]
    return bool(zu) and not any(f.finite_like[j] for j in verbs if j < zu[0])


def _classify(doc: Doc, f: _Facts, c: _Clause, prev_boundary: str) -> None:
    a = c.start
    first = f.low[a]
    if first in _CONJ and a + 1 < c.end:
        nxt = a + 1
        if f.verbish[nxt]:
            c.kind = "coord"
            c.finite = nxt
            return
        a = nxt
        first = f.low[a]
    if first in _SUBORD:
        c.kind, c.word = "sub", first
    elif first in _INF_SUBORD:
        c.kind, c.word = "inf", first
    elif prev_boundary == "," and _ends_in_zu_inf(f, a, c.end):
        c.kind = "inf"
    elif prev_boundary == "," and (first in _REL or (
            first in _PREPS and a + 1 < c.end and f.low[a + 1] in _REL)):
        # ", die Truppen seien abgezogen" is reported speech (V2), not a relative clause
        nxt = a + 1
        v2 = (nxt + 1 < c.end and f.text[nxt][:1].isupper() and f.finite_like[nxt + 1])
        if not v2:
            c.kind, c.word = "rel", first
    verbs = [j for j in range(a, c.end) if f.verbish[j]]
    if c.kind == "main" and _ends_in_zu_inf(f, a, c.end):
        c.kind = "inf"
    if c.kind == "main":
        c.finite = next((j for j in verbs if f.finite_like[j]), verbs[0] if verbs else -1)
    elif verbs:
        fin = [j for j in verbs if f.finite_like[j]]
        c.finite = fin[-1] if fin else verbs[-1]


def _gender(lex: _Lexicon, word: str, name: bool) -> str | None:
    """Gender of a noun-phrase head from `data/noun_gender.tsv` (None: not known).

    Suffixes of kind `name_suffix` (-e: Ukraine, Slowakei) hold for place and organisation
    names only: common nouns in -e are as often masculine nominalised adjectives
    ("der Gesandte", "der Abgeordnete").
    """
    g = lex.gender_words.get(word)
    if g is not None:
        return g
    part = word.rsplit("-", 1)[-1]  # "EU-Kommission", "US-Regierung": the last part decides
    g = lex.gender_words.get(part)
    if g is not None or not part or part.isupper():
        return g
    low = part.lower()
    for suffix, g, name_only in lex.gender_suffixes:
        if low.endswith(suffix) and (name or not name_only):
            return g
    return None


def _oblique(f: _Facts, lex: _Lexicon, start: int) -> bool:
    """Is the noun phrase starting at token `start` dative, accusative or genitive?

    Such a phrase is never the subject: "Dem Iran wurde gedroht", "Der Ukraine drohte
    Russland ..." name the target. The morph layer gives no case, so it is read off the
    determiner: "dem/den/des ..." are oblique; "der" is oblique before a weak adjective in -en
    ("der ukrainischen Regierung") and before a feminine or plural head ("der Ukraine",
    "der USA"), nominative before a masculine one ("der Iran"). Phrases without a determiner
    stay subject candidates ("Iran wurde ... gedroht").
    """
    det = f.low[start]
    if det in _OBLIQUE_DETS:
        return True
    if det not in _DER_DETS:
        return False
    k = start + 1
    while k < len(f.text) and _is_adj(f.low[k], f.text[k]):
        if f.low[k].endswith("en"):
            return True
        k += 1
    if k >= len(f.text) or not f.text[k][:1].isupper():
        return False
    last = f.names.get(k)  # a name's gender is its last word's: "der Oberste Gerichtshof"
    return _gender(lex, f.text[last if last is not None else k], last is not None) in ("f", "pl")


def _item_oblique(f: _Facts, lex: _Lexicon, c: _Clause, it: _Item) -> bool:
    """`_oblique` for an item; a relative pronoun that opens its phrase is no article
    ("der Plan, dem Mitterlehner zustimmte": Mitterlehner is the subject)."""
    start = it.start
    if c.kind == "rel" and start == c.start and f.low[start] in _REL and start + 1 < it.end:
        start += 1
    return _oblique(f, lex, start)


def _np_prefield(f: _Facts, a: int, finite: int) -> bool:
    """The prefield before the finite verb is a plain noun phrase ("Die Opposition warf ...").

    Then that phrase is the subject even when it names no entity, and the entities after the
    verb are objects, not the subject.
    """
    if finite <= a:
        return False
    first, text = f.low[a], f.text[a]
    if first in _DETS or first in {"dies", "tausende", "hunderte", "zehntausende"}:
        return True
    return (text[:1].isupper() and text.isalpha() and first not in _PREPS
            and first not in _ADVERBS and first not in _SUBORD and first not in _CONJ
            and first not in _NEG)


def _find_subject(f: _Facts, c: _Clause, lex: _Lexicon) -> _Item | None:
    """The subject: a free phrase that can be nominative (see `_oblique`)."""
    free = [it for it in c.items if not it.role and not _item_oblique(f, lex, c, it)]
    if c.kind == "main" and c.finite >= 0:
        pre = [it for it in free if it.end <= c.finite]
        if pre:
            names = [it for it in pre if it.ent and it.etype == "PER"]
            return names[0] if names else pre[0]
        a = c.start + 1 if f.low[c.start] in _CONJ else c.start
        if _np_prefield(f, a, c.finite) and not _oblique(f, lex, a):
            return None
        post = [it for it in free if it.start > c.finite]
        return post[0] if post else None
    return free[0] if free else None


@dataclass
class _Resolver:
    """Cheap pronoun resolution: the latest compatible subject, else the latest mention."""

    subjects: list[tuple[int, str, str]] = field(default_factory=list)  # (token, ent, type)
    mentions: list[_Mention] = field(default_factory=list)

    def resolve(self, tok: int, pron: str, plural: bool) -> tuple[str, str] | None:
        if pron not in _PRONOUNS:
            return None
        if pron == "er":
            wanted = {"PER"}
        elif plural:
            wanted = {"GPE", "ORG"}
        else:
            wanted = {"GPE", "ORG", "PER"}
        for t, ent, et in reversed(self.subjects):
            if t < tok and et in wanted:
                return ent, et
        for m in reversed(self.mentions):
            if m.start < tok and m.etype in wanted:
                return m.ent, m.etype
        return None


def _perfect_infinitive(f: _Facts, c: _Clause) -> bool:
    """Does the clause end its verb group in a perfect infinitive ("getötet worden sein",
    "geschickt haben")? After "soll(en)" that is hearsay about a past event, not a plan."""
    return any(f.low[k] in ("haben", "sein") and (f.participle[k - 1] or f.low[k - 1] in (
        "worden", "gewesen")) for k in range(c.start + 1, c.end))


def _clause_cues(doc: Doc, f: _Facts, c: _Clause, lex: _Lexicon) -> None:
    hearsay = None
    for k in f.verb_pos[bisect.bisect_left(f.verb_pos, c.start):]:
        if k >= c.end:
            break
        if f.vcue[k] is not None and not _attributive(f, k):
            if f.vkey[k] == "sollen":
                if hearsay is None:
                    hearsay = _perfect_infinitive(f, c)
                if hearsay:
                    continue  # "sollen ... getötet worden sein": reported, not planned
            c.cues.append((k, f.vcue[k]))  # type: ignore[arg-type]
    for k, cue in f.static_cues[bisect.bisect_left(f.static_cues, (c.start,)):]:
        if k >= c.end:
            break
        c.cues.append((k, cue))
    for k in f.neg_pos[bisect.bisect_left(f.neg_pos, c.start):]:
        if k >= c.end:
            break
        if not (k + 1 < c.end and f.low[k + 1] in _NEG_EXCEPT_NEXT):
            c.negated = True
    if c.kind == "sub" and c.word in lex.cue_subord:
        prev = f.low[c.start - 1] if c.start > 0 else ""
        if prev not in {"auch", "selbst"} or c.word != "wenn":
            c.cues.append((c.start, lex.cue_subord[c.word]))
    if any(f.low[k] in ("wird", "werden", "werde") for k in f.verb_pos[
            bisect.bisect_left(f.verb_pos, c.start):bisect.bisect_left(f.verb_pos, c.end)]) and not any(
            f.participle[k] for k in range(c.start, c.end)):
        c.future = any(f.verbish[k] and f.low[k] == f.lemma[k].lower() and f.low[k] not in _AUX
                       for k in range(c.start, c.end))
    if f.low[c.start] in {"sollte", "sollten"} and "wenn" in lex.cue_subord:
        c.cues.append((c.start, lex.cue_subord["wenn"]))  # V1 conditional: "Sollte X ..."


#: Speech-act nouns: rejecting them ("wies die Vorwürfe zurück") does not deny that they were made.
_SPEECH_ACTS = frozenset({"ACCUSE", "REQUEST", "THREATEN", "AGREE"})


def _own_modality(f: _Facts, c: _Clause, trig_tok: int, trig: _Trig) -> str | None:
    """Modality from the cues of the trigger's own clause (None: no cue there)."""
    mods: set[str] = set()
    consumed = False
    speech_noun = trig.pos == "N" and trig.type in _SPEECH_ACTS
    for k, cue in c.cues:
        if k == trig_tok or cue.modality is None:
            continue
        if k > trig_tok and f.text[k][:1].isupper() and not f.verbish[k]:
            continue  # a noun cue governs what follows it: "begrüßte den Verzicht auf X"
        if speech_noun and cue.modality == "denied" and f.vtrig[k] is not None \
                and f.vtrig[k].type == "REJECT":  # type: ignore[union-attr]
            continue
        if c.negated and cue.negated:
            mods.add(cue.negated)
            consumed = True
        elif c.negated and cue.modality != "conditional":
            mods.add("denied")
        else:
            mods.add(cue.modality)
    if c.negated and not consumed:
        mods.add("denied")
    if c.future:
        mods.add("planned")
    for m in _PRIORITY:
        if m in mods:
            return m
    return None


def _complement_modality(clauses: list[_Clause], idx: int, depth: int = 0) -> str | None:
    if idx < 0 or depth > 3:
        return None
    c = clauses[idx]
    mods = set()
    for _k, cue in c.cues:
        if cue.modality is None or cue.modality == "conditional":
            continue
        mods.add((cue.negated or "denied") if c.negated else cue.modality)
    for m in _PRIORITY:
        if m in mods:
            return m
    return _complement_modality(clauses, c.parent, depth + 1)


# --------------------------------------------------------------------------- events


@dataclass
class _Found:
    tok: int
    trig: _Trig
    clause: int
    actor: str | None = None
    target: str | None = None
    place: str | None = None
    modality: str = "actual"
    is_noun: bool = False
    #: an ASSAULT whose doer is unnamed but human (agentless passive, armed group): its named
    #: place anchors it when no political actor or target does
    place_anchored: bool = False


def _analyse_sentence(doc: Doc, f: _Facts, s_start: int, s_end: int, lex: _Lexicon,
                      mentions: list[_Mention], mstarts: list[int], mention_tok: set[int],
                      etypes: dict[str, str], resolver: _Resolver) -> tuple[list[_Clause], list[_Found]]:
    segs = _merge_verbless(_segments(doc, s_start, s_end, f), f)
    clauses: list[_Clause] = []
    for a, b in segs:
        c = _Clause(a, b)
        prev = f.text[a - 1] if a > s_start else ""
        _classify(doc, f, c, prev)
        c.items = _items(doc, f, c, mentions, mstarts, mention_tok)
        _join_particle(f, c, lex)
        _clause_cues(doc, f, c, lex)
        clauses.append(c)
    # parents and subjects, left to right
    for idx, c in enumerate(clauses):
        if c.kind in ("inf",) or (c.kind == "sub" and c.word in {"dass", "daß", "ob"}):
            for j in range(idx - 1, -1, -1):
                if clauses[j].kind not in ("rel",) and not (
                        clauses[j].kind == "sub" and clauses[j].word in lex.cue_subord):
                    c.parent = j
                    break
        if c.kind == "rel":
            before = [it for cl in clauses[:idx] for it in cl.items if it.ent]
            c.antecedent = before[-1] if before else None
        if c.kind == "inf":
            par = clauses[c.parent] if c.parent >= 0 else None
            if par is not None:
                roles = [f.vcue[k].role for k in range(par.start, par.end)  # type: ignore[union-attr]
                         if f.vcue[k] is not None]
                role = roles[-1] if roles else "subj"
                if role in ("subj", "recv"):
                    c.subject = par.subject
                elif role == "obj":
                    objs = [it for it in par.items if it is not par.subject and it.ent
                            and it.role in ("", "an")]
                    c.subject = objs[0] if objs else None
        elif c.kind == "coord":
            c.subject = clauses[idx - 1].subject if idx > 0 else None
        else:
            c.subject = _find_subject(f, c, lex)
            if c.subject is None and c.kind == "rel":
                c.subject = c.antecedent
        subj = c.subject
        if subj is not None and subj.pron:
            fin = f.low[c.finite] if c.finite >= 0 else ""
            plural = fin in _PLURAL_AUX or (fin.endswith("en") and fin not in _AUX)
            hit = resolver.resolve(subj.start, subj.pron, plural)
            if hit is None:
                c.subject = None
            else:
                c.subject = _Item(subj.start, subj.head, subj.end, subj.role, hit[0], hit[1], subj.pron)
        if c.subject is not None and c.subject.ent and c.subject.etype:
            resolver.subjects.append((c.subject.start, c.subject.ent, c.subject.etype))
    found: list[_Found] = []
    for ci in range(len(clauses)):
        found.extend(_clause_events(doc, f, clauses, ci, lex, etypes, resolver))
    return clauses, found


def _item_ent(it: _Item | None, resolver: _Resolver, f: _Facts, c: _Clause) -> str | None:
    if it is None:
        return None
    if it.pron and not it.ent:
        fin = f.low[c.finite] if c.finite >= 0 else ""
        hit = resolver.resolve(it.start, it.pron, fin in _PLURAL_AUX)
        return hit[0] if hit else None
    return it.ent


def _join_particle(f: _Facts, c: _Clause, lex: _Lexicon) -> None:
    """Join a separated particle to the finite verb ('griff ... an' -> angreifen).

    The finite verb then carries the trigger and the cue, as the gold marks only the finite
    verb of a discontinuous particle verb.
    """
    if c.finite < 0 or c.kind not in ("main", "coord"):
        return
    k = c.end - 1
    if k <= c.finite or f.low[k] not in _PARTICLES:
        return
    key = f.low[k] + f.vkey[c.finite]
    trig = lex.verbs.get(key)
    cue = lex.cue_verbs.get(key)
    if trig is not None or cue is not None:
        f.vtrig[c.finite], f.vcue[c.finite], f.vkey[c.finite] = trig, cue, key


def _attributive(f: _Facts, k: int) -> bool:
    """An inflected participle before a noun ("in verbündete Länder", "die besetzten Gebiete").

    It describes the noun instead of reporting an event; a determiner, preposition or number
    before it tells it from a finite past form ("Russland besetzte Teile ...").
    """
    if k + 1 >= len(f.text) or not f.text[k + 1][:1].isupper() or k == 0:
        return False
    lw = f.low[k]
    for ending in ("en", "er", "es", "em", "e"):
        if lw.endswith(ending):
            stem = lw[: -len(ending)]
            break
    else:
        return False
    if not stem.endswith(("t", "en")):
        return False  # weak (gefordert-e) or strong (verboten-en) participle stems only
    pm = _PARTICLE_ZU_GE.match(stem)
    if (stem.startswith("ge") and not f.vkey[k].startswith("ge")) or (
            pm is not None and pm.group(2) == "ge"):
        return True  # "die geforderten Sparmaßnahmen": no finite form looks like this
    prev = f.low[k - 1]
    after_det = prev in _DETS or prev in _PREPS or prev[:1].isdigit() or _is_adj(prev, f.text[k - 1])
    return after_det and (stem.endswith("iert") or stem.startswith(_INSEPARABLE + ("ge",)))


@lru_cache(maxsize=1 << 14)
def _agent_entry(lem: str, text: str) -> tuple[str, str] | None:
    """`data/event_agents.tsv` row of a noun, also as a compound head; cached per form."""
    lex = lexicon()
    entry = lex.agents.get(lem) or lex.agents.get(text)
    if entry is None:
        low = lem.lower()
        for size in lex.agent_head_sizes:  # longest head first: "Wirbelsturm", "Verkehrsunfall"
            if len(low) - size >= 3:
                entry = lex.agent_heads.get(low[-size:])
                if entry is not None:
                    break
    return entry


def _agent_noun_class(f: _Facts, k: int) -> str | None:
    """Class of token k in `data/event_agents.tsv` (natural, accident, armed), else None."""
    text = f.text[k]
    if not text[:1].isupper():
        return None
    entry = _agent_entry(f.lemma[k], text)
    if entry is None:
        return None
    cls, unless_next = entry
    if unless_next and k + 1 < len(f.low) and f.low[k + 1] == unless_next:
        return None  # "der Sturm auf das Parlament" is an assault, not weather
    return cls


def _agent_class(doc: Doc, f: _Facts, clauses: list[_Clause], ci: int, passive: bool,
                 violent: bool) -> str | None:
    """Who does what clause ci reports: 'natural' (a natural force or an accident), 'armed'
    (an armed group, a person or a weapon, named or not) or None (not known).

    Why: "Ein Sturm zerstörte Häuser", "Beim Erdbeben wurden 30 Menschen getötet" report no
    political event, and a conflict analyst counting PLOVER ASSAULTs must not find them. For
    violence (`violent`) a natural force counts as subject or object, as the passive agent
    (von/durch), as the cause (bei, infolge, wegen) or as the opponent (gegen); for other
    events only as the doer ("Ein Wirbelsturm traf Kanada" is no meeting; "beim Hochwasser
    helfen" is still aid). An armed noun counts only as the doer (free in an active clause,
    von/durch in a passive), not as the victim ("drei Soldaten wurden getötet"). An elliptic
    coordinate shares the subject in the prefield of the clause before it ("Ein Sturm traf
    Kanada und tötete ..."), a relative clause its antecedent ("das Hochwasser, das drei
    Menschen tötete").
    """
    c = clauses[ci]
    spans = [(c.start, c.end, passive)]
    if c.kind == "coord" and ci > 0:
        prev = clauses[ci - 1]  # its prefield only: "bekämpfte die Flut und evakuierte ..."
        spans.append((prev.start, prev.finite if prev.finite > prev.start else prev.start, False))
    elif c.kind == "rel" and c.start >= 2:
        spans.append((c.start - 2, c.start - 1, False))  # the noun right before ", das ..."
    armed = False
    for a, b, pas in spans:
        for k in range(a, b):
            cls = _agent_noun_class(f, k)
            if cls is None:
                continue
            start, role = _np_start(doc, f, k, a, set())
            if not role and start - 2 >= a and f.low[start - 1] in _NP_CONJ:
                # "nach Attacken und Kollisionen": the conjunct shares the first one's role
                role = _np_start(doc, f, start - 2, a, set())[1]
            doer = role in _AGENT_PREPS or (not role and not pas)
            if cls == "armed":
                armed = armed or doer
            elif doer or (violent and role in _CAUSE_ROLES):
                return "natural"
    return "armed" if armed else None


def _clause_events(doc: Doc, f: _Facts, clauses: list[_Clause], ci: int, lex: _Lexicon,
                   etypes: dict[str, str], resolver: _Resolver) -> list[_Found]:
    c = clauses[ci]
    out: list[_Found] = []
    passive_aux = any(f.low[k] in _WERDEN for k in range(c.start, c.end))
    sein_aux = any(f.low[k] in _SEIN for k in range(c.start, c.end))
    agent = next((it for it in c.items if it.role in _AGENT_PREPS and it.ent), None)
    subj_ent = _item_ent(c.subject, resolver, f, c)
    partner = None  # "Armenien und Aserbaidschan unterzeichneten": the second party
    if c.subject is not None and c.subject in c.items:
        pos = c.items.index(c.subject)
        if pos + 1 < len(c.items):
            nxt = c.items[pos + 1]
            if not nxt.role and nxt.ent and f.low[nxt.start - 1] == "und":
                partner = nxt.ent
    verb_types: set[str] = set()
    for k in range(c.start, c.end):
        trig = f.vtrig[k]
        if trig is None or not f.verbish[k] or _attributive(f, k):
            continue
        if trig.flags and "sich" in f.low[max(c.start, k - 3):k + 2]:
            if "norefl" in trig.flags:
                continue  # "liefert sich ein Duell"
            refl = next((x[5:] for x in trig.flags if x.startswith("refl:")), None)
            if refl:  # "setzt sich für X ein" is support, not deployment
                trig = _Trig(refl, "political", "V")
        ev = _Found(k, trig, ci)
        passive = f.participle[k] and (passive_aux or (sein_aux and agent is not None))
        if passive:
            ev.actor = agent.ent if agent else None
            ev.target = subj_ent or _target(f, lex, c, c.subject, ev.actor, start=c.start)
        else:
            ev.actor = subj_ent
            ev.target = _target(f, lex, c, c.subject, ev.actor, start=c.start)
        if ev.target is None and trig.type in _SYMMETRIC and not passive:
            ev.target = partner
        if ev.target is None and c.kind == "rel" and c.antecedent is not None \
                and c.antecedent is not c.subject:
            ev.target = c.antecedent.ent
        if any(x.startswith("zu:") for x in trig.flags) and any(
                f.low[j] in ("zu", "zum", "zur") and not f.verbish[j + 1]
                for j in range(c.start, c.end - 1)):
            # "zu zehn Jahren Haft verurteilt": a sentence (COERCE), not a condemnation
            new_type = next(x[3:] for x in trig.flags if x.startswith("zu:"))
            ev.trig = trig = _Trig(new_type, "legal", "V")
        if ev.target is None and "target" in trig.flags:
            continue  # "hat sechsmal getroffen": without a counterpart it is no meeting
        doer = _agent_class(doc, f, clauses, ci, passive, trig.type in _VIOLENT)
        if doer == "natural":
            continue  # a storm, a flood, an accident: no political event
        # "In Charkiw wurden drei Soldaten getötet": unnamed, but done by people
        ev.place_anchored = trig.type == "ASSAULT" and (passive or doer == "armed")
        if "complement" in trig.flags and not passive and "mit" not in f.low[c.start:c.end] \
                and not any(cl.parent == ci for cl in clauses):
            continue  # "droht die Staatspleite" is impending, not a threat made by someone
        verb_types.add(trig.type)
        out.append(ev)
    support = [(k, cue) for k, cue in c.cues if cue.role in ("subj", "recv") and f.verbish[k]]
    support_role = support[-1][1].role if support else None
    # "Dem Iran wurde (von den USA) mit Sanktionen gedroht": a passive support verb makes its
    # subject or dative the patient; the noun's actor is only the von/durch agent.
    support_passive = bool(support) and f.participle[support[-1][0]] and passive_aux
    for k in range(c.start, c.end):
        trig = f.ntrig[k]
        if trig is None:
            continue
        if trig.type in verb_types or (trig.type == "COOPERATE" and "AGREE" in verb_types):
            continue  # the verb already states this event ("unterzeichneten ein Abkommen")
        start, role = _np_start(doc, f, k, c.start, set())
        if role in _NOUN_SKIP_ROLES:
            continue
        ev = _Found(k, trig, ci, is_noun=True)
        own = [it for it in c.items if start <= it.head < k and it.ent]
        if own:
            ev.actor = own[-1].ent
        after = [it for it in c.items if it.head > k]
        for it in after[:2]:
            if not it.ent:
                continue
            # a genitive after the noun: its phrase spans the trigger, or starts right after it
            if it.start <= k or (not it.role and it.start <= k + 3 and (
                    f.text[it.head].endswith("s") or f.low[it.start] in _GEN_DETS)):
                # "Angriff Russlands": the actor; "Freilassung der Ukrainer": the target
                if "objgen" in trig.flags:
                    ev.target = ev.target or it.ent
                elif ev.actor is None:
                    ev.actor = it.ent
            elif it.role in _AGENT_PREPS and ev.actor is None:
                ev.actor = it.ent
        if role not in _NO_SUBJECT_ROLES and support_passive:
            if ev.actor is None and agent is not None:
                ev.actor = agent.ent
            ev.target = ev.target or subj_ent or _target(
                f, lex, c, c.subject, agent.ent if agent else None, start=c.start)
        elif role not in _NO_SUBJECT_ROLES and support_role and subj_ent:
            if trig.type in _SPEECH_ACTS and "REJECT" in verb_types:
                ev.target = ev.target or subj_ent  # "wies die Vorwürfe zurück": aimed at X
            elif support_role == "recv":
                ev.target = ev.target or subj_ent
            elif ev.actor is None:
                ev.actor = subj_ent
        if ev.target is None:
            nxt_verb = next((j for j in range(k + 1, c.end) if f.verbish[j]), c.end)
            for it in after:
                if it.start >= nxt_verb:
                    break
                if it.role in _TARGET_PREPS and it.ent and it.ent != ev.actor:
                    ev.target = it.ent
                    break
        if ev.target is None:
            # "verhängte gegen Russland neue Sanktionen": the gegen phrase right before it
            ev.target = next((it.ent for it in c.items if it.role == "gegen" and it.ent
                              and it.end == start and it.ent != ev.actor), None)
        out.append(ev)
    # place, modality
    for ev in out:
        for it in c.items:
            if it.role in _PLACE_PREPS and it.ent and etypes.get(it.ent) in ("GPE", "LOC") \
                    and it.ent not in (ev.actor, ev.target):
                ev.place = it.ent
                break
        mod = _own_modality(f, c, ev.tok, ev.trig)
        if mod is None and c.parent >= 0:
            mod = _complement_modality(clauses, c.parent)
        ev.modality = mod or "actual"
    return out


def _target(f: _Facts, lex: _Lexicon, c: _Clause, subject: _Item | None, actor: str | None,
            start: int) -> str | None:
    """The first object: a free noun phrase after the finite verb or a target preposition.

    "begrüßte den Verzicht der USA auf X" -> USA; "schickte Soldaten nach Russland" -> Russland
    (the accusative names no entity there, so the phrase with *nach* is the first candidate).
    An oblique phrase in the prefield is an object too: "Dem Iran drohten die USA ..." -> Iran.
    """
    for it in c.items:
        if it is subject or not it.ent or it.ent == actor or it.start < start:
            continue
        if it.role in _TARGET_PREPS:
            return it.ent
        if not it.role and (c.finite < 0 or it.start > c.finite or c.kind != "main"
                            or _item_oblique(f, lex, c, it)):
            return it.ent
    return None


# --------------------------------------------------------------------------- statements, times


def _statement_index(doc: Doc, f: _Facts, lex: _Lexicon) -> list[tuple[int, int, str, str | None]]:
    """(start, end, statement id, speaker) for every content piece, smallest first."""
    out: list[tuple[int, int, str, str | None]] = []
    for st in doc._.lb_statements or []:
        if st.cue is not None:
            span = doc.char_span(st.cue.start, st.cue.end, alignment_mode="expand")
            if span is not None and len(span):
                key = f.vkey[span.start] or f.lemma[span.start]
                trig = lex.verbs.get(key) or lex.nouns.get(f.lemma[span.start])
                if trig is not None and trig.type == "THREATEN":
                    continue  # a threat's content is `threatened` from the author's view
        for sp in (st.content, *st.parts):
            out.append((sp.start, sp.end, st.id, st.speaker))
    out.sort(key=lambda x: x[1] - x[0])
    return out


def build_events(doc: Doc, require_political: bool = True,
                 political_types: tuple[str, ...] = _POLITICAL) -> list[Event]:
    """All events of a processed doc (sentences, lemmas, entities, statements, times set)."""
    if len(doc) == 0:
        return []
    lex = lexicon()
    f = _token_facts(doc, lex)
    mentions = _doc_mentions(doc)
    mstarts = [m.start for m in mentions]
    mention_tok = {k for m in mentions for k in range(m.start, m.end)}
    f.names = {m.start: m.end - 1 for m in mentions if m.etype in ("GPE", "ORG", "LOC")
               and m.kind in ("name", "metonym")}
    etypes = {e.id: e.type for e in doc._.lb_entities or []}
    resolver = _Resolver(mentions=mentions)
    stmts = _statement_index(doc, f, lex)
    times = sorted((t.span.start, t.id) for t in doc._.lb_times or [])
    pol = set(political_types)
    events: list[Event] = []
    bounds = [i for i in range(len(doc)) if f.sent_start[i] or i == 0] + [len(doc)]
    for s_start, s_end in zip(bounds, bounds[1:], strict=False):
        sent_a = f.idx[s_start]
        sent_b = f.idx[s_end - 1] + len(f.text[s_end - 1])
        clauses, found = _analyse_sentence(doc, f, s_start, s_end, lex, mentions, mstarts,
                                           mention_tok, etypes, resolver)
        for ev in found:
            if ev.actor == ev.target:
                ev.target = None
            if require_political and etypes.get(ev.actor or "") not in pol \
                    and etypes.get(ev.target or "") not in pol \
                    and not (ev.place_anchored and ev.place is not None):
                continue
            t_start = f.idx[ev.tok]
            t_end = t_start + len(f.text[ev.tok])
            source = statement = None
            for a, b, sid, speaker in stmts:
                if a <= t_start and t_end <= b:
                    source, statement = speaker, sid
                    break
            c = clauses[ev.clause]
            c_start, c_end = f.idx[c.start], f.idx[c.end - 1] + len(f.text[c.end - 1])
            time_id = next((tid for ts, tid in times if c_start <= ts < c_end), None)
            if time_id is None:
                time_id = next((tid for ts, tid in times if sent_a <= ts < sent_b), None)
            events.append(Event(
                id=f"ev{len(events) + 1}", type=ev.trig.type, mode=ev.trig.mode,  # type: ignore[arg-type]
                trigger=SpanModel(start=t_start, end=t_end, text=f.text[ev.tok]), actor=ev.actor, target=ev.target,
                modality=ev.modality, source=source, statement=statement,  # type: ignore[arg-type]
                time=time_id, place=ev.place,
            ))
    return events


class EventsComponent:
    """spaCy component writing `doc._.lb_events` (config: keep only political events)."""

    def __init__(self, require_political: bool, political_types: list[str]) -> None:
        self.require_political = require_political
        self.political_types = tuple(political_types)
        lexicon()  # load lexicons at construction, not on the first document

    def __call__(self, doc: Doc) -> Doc:
        doc._.lb_events = build_events(doc, self.require_political, self.political_types)
        return doc


@Language.factory(
    "lagebild_events",
    default_config={"require_political": True, "political_types": list(_POLITICAL)},
)
def make_events(nlp: Language, name: str, require_political: bool,
                political_types: list[str]) -> EventsComponent:
    return EventsComponent(require_political, political_types)
