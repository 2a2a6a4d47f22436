"""Train a character-aware BiLSTM-CRF NER tagger on GermEval 2014 (outer level).

Why: the shipped CRF (dev F1 0.7474, test 0.7413) only sees hand-made sparse features
in a fixed window. A BiLSTM reads the whole sentence and a char CNN sees every
word's spelling, so this model makes different errors; it is measured here as a
candidate to beat the CRF or to ensemble with it (hence the per-token marginals in
the shipped CRF's label order).

Inputs per token: the project's frozen floret vector (100-d, subword based, so every
word has one), a trainable lower-cased word embedding for train words seen >= 2 times
(word dropout, UNK otherwise), a char CNN with max-pooling, a casing embedding and a
bag of the package-gazetteer features (no GermEval-mined gazetteer: it would leak).
One BiLSTM layer, a linear layer to BIOES tags and a linear-chain CRF written here
(forward algorithm for the loss, Viterbi to decode, forward-backward for marginals)
with BIOES-invalid transitions masked. Dev F1 (official strict metric) after every
epoch picks the checkpoint; training stops on patience or on the wall-clock budget.

Usage: OMP_NUM_THREADS=1 python training/ner/train_bilstm.py [--max-epochs 40]
       [--patience 6] [--time-budget 3300] [--out training/output/bilstm]
       [--results training/results/ner_bilstm.json] [--marg-dir DIR] [--hidden 64]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from convert import DEFAULT_SHARED, load_splits, spans_from_bio  # noqa: E402
from evaluate import score  # noqa: E402

# the featurisation is the run-time module's own, so training and inference cannot drift
from lagebild.extract.ner_bilstm import (  # noqa: E402
    GAZ_FEATS,
    MAX_CHARS,
    N_CASING,
    PAD,
    UNK,
    bioes_allowed,
    casing,
    char_ids,
    gaz_multi_hot,
    lexicon_width,
)
from lagebild.extract.ner_crf import to_bioes  # noqa: E402

FLORET = ROOT / "training" / "corpus" / "floret.bin"

#: the shipped CRF's label order; marginals are written in exactly this order
MARG_LABELS = [
    "S-PER", "O", "S-ORG", "B-PER", "I-PER", "E-PER", "S-LOC", "B-ORG", "E-ORG",
    "S-LOCderiv", "S-ORGpart", "B-OTH", "I-OTH", "E-OTH", "S-OTH", "B-LOCderiv",
    "E-LOCderiv", "S-PERpart", "B-ORGpart", "E-ORGpart", "I-ORG", "S-LOCpart", "B-LOC",
    "I-LOC", "E-LOC", "S-OTHderiv", "S-PERderiv", "S-OTHpart", "B-OTHpart", "E-OTHpart",
    "B-OTHderiv", "E-OTHderiv", "S-ORGderiv", "B-PERpart", "E-PERpart", "I-LOCderiv",
    "B-LOCpart", "E-LOCpart", "I-OTHpart", "B-PERderiv", "E-PERderiv", "I-ORGpart",
]

NEG = -1e4

Sentence = tuple[list[str], list[str]]
Span3 = tuple[int, int, str]


# ----------------------------------------------------------------------------- features

class Vocab:
    """Lower-cased word ids (train freq >= min_freq) and char ids (train chars)."""

    def __init__(self, words: dict[str, int], chars: dict[str, int], tags: list[str]) -> None:
        self.words = words
        self.chars = chars
        self.tags = tags
        self.tag_index = {t: i for i, t in enumerate(tags)}

    @classmethod
    def build(cls, train: list[Sentence], min_freq: int) -> Vocab:
        wc = Counter(w.lower() for toks, _ in train for w in toks)
        cc = Counter(c for toks, _ in train for w in toks for c in w)
        words = {w: i + 2 for i, w in enumerate(sorted(w for w, n in wc.items() if n >= min_freq))}
        chars = {c: i + 4 for i, c in enumerate(sorted(cc))}
        seen = {t for _, tags in train for t in to_bioes(tags)}
        tags = ["O", *sorted(seen - {"O"})]
        return cls(words, chars, tags)

    def to_json(self) -> dict[str, object]:
        return {"words": self.words, "chars": self.chars, "tags": self.tags}

    @classmethod
    def from_json(cls, d: dict[str, object]) -> Vocab:
        return cls(d["words"], d["chars"], d["tags"])  # type: ignore[arg-type]


class Featurized:
    """A split as per-sentence arrays plus per-type tables (floret vectors, char ids)."""

    def __init__(self, sents: Sequence[Sequence[str]], vocab: Vocab, ft, tags: Sequence[Sequence[str]] | None = None,  # noqa: ANN001,E501
                 lexicon: bool = False, heads: bool = False, forms: bool = False) -> None:
        type_ids: dict[str, int] = {}
        self.types: list[np.ndarray] = []
        self.words: list[np.ndarray] = []
        self.case: list[np.ndarray] = []
        self.gaz: list[np.ndarray] = []
        self.tags: list[np.ndarray] | None = [] if tags is not None else None
        for k, toks in enumerate(sents):
            self.types.append(np.array([type_ids.setdefault(w, len(type_ids)) for w in toks], dtype=np.int64))
            self.words.append(np.array([vocab.words.get(w.lower(), UNK) for w in toks], dtype=np.int64))
            self.case.append(np.array([casing(w) for w in toks], dtype=np.int64))
            self.gaz.append(gaz_multi_hot(toks, lexicon=lexicon, heads=heads, forms=forms))
            if tags is not None and self.tags is not None:
                self.tags.append(np.array([vocab.tag_index.get(t, 0) for t in to_bioes(list(tags[k]))],
                                          dtype=np.int64))
        types = list(type_ids)
        vecs = np.zeros((len(types), ft.get_dimension()), dtype=np.float32)
        chars = np.zeros((len(types), MAX_CHARS), dtype=np.int64)
        for i, w in enumerate(types):
            vecs[i] = ft.get_word_vector(w)
            ids = char_ids(w, vocab.chars)
            chars[i, : len(ids)] = ids
        self.vecs = torch.from_numpy(vecs)
        self.chars = torch.from_numpy(chars)
        self.lengths = np.array([len(t) for t in self.types])
        self.n_gaz = len(GAZ_FEATS) + lexicon_width(lexicon, heads, forms)

    def batch(self, idx: Sequence[int], word_dropout: float = 0.0) -> dict[str, Tensor]:
        lens = [len(self.types[i]) for i in idx]
        b, t = len(idx), max(lens)
        types = torch.zeros(b, t, dtype=torch.long)
        words = torch.zeros(b, t, dtype=torch.long)
        case = torch.zeros(b, t, dtype=torch.long)
        gaz = torch.zeros(b, t, self.n_gaz)
        tags = torch.zeros(b, t, dtype=torch.long)
        mask = torch.zeros(b, t, dtype=torch.bool)
        for j, i in enumerate(idx):
            n = lens[j]
            types[j, :n] = torch.from_numpy(self.types[i])
            words[j, :n] = torch.from_numpy(self.words[i])
            case[j, :n] = torch.from_numpy(self.case[i])
            gaz[j, :n] = torch.from_numpy(self.gaz[i])
            if self.tags is not None:
                tags[j, :n] = torch.from_numpy(self.tags[i])
            mask[j, :n] = True
        if word_dropout > 0:
            drop = (torch.rand(b, t) < word_dropout) & mask
            words = words.masked_fill(drop, UNK)
        chars = self.chars[types]  # (b, t, C)
        cmax = int((chars > 0).sum(-1).max())
        return {"vecs": self.vecs[types], "words": words, "chars": chars[:, :, :cmax],
                "case": case, "gaz": gaz, "tags": tags, "mask": mask,
                "lengths": torch.tensor(lens)}


# ----------------------------------------------------------------------------- CRF

def bioes_constraints(tags: list[str]) -> tuple[Tensor, Tensor, Tensor]:
    """Additive masks (0 allowed, NEG forbidden) for start, transitions and end under BIOES
    (the run-time decoder's own rule, `bioes_allowed`)."""

    def mask(ok: np.ndarray) -> Tensor:
        return torch.from_numpy(np.where(ok, 0.0, NEG).astype(np.float32))

    ok_s, ok_t, ok_e = bioes_allowed(tags)
    return mask(ok_s), mask(ok_t), mask(ok_e)


class CRF(nn.Module):
    """Linear-chain CRF over (batch, time, tags) emissions with a prefix mask."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        k = len(tags)
        self.trans = nn.Parameter(torch.zeros(k, k))
        self.start = nn.Parameter(torch.zeros(k))
        self.end = nn.Parameter(torch.zeros(k))
        s, t, e = bioes_constraints(tags)
        self.register_buffer("start_mask", s)
        self.register_buffer("trans_mask", t)
        self.register_buffer("end_mask", e)

    def _params(self) -> tuple[Tensor, Tensor, Tensor]:
        return (self.start + self.start_mask, self.trans + self.trans_mask, self.end + self.end_mask)

    def _alphas(self, em: Tensor, mask: Tensor) -> tuple[list[Tensor], Tensor]:
        start, trans, end = self._params()
        alpha = start + em[:, 0]
        alphas = [alpha]
        for t in range(1, em.size(1)):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + em[:, t]
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
            alphas.append(alpha)
        return alphas, torch.logsumexp(alpha + end, dim=1)

    def nll(self, em: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Sum over the batch of -log p(tags | x)."""
        start, trans, end = self._params()
        _, log_z = self._alphas(em, mask)
        m = mask.float()
        gold = start[tags[:, 0]] + (em.gather(2, tags.unsqueeze(2)).squeeze(2) * m).sum(1)
        gold = gold + (trans[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        gold = gold + end[last]
        return (log_z - gold).sum()

    def marginals(self, em: Tensor, mask: Tensor) -> Tensor:
        """p(y_t = k | x) by forward-backward, (batch, time, tags); padding rows are junk."""
        _, trans, end = self._params()
        alphas, log_z = self._alphas(em, mask)
        b, t_len, k = em.shape
        beta = end.expand(b, k)
        betas = [beta]
        for t in range(t_len - 2, -1, -1):
            nb = torch.logsumexp(trans.unsqueeze(0) + (em[:, t + 1] + beta).unsqueeze(1), dim=2)
            beta = torch.where(mask[:, t + 1 : t + 2], nb, end.expand(b, k))
            betas.append(beta)
        betas.reverse()
        return torch.exp(torch.stack(alphas, 1) + torch.stack(betas, 1) - log_z.view(b, 1, 1))

    def viterbi(self, em: Tensor, mask: Tensor) -> list[list[int]]:
        start, trans, end = self._params()
        score_ = start + em[:, 0]
        back = []
        for t in range(1, em.size(1)):
            cand = score_.unsqueeze(2) + trans.unsqueeze(0)
            best, arg = cand.max(dim=1)
            nxt = best + em[:, t]
            score_ = torch.where(mask[:, t : t + 1], nxt, score_)
            back.append(arg)
        score_ = score_ + end
        lens = mask.sum(1).tolist()
        last = score_.argmax(1).tolist()
        bp = torch.stack(back, 1).tolist() if back else []
        out = []
        for j, n in enumerate(lens):
            path = [last[j]]
            for t in range(n - 2, -1, -1):
                path.append(bp[j][t][path[-1]])
            path.reverse()
            out.append(path)
        return out


# ----------------------------------------------------------------------------- model

class Tagger(nn.Module):
    def __init__(self, vocab: Vocab, vec_dim: int = 100, word_dim: int = 50, char_dim: int = 30,
                 char_filters: int = 50, case_dim: int = 10, gaz_dim: int = 10, hidden: int = 128,
                 dropout: float = 0.5, lexicon: bool = False, heads: bool = False,
                 forms: bool = False) -> None:
        super().__init__()
        self.word_emb = nn.Embedding(len(vocab.words) + 2, word_dim, padding_idx=PAD)
        self.char_emb = nn.Embedding(len(vocab.chars) + 4, char_dim, padding_idx=PAD)
        self.char_cnn = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
        self.case_emb = nn.Embedding(N_CASING, case_dim, padding_idx=PAD)
        n_gaz = len(GAZ_FEATS) + lexicon_width(lexicon, heads, forms)
        self.gaz = nn.Linear(n_gaz, gaz_dim, bias=False)
        self.drop = nn.Dropout(dropout)
        d_in = vec_dim + word_dim + char_filters + case_dim + gaz_dim
        self.lstm = nn.LSTM(d_in, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, len(vocab.tags))
        self.crf = CRF(vocab.tags)

    def emissions(self, b: dict[str, Tensor]) -> Tensor:
        mask = b["mask"]
        bsz, t = mask.shape
        chars = b["chars"][mask]  # (n_tok, C)
        ce = self.drop(self.char_emb(chars)).transpose(1, 2)  # (n, dim, C)
        conv = self.char_cnn(ce).masked_fill((chars == PAD).unsqueeze(1), -1e4)
        char_vec = torch.zeros(bsz, t, conv.size(1))
        char_vec[mask] = conv.max(dim=2).values
        x = torch.cat([b["vecs"], self.word_emb(b["words"]), char_vec, self.case_emb(b["case"]),
                       self.gaz(b["gaz"])], dim=-1)
        x = self.drop(x)
        packed = pack_padded_sequence(x, b["lengths"], batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=t)
        return self.out(self.drop(h))


# ----------------------------------------------------------------------------- helpers

def batches_by_length(lengths: np.ndarray, size: int, rng: random.Random | None) -> list[list[int]]:
    """Bucket by length (noisy when training) and cut into batches; shuffle batch order."""
    if rng is None:
        order = np.argsort(lengths, kind="stable").tolist()
    else:
        noisy = [n + rng.uniform(-1.5, 1.5) for n in lengths]
        order = sorted(range(len(lengths)), key=noisy.__getitem__)
    out = [order[i : i + size] for i in range(0, len(order), size)]
    if rng is not None:
        rng.shuffle(out)
    return out


def bioes_path_to_bio(path: Sequence[int], tags: list[str]) -> list[str]:
    out = []
    for i in path:
        t = tags[i]
        if t[:2] == "S-":
            t = "B-" + t[2:]
        elif t[:2] == "E-":
            t = "I-" + t[2:]
        out.append(t)
    return out


@torch.no_grad()
def predict(model: Tagger, data: Featurized, tags: list[str], batch_size: int = 64) -> list[list[Span3]]:
    model.eval()
    preds: list[list[Span3] | None] = [None] * len(data.types)
    for idx in batches_by_length(data.lengths, batch_size, None):
        b = data.batch(idx)
        paths = model.crf.viterbi(model.emissions(b), b["mask"])
        for i, p in zip(idx, paths, strict=True):
            preds[i] = spans_from_bio(bioes_path_to_bio(p, tags))
    return preds  # type: ignore[return-value]


@torch.no_grad()
def marginals(model: Tagger, data: Featurized, tags: list[str], batch_size: int = 64) -> list[np.ndarray]:
    """Per-sentence (n_tokens, 42) float32 marginals in MARG_LABELS order (others folded into O)."""
    model.eval()
    col = [MARG_LABELS.index(t) if t in MARG_LABELS else MARG_LABELS.index("O") for t in tags]
    proj = torch.zeros(len(tags), len(MARG_LABELS))
    for i, c in enumerate(col):
        proj[i, c] = 1.0
    out: list[np.ndarray | None] = [None] * len(data.types)
    for idx in batches_by_length(data.lengths, batch_size, None):
        b = data.batch(idx)
        m = model.crf.marginals(model.emissions(b), b["mask"]) @ proj
        for j, i in enumerate(idx):
            out[i] = m[j, : int(b["lengths"][j])].numpy().astype(np.float32)
    return out  # type: ignore[return-value]


def save_marginals(path: Path, margs: list[np.ndarray]) -> None:
    arr = np.empty(len(margs), dtype=object)
    for i, m in enumerate(margs):
        arr[i] = m
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, m=arr, labels=np.array(MARG_LABELS))


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "output" / "bilstm")
    ap.add_argument("--results", type=Path, default=ROOT / "training" / "results" / "ner_bilstm.json")
    ap.add_argument("--marg-dir", type=Path, default=None,
                    help="write per-token tag marginals of dev/test here (ensemble analysis)")
    ap.add_argument("--max-epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--time-budget", type=float, default=3300.0, help="seconds for the epoch loop")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-decay", type=float, default=0.05, help="lr = lr0 / (1 + decay * epoch)")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--word-dropout", type=float, default=0.05)
    ap.add_argument("--min-freq", type=int, default=2)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="debug: use only N train sentences")
    ap.add_argument("--lexicon", action="store_true",
                    help="simplemma lexicon class of capitalised words as input")
    ap.add_argument("--heads", action="store_true",
                    help="with --lexicon: compound heads of unlisted words as input")
    ap.add_argument("--forms", action="store_true",
                    help="with --heads: whether listed words have other forms listed, as input")
    ap.add_argument("--train-marginals", action="store_true", help="also write train marginals")
    args = ap.parse_args(argv)
    args.heads = args.lexicon and args.heads
    args.forms = args.heads and args.forms
    word_classes = {"lexicon": args.lexicon, "heads": args.heads, "forms": args.forms}

    torch.set_num_threads(1)
    seed_all(args.seed)
    import floret

    t0 = time.time()
    splits = load_splits(args.shared)
    if args.limit:
        splits["train"] = splits["train"][: args.limit]
    vocab = Vocab.build(splits["train"], args.min_freq)
    ft = floret.load_model(str(FLORET))
    data = {k: Featurized([s[0] for s in v], vocab, ft, [s[1] for s in v], **word_classes)
            for k, v in splits.items()}
    gold = {k: [spans_from_bio(s[1]) for s in v] for k, v in splits.items()}
    log(f"featurised in {time.time() - t0:.1f}s; {len(vocab.words)} words, {len(vocab.chars)} chars, "
        f"{len(vocab.tags)} tags")

    model = Tagger(vocab, vec_dim=ft.get_dimension(), hidden=args.hidden, dropout=args.dropout,
                   **word_classes)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"parameters: {n_params}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    args.out.mkdir(parents=True, exist_ok=True)
    best_path = args.out / "model.pt"
    rng = random.Random(args.seed)

    history: list[dict[str, float]] = []
    best_f1, best_epoch, bad = -1.0, 0, 0
    loop_start = time.time()
    epoch_secs: list[float] = []
    for epoch in range(1, args.max_epochs + 1):
        for g in opt.param_groups:
            g["lr"] = args.lr / (1 + args.lr_decay * (epoch - 1))
        model.train()
        te = time.time()
        total, n_tok = 0.0, 0
        for idx in batches_by_length(data["train"].lengths, args.batch_size, rng):
            b = data["train"].batch(idx, args.word_dropout)
            loss = model.crf.nll(model.emissions(b), b["tags"], b["mask"])
            opt.zero_grad()
            (loss / len(idx)).backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            total += loss.item()
            n_tok += int(b["mask"].sum())
        train_s = time.time() - te
        epoch_secs.append(train_s)
        dev = score(gold["dev"], predict(model, data["dev"], vocab.tags))["micro"]
        history.append({"epoch": epoch, "loss_per_token": total / n_tok, "train_s": round(train_s, 1),
                        "dev_p": dev["p"], "dev_r": dev["r"], "dev_f1": dev["f1"]})
        log(f"epoch {epoch}: loss/tok {total / n_tok:.4f} train {train_s:.0f}s "
            f"dev P {dev['p']:.4f} R {dev['r']:.4f} F1 {dev['f1']:.4f}")
        if dev["f1"] > best_f1:
            best_f1, best_epoch, bad = dev["f1"], epoch, 0
            torch.save(model.state_dict(), best_path)
        else:
            bad += 1
            if bad >= args.patience:
                log("early stop (patience)")
                break
        elapsed = time.time() - loop_start
        if elapsed + (elapsed / epoch) > args.time_budget:
            log(f"stop: time budget ({elapsed:.0f}s used)")
            break
    epochs_run = len(history)

    model.load_state_dict(torch.load(best_path))
    (args.out / "vocab.json").write_text(json.dumps(vocab.to_json(), ensure_ascii=False))
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (args.out / "config.json").write_text(json.dumps(config, indent=2))

    results: dict[str, object] = {}
    for split in ("dev", "test"):
        results[split] = score(gold[split], predict(model, data[split], vocab.tags))
        log(f"best model {split}: {results[split]['micro']}")  # type: ignore[index]

    # inference speed on test, from raw tokens: featurise (floret, gazetteer) + tag, 1 thread
    tw = time.time()
    test_words = [s[0] for s in splits["test"]]
    feats = Featurized(test_words, vocab, ft, **word_classes)
    predict(model, feats, vocab.tags)
    wps = sum(len(w) for w in test_words) / (time.time() - tw)
    log(f"inference: {wps:.0f} words/s")

    if args.marg_dir is not None:
        tm = time.time()
        for split in ("dev", "test", *(("train",) if args.train_marginals else ())):
            save_marginals(args.marg_dir / f"bilstm_marg_{split}.npz",
                           marginals(model, data[split], vocab.tags))
        log(f"marginals written in {time.time() - tm:.0f}s")

    size_mb = best_path.stat().st_size / 1e6
    out = {
        "model": "BiLSTM-CRF (floret frozen + word emb + char CNN + casing + package gazetteer"
                 + (" + lexicon class" if args.lexicon else "")
                 + (" + compound head" if args.heads else "")
                 + (" + form class)" if args.forms else ")"),
        "dev": results["dev"],
        "test": results["test"],
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "seconds_per_epoch": round(float(np.mean(epoch_secs)), 1),
        "inference_words_per_s_1thread": round(wps),
        "parameters": n_params,
        "model_mb": round(size_mb, 2),
        "history": history,
        "config": config,
        "tags": vocab.tags,
        "total_seconds": round(time.time() - t0),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(out, indent=2))
    log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
