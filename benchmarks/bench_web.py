"""Web benchmark: load test of the read endpoints of `lagebild serve` on loopback.

    python benchmarks/bench_web.py --shared ../shared [--db STORE] [--duration 15]

The store holds the 10kGNAD test articles (1,028 derStandard articles, ingested through
the real pipeline unless `--db` names a store that already has them). The server is
started as a subprocess (`lagebild serve`), exactly as a user would run it. Requests
cycle through a few hundred distinct URLs drawn deterministically from the store:
document lists and records, entity lists and profiles, statements by speaker and about
an entity, claims, events by type, full-text search.

Load: `wrk` (Debian package) at 32 connections if it is installed, else a bounded
asyncio client written here (raw HTTP/1.1 keep-alive, so the client costs little CPU on
a machine it shares with the server). Reported: requests/s and latency p50/p95/p99 under
load, plus the single-connection latency per endpoint kind (service time without
queueing). Figures are merged into `benchmarks/results.json` under "web" (other keys
kept). The target is p95 < 50 ms at 32 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q * (len(s) - 1))))
    return s[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_store(db: Path, csv: Path, use_models: bool) -> dict:
    """Ingest the 10kGNAD test articles unless the store already holds them."""
    from lagebild.corpus import Corpus

    with Corpus(db) as corpus:
        n = corpus.store.count()
        if n >= 1000:
            return {"documents": n, "ingested_now": False}
        stats = corpus.ingest([csv], use_models=use_models, progress=False)
        return {"documents": corpus.store.count(), "ingested_now": True,
                "ingest_s": round(stats.elapsed_s, 1)}


def make_urls(db: Path, n_each: int = 40) -> list[tuple[str, str]]:
    """(kind, path) pairs from what the store contains; no hand-picked easy ones."""
    from sqlalchemy import func, select

    from lagebild.corpus import Corpus
    from lagebild.store.schema import doc_entities, documents, entities, quantities, statements

    with Corpus(db) as corpus, corpus.engine.connect() as conn:
        doc_ids = conn.execute(select(documents.c.id).order_by(documents.c.content_hash)
                               .limit(n_each)).scalars().all()
        speakers = conn.execute(
            select(statements.c.speaker_id).where(statements.c.speaker_id.is_not(None))
            .group_by(statements.c.speaker_id)
            .order_by(func.count().desc(), statements.c.speaker_id).limit(n_each)).scalars().all()
        ents = conn.execute(
            select(entities.c.id, entities.c.name)
            .join(doc_entities, doc_entities.c.entity_id == entities.c.id)
            .group_by(entities.c.id, entities.c.name)
            .order_by(func.count().desc(), entities.c.id).limit(n_each)).all()
        whats = conn.execute(
            select(quantities.c.what).where(quantities.c.what.is_not(None))
            .group_by(quantities.c.what).order_by(func.count().desc(), quantities.c.what)
            .limit(n_each // 2)).scalars().all()
    words = ["Regierung", "Polizei", "Wahl", "Flüchtlinge", "Euro", "Kritik", "Gericht",
             "Unternehmen", "Kanzler", "Krieg", "Präsident", "Studie", "Schule", "Fußball",
             "Bank", "Steuer", "Partei", "Grenze", "Verhandlungen", "Wien"]
    types = ["ACCUSE", "SUPPORT", "CONSULT", "AGREE", "REJECT", "REQUEST", "THREATEN",
             "COOPERATE", "PROTEST", "ASSAULT"]

    def q(path: str, **params) -> str:
        return f"{path}?{urlencode(params)}" if params else path

    urls: list[tuple[str, str]] = []
    urls += [("documents_list", q("/api/documents", limit=20))] * 4
    urls += [("documents_list", q("/api/documents", entity=name, limit=20))
             for _, name in ents[: n_each // 2]]
    urls += [("document", f"/api/documents/{d}") for d in doc_ids]
    urls += [("entities_list", q("/api/entities", limit=50)),
             ("entities_list", q("/api/entities", sort="name", limit=50))]
    urls += [("entities_list", q("/api/entities", type=t, limit=50))
             for t in ("PER", "ORG", "GPE", "LOC", "MISC")]
    urls += [("entity", f"/api/entities/{eid}") for eid, _ in ents]
    urls += [("statements_by", q("/api/statements", speaker=s, limit=50)) for s in speakers]
    urls += [("statements_about", q("/api/statements", entity=eid, limit=50))
             for eid, _ in ents]
    urls += [("statements_list", q("/api/statements", limit=50))] * 4
    urls += [("claims", q("/api/claims", what=w, limit=20)) for w in whats]
    urls += [("events", q("/api/events", type=t, limit=50)) for t in types]
    urls += [("events", q("/api/events", entity=eid, limit=50)) for eid, _ in ents[:n_each // 2]]
    urls += [("search", q("/api/search", q=w, limit=20)) for w in words]
    urls += [("search", q("/api/search", q=w, scope="statements", limit=20)) for w in words[:10]]
    return urls


def start_server(db: Path, port: int, workers: int, cache: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "lagebild.cli", "serve", "--db", str(db), "--port", str(port),
           "--workers", str(workers), "--no-preload", "--log-level", "warning"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LAGEBILD_WEB_CACHE": "1" if cache else "0"}
    env.pop("LAGEBILD_TOKEN", None)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


def single_connection(base: str, urls: list[tuple[str, str]], rounds: int = 2) -> dict:
    """Each URL `rounds` times over one keep-alive connection: service time per kind."""
    import http.client

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    lat: dict[str, list[float]] = {}
    bad = []
    for r in range(rounds):
        for kind, path in urls:
            t = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            ms = 1000 * (time.perf_counter() - t)
            if resp.status != 200:
                bad.append((resp.status, path))
            if r > 0:  # the first round warms caches
                lat.setdefault(kind, []).append(ms)
    conn.close()
    if bad:
        raise RuntimeError(f"{len(bad)} URL(s) did not answer 200, e.g. {bad[:3]}")
    all_ms = [v for vs in lat.values() for v in vs]
    return {
        "n": len(all_ms), "p50_ms": round(statistics.median(all_ms), 2),
        "p95_ms": round(percentile(all_ms, 0.95), 2),
        "by_kind_p50_ms": {k: round(statistics.median(v), 2) for k, v in sorted(lat.items())},
        "by_kind_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in sorted(lat.items())},
    }


_WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d, "
    .. "\\"p99_us\\": %%d, \\"max_us\\": %%d, \\"mean_us\\": %%.1f, \\"err_connect\\": %%d, "
    .. "\\"err_read\\": %%d, \\"err_write\\": %%d, \\"err_status\\": %%d, \\"err_timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def run_wrk(base: str, urls: list[str], connections: int, duration: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_WRK_LUA % ", ".join(json.dumps(u) for u in urls))
        script = fh.name
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                              "--timeout", "10s", "-s", script, base],
                             capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    r = json.loads(line.removeprefix("WRKJSON "))
    secs = r["duration_us"] / 1e6
    errors = sum(r[k] for k in r if k.startswith("err_"))
    return {"tool": "wrk", "connections": connections, "threads": threads,
            "duration_s": round(secs, 2), "requests": r["requests"],
            "requests_per_s": round(r["requests"] / secs, 1),
            "p50_ms": round(r["p50_us"] / 1000, 2), "p95_ms": round(r["p95_us"] / 1000, 2),
            "p99_ms": round(r["p99_us"] / 1000, 2), "max_ms": round(r["max_us"] / 1000, 2),
            "errors": errors, "non_2xx": r["err_status"]}


async def _client(host: str, port: int, paths: list[str], start: int, stop_at: float,
                  lat: list[float], status: dict[int, int]) -> None:
    """One keep-alive connection sending GETs back to back until `stop_at`."""
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            t = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            code = int(head.split(b" ", 2)[1])
            length = 0
            chunked = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            lat.append(1000 * (time.perf_counter() - t))
            status[code] = status.get(code, 0) + 1
    finally:
        writer.close()


def run_python_client(base: str, urls: list[str], connections: int, duration: int) -> dict:
    host, port = base.removeprefix("http://").split(":")
    lat: list[float] = []
    status: dict[int, int] = {}

    async def main() -> float:
        t0 = time.perf_counter()
        stop = t0 + duration
        step = max(1, len(urls) // connections)
        await asyncio.gather(*[_client(host, int(port), urls, k * step, stop, lat, status)
                               for k in range(connections)])
        return time.perf_counter() - t0

    secs = asyncio.run(main())
    return {"tool": "python-asyncio", "connections": connections, "duration_s": round(secs, 2),
            "requests": len(lat), "requests_per_s": round(len(lat) / secs, 1),
            "p50_ms": round(statistics.median(lat), 2), "p95_ms": round(percentile(lat, 0.95), 2),
            "p99_ms": round(percentile(lat, 0.99), 2), "max_ms": round(max(lat), 2),
            "errors": 0, "non_2xx": sum(n for c, n in status.items() if not 200 <= c < 300)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--db", help="store to serve (built from 10kGNAD if it has < 1000 articles;"
                                 " default: a temporary one)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results.json"))
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=15, help="seconds of load")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--no-models", action="store_true", help="ingest with rules only")
    args = ap.parse_args()
    csv = Path(args.shared) / "data" / "10kgnad" / "test.csv"
    tmp = None
    if args.db:
        db = Path(args.db)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="lbweb."))
        db = tmp / "10kgnad.db"
    if not csv.exists() and not db.exists():
        print(f"bench_web: {csv} not found", file=sys.stderr)
        return 2
    store = ensure_store(db, csv, not args.no_models)
    print(f"bench_web: store {db}: {store}", file=sys.stderr)
    urls = make_urls(db)
    paths = [p for _, p in urls]
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    runs: dict[str, dict] = {}
    try:
        # uncached first: every request runs its queries (the honest service time); then
        # the server as shipped, whose response cache answers repeated GETs until the
        # corpus changes
        for mode, cache in (("uncached", False), ("cached", True)):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            proc = start_server(db, port, args.workers, cache)
            try:
                single = single_connection(base, urls)
                if tool == "wrk":
                    load = run_wrk(base, paths, args.connections, args.duration, threads=1)
                else:
                    load = run_python_client(base, paths, args.connections, args.duration)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            runs[mode] = {"single_connection": single, "load": load}
            print(f"bench_web: {mode}: one connection p50 {single['p50_ms']} ms, p95 "
                  f"{single['p95_ms']} ms; {args.connections} connections "
                  f"{load['requests_per_s']} req/s, p95 {load['p95_ms']} ms", file=sys.stderr)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "store": {"backend": "sqlite", "documents": store["documents"],
                  "corpus": "10kGNAD test (1,028 derStandard articles)"},
        "server": {"workers": args.workers, "command": "lagebild serve"},
        "urls": {"distinct": len(set(paths)),
                 "kinds": sorted({k for k, _ in urls})},
        "uncached": runs["uncached"],
        "cached": runs["cached"],
        "target_p95_ms": 50,
        "meets_target": {m: r["load"]["p95_ms"] < 50 and r["load"]["non_2xx"] == 0
                         and r["load"]["errors"] == 0 for m, r in runs.items()},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_1min_before": round(os.getloadavg()[0], 2)},
        "command": "python benchmarks/bench_web.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    data["web"] = result
    tmp_out = out.with_name(out.name + ".part")
    tmp_out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp_out.replace(out)
    print(json.dumps(result, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
