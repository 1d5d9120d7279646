"""``jawebcorpus train-quality``: train a fastText quality classifier from positive and negative text.

Texts come from files (``--positive FILE``, ``--negative FILE``: one document per line, or JSONL
with a text field; ``.gz`` is read as gzip) and/or from the documents of earlier runs
(``--run OUT`` reads ``OUT/data/**.parquet``) selected by a column expression
(``--positive-where "q_too_short == 0 and lang_score > 0.9"``).

The expression language is deliberately small and is never evaluated as Python: comparisons
``column OP value`` with ``OP`` one of ``== = != < <= > >=``, ``column is null`` /
``column is not null``, joined with ``and`` / ``or`` / ``not`` and parentheses; values are
numbers, quoted strings, ``true`` / ``false``.  It becomes a ``pyarrow.compute`` expression
that ``pyarrow.dataset`` applies while it streams the Parquet files (only the ``text`` column
and the columns the expression names are read).

The integrator wires :func:`add_parser` / :func:`run` into ``pipelines/cli.py``; the module
also runs on its own: ``python -m jawebcorpus.pipelines.train_quality --help``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import sys
from typing import Iterator

__all__ = ["add_parser", "run", "main", "parse_where", "WhereError", "iter_file_texts", "iter_run_texts"]

_MAX_EXPR = 2000
_TOKEN = re.compile(
    r"\s*(?:(?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>==|!=|<=|>=|=|<|>|\(|\))"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)


class WhereError(ValueError):
    """An expression that cannot be used; the message says where."""


def _number(text: str, pos: int) -> int | float:
    """A numeric literal: a 64-bit integer (what a Parquet column can hold) or a finite float."""
    if any(c in text for c in ".eE"):
        val = float(text)
        if not math.isfinite(val):
            raise WhereError(f"the number at character {pos + 1} is too large")
        return val
    if len(text.lstrip("+-")) > 19 or not -(1 << 63) <= int(text) < 1 << 63:
        raise WhereError(f"the integer at character {pos + 1} does not fit in 64 bits")
    return int(text)


def _tokens(expr: str) -> list[tuple[str, object]]:
    if len(expr) > _MAX_EXPR:
        raise WhereError(f"expression longer than {_MAX_EXPR} characters")
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise WhereError(f"cannot read the expression at character {pos + 1}")
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "num":
            val = _number(val, m.start(kind))
        elif kind == "str":
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        out.append((kind, val))
        pos = m.end()
    return out


def parse_where(expr: str, columns: set[str] | None = None):
    """``expr`` as a ``pyarrow.compute.Expression``; ``columns``: the names it may use."""
    import pyarrow.compute as pc

    toks = _tokens(expr)
    if not toks:
        raise WhereError("empty expression")
    i = 0
    used: set[str] = set()

    def peek(k=0):
        return toks[i + k] if i + k < len(toks) else (None, None)

    def take():
        nonlocal i
        t = peek()
        i += 1
        return t

    def is_word(t, *words):
        return t[0] == "word" and str(t[1]).lower() in words

    def parse_or():
        left = parse_and()
        while is_word(peek(), "or"):
            take()
            left = left | parse_and()
        return left

    def parse_and():
        left = parse_not()
        while is_word(peek(), "and"):
            take()
            left = left & parse_not()
        return left

    def parse_not():
        if is_word(peek(), "not"):
            take()
            return ~parse_not()
        return parse_atom()

    def value():
        kind, val = take()
        if kind in ("num", "str"):
            return val
        if kind == "word" and str(val).lower() in ("true", "false"):
            return str(val).lower() == "true"
        raise WhereError(f"expected a number, a quoted string, true or false after the comparison, "
                         f"not {val!r}" if val is not None else "the expression ends after a comparison")

    def parse_atom():
        kind, val = take()
        if kind == "op" and val == "(":
            e = parse_or()
            if take() != ("op", ")"):
                raise WhereError("a '(' is not closed")
            return e
        if kind != "word" or str(val).lower() in ("and", "or", "not", "is", "null", "true", "false"):
            raise WhereError(f"expected a column name, not {val!r}" if val is not None
                             else "the expression ends where a column name should be")
        name = str(val)
        if columns is not None and name not in columns:
            raise WhereError(f"unknown column {name!r}; columns: {', '.join(sorted(columns))}")
        used.add(name)
        field = pc.field(name)
        if is_word(peek(), "is"):
            take()
            negate = False
            if is_word(peek(), "not"):
                take()
                negate = True
            if not is_word(take(), "null"):
                raise WhereError("expected null after 'is'")
            e = field.is_null()
            return ~e if negate else e
        kind, op = take()
        if kind != "op" or op in ("(", ")"):
            raise WhereError(f"expected a comparison after {name!r}")
        v = value()
        return {"==": field == v, "=": field == v, "!=": field != v, "<": field < v,
                "<=": field <= v, ">": field > v, ">=": field >= v}[op]

    e = parse_or()
    if i != len(toks):
        raise WhereError(f"unexpected {toks[i][1]!r} after a complete expression")
    parse_where.last_columns = used  # for the caller: which columns to read
    return e


def iter_file_texts(path: str, text_field: str = "text") -> Iterator[str]:
    """One document per line, or per JSONL record (``.jsonl`` / ``.json`` / ``.ndjson``)."""
    name = path[:-3] if path.endswith(".gz") else path
    opener = gzip.open if path.endswith(".gz") else open
    is_jsonl = name.endswith((".jsonl", ".json", ".ndjson"))
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if is_jsonl:
                try:
                    obj = json.loads(line)
                except ValueError:
                    raise ValueError(f"{path}: line {n} is not JSON") from None
                val = obj.get(text_field) if isinstance(obj, dict) else None
                if isinstance(val, str):
                    yield val
            else:
                yield line


def iter_run_texts(run_dir: str, where: str | None) -> tuple[Iterator[str], dict]:
    """The ``text`` of the documents of a run that match ``where``; and a description."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    data = os.path.join(run_dir, "data")
    if not os.path.isdir(data):
        raise FileNotFoundError(f"no data/ folder in {run_dir} (the output directory of a jawebcorpus run)")
    dataset = ds.dataset(data, format="parquet", partitioning="hive")
    names = set(dataset.schema.names)
    if "text" not in names:
        raise ValueError(f"{run_dir}: its Parquet files have no text column")
    expr = parse_where(where, names) if where else None
    try:  # binds the expression to the columns' types: a comparison they cannot make fails here
        scanner = dataset.scanner(columns=["text"], filter=expr)
    except (pa.ArrowException, OverflowError, TypeError) as exc:
        raise WhereError(f"{where!r} does not fit the columns of {run_dir}: {exc}") from None
    desc = {"run": run_dir, "where": where, "documents": 0}

    def gen():
        for batch in scanner.to_batches():
            for t in batch.column(0).to_pylist():
                if t:
                    desc["documents"] += 1
                    yield t

    return gen(), desc


def training_defaults() -> dict:
    """The training settings' defaults: those of :func:`.quality_training.train_quality_model`,
    which the options below take (one place for them; ``docs/filters.md`` states them)."""
    import inspect

    from .quality_training import train_quality_model

    return {k: p.default for k, p in inspect.signature(train_quality_model).parameters.items()
            if p.default is not inspect.Parameter.empty}


def add_parser(subparsers) -> argparse.ArgumentParser:
    d = training_defaults()
    p = subparsers.add_parser(
        "train-quality",
        help="train a fastText quality classifier (positive vs negative text) for --quality-model",
        description=__doc__.split("\n\n")[0] + " Reports held-out precision, recall and ROC AUC and writes "
                    "MODEL.json (training data, settings) next to the model.",
    )
    src = p.add_argument_group("training text")
    src.add_argument("--positive", action="append", default=[], metavar="FILE",
                     help="positive documents: one per line, or JSONL (.jsonl) with --text-field; repeatable")
    src.add_argument("--negative", action="append", default=[], metavar="FILE",
                     help="negative documents, same formats; repeatable")
    src.add_argument("--text-field", default="text", help="the text field of JSONL files (default: text)")
    src.add_argument("--run", action="append", default=[], metavar="OUT",
                     help="output directory of a jawebcorpus run whose documents --positive-where / "
                          "--negative-where select; repeatable")
    src.add_argument("--positive-where", metavar="EXPR",
                     help='documents of --run that are positive, e.g. "q_too_short == 0 and lang_score > 0.9"')
    src.add_argument("--negative-where", metavar="EXPR", help="documents of --run that are negative")
    src.add_argument("--labels", metavar="LABELS.jsonl",
                     help="graded training: the label file of jawebcorpus annotate (its ok lines' text and grade); "
                          "trains one label per grade (__label__0 …), read as the expected score by "
                          "--quality-model NAME=PATH")
    src.add_argument("--label-field", default="score", metavar="FIELD",
                     help="the grade field of --labels lines (default: score)")
    p.add_argument("--output", "-o", metavar="MODEL.bin", help="where to write the model (and MODEL.bin.json)")
    p.add_argument("--positive-label", default=d["positive_label"])
    p.add_argument("--negative-label", default=d["negative_label"])
    p.add_argument("--tokenize", choices=("chars", "words", "none"), default=d["tokenize"],
                   help="how text becomes fastText tokens: characters, MeCab words, or as is (default %(default)s)")
    p.add_argument("--holdout", type=float, default=d["holdout"],
                   help="share held out for evaluation, chosen by a hash of the seed and each text (default %(default)s)")
    p.add_argument("--threshold", type=float, default=d["threshold"],
                   help="score at which a held-out text counts as positive (default %(default)s)")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--epoch", type=int, default=d["epoch"], help="(default %(default)s)")
    p.add_argument("--lr", type=float, default=d["lr"], help="(default %(default)s)")
    p.add_argument("--dim", type=int, default=d["dim"], help="(default %(default)s)")
    p.add_argument("--word-ngrams", type=int, default=d["word_ngrams"], help="(default %(default)s)")
    p.add_argument("--min-count", type=int, default=d["min_count"], help="(default %(default)s)")
    p.add_argument("--bucket", type=int, default=d["bucket"], help="(default %(default)s)")
    p.add_argument("--loss", choices=("softmax", "ova", "hs", "ns"), default=d["loss"])
    p.add_argument("--threads", type=int, default=d["threads"], help="training threads (1: reproducible models)")
    p.add_argument("--max-chars", type=int, default=d["max_chars"],
                   help="characters of each text used (default %(default)s)")
    p.add_argument("--trainer", metavar="DIR", help="directory holding a fastText build that trains "
                                                     "(default: $JAWEBCORPUS_FASTTEXT_TRAINER, then the cache)")
    p.add_argument("--install-trainer", action="store_true",
                   help="install the training build (fasttext-numpy2 or fasttext-wheel) into --trainer or the "
                        "cache with pip, apart from fasttext-predict, and exit unless --output is given")
    p.set_defaults(func=run)
    return p


def _chain(*its):
    for it in its:
        yield from it


def run(args) -> int:
    from jawebcorpus.corpus.errors import ConfigError
    from .quality_training import TrainerNotFound, install_trainer, train_quality_model

    if args.install_trainer:
        info = install_trainer(args.trainer)
        print(f"fastText trainer: {info['package']} in {info['path']}")
        if not args.output:
            return 0
    if not args.output:
        print("error: --output MODEL.bin is required", file=sys.stderr)
        return 2
    if args.labels:
        return _run_graded(args)
    if (args.positive_where or args.negative_where) and not args.run:
        print("error: --positive-where / --negative-where select documents of --run OUT", file=sys.stderr)
        return 2
    sources = {"positive": [], "negative": []}
    streams = {"positive": [], "negative": []}
    try:
        for side, files in (("positive", args.positive), ("negative", args.negative)):
            for f in files:
                if not os.path.isfile(f):
                    raise FileNotFoundError(f"not a file: {f}")
                streams[side].append(iter_file_texts(f, args.text_field))
                sources[side].append({"file": os.path.abspath(f), "bytes": os.path.getsize(f)})
        for side, where in (("positive", args.positive_where), ("negative", args.negative_where)):
            if where:
                for r in args.run:
                    it, desc = iter_run_texts(r, where)
                    streams[side].append(it)
                    sources[side].append(desc)  # "documents" is filled in while it streams
        if not streams["positive"] or not streams["negative"]:
            print("error: give positive and negative text (--positive / --negative FILE, or --run OUT with "
                  "--positive-where / --negative-where)", file=sys.stderr)
            return 2
        rep = train_quality_model(
            _chain(*streams["positive"]), _chain(*streams["negative"]), args.output,
            positive_label=args.positive_label, negative_label=args.negative_label, tokenize=args.tokenize,
            holdout=args.holdout, seed=args.seed, epoch=args.epoch, lr=args.lr, dim=args.dim,
            word_ngrams=args.word_ngrams, min_count=args.min_count, bucket=args.bucket, loss=args.loss,
            threads=args.threads, max_chars=args.max_chars, threshold=args.threshold, sources=sources,
            trainer_path=args.trainer, log=lambda m: print(m, file=sys.stderr),
        )
    except (WhereError, ConfigError) as exc:  # usage errors, like the others: exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, TrainerNotFound, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    h = rep.record["holdout"]
    d = rep.record["data"]

    def pct(x):
        return "–" if x is None else f"{100 * x:.1f} %"

    print(f"model: {rep.model_path}\nrecord: {rep.record_path}")
    print(f"training texts: {d['positive']['train']} positive, {d['negative']['train']} negative; "
          f"held out: {h['positive']} positive, {h['negative']} negative")
    print(f"held-out precision {pct(h['precision'])}, recall {pct(h['recall'])}, accuracy {pct(h['accuracy'])} "
          f"(score ≥ {h['threshold']})")
    if h["roc_auc"] is None:
        print("held-out ROC AUC: – (no held-out text of one class; raise --holdout)")
    else:
        print(f"held-out ROC AUC: {h['roc_auc']:.3f} ({h['positive']} positive and {h['negative']} negative texts "
              f"held out, {100 * args.holdout:g} % by seed {args.seed})")
    return 0


def _run_graded(args) -> int:
    """``--labels``: train a graded model and print its held-out evaluation."""
    from jawebcorpus.corpus.errors import ConfigError

    from .quality_graded import LabelStats, iter_labels, train_graded_model
    from .quality_training import TrainerNotFound

    if args.positive or args.negative or args.run or args.positive_where or args.negative_where:
        print("error: --labels trains from the label file alone: leave out --positive, --negative and --run",
              file=sys.stderr)
        return 2
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", args.label_field):
        print(f"error: --label-field {args.label_field!r} is not a field name", file=sys.stderr)
        return 2
    if not os.path.isfile(args.labels):
        print(f"error: --labels {args.labels}: not a file", file=sys.stderr)
        return 2
    stats = LabelStats()
    try:
        rep = train_graded_model(
            iter_labels(args.labels, args.label_field, args.text_field, stats), args.output,
            tokenize=args.tokenize, holdout=args.holdout, seed=args.seed, epoch=args.epoch, lr=args.lr,
            dim=args.dim, word_ngrams=args.word_ngrams, min_count=args.min_count, bucket=args.bucket,
            loss=args.loss, threads=args.threads, max_chars=args.max_chars,
            sources=[{"labels": os.path.abspath(args.labels), "bytes": os.path.getsize(args.labels),
                      "label_field": args.label_field}],
            trainer_path=args.trainer, log=lambda m: print(m, file=sys.stderr))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TrainerNotFound, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    h, d = rep.record["holdout"], rep.record["data"]

    def num(x, fmt="{:.3f}"):
        return "–" if x is None else fmt.format(x)

    print(f"model: {rep.model_path}\nrecord: {rep.record_path}")
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(stats.skipped.items())) or "none"
    print(f"label file: {stats.lines} lines, {stats.usable} usable; skipped: {skipped}")
    print("grade  documents  train  held out")
    for g, c in d["grades"].items():
        print(f"{g:>5}  {c['documents']:>9}  {c['train']:>5}  {c['holdout']:>8}")
    print(f"held out ({h['documents']} texts, {100 * args.holdout:g} % by seed {args.seed}): "
          f"accuracy {num(h['accuracy'], '{:.1%}')}, Spearman (expected score vs grade) {num(h['spearman'])}, "
          f"mean absolute error {num(h['mean_abs_error'], '{:.2f}')}")
    print("ROC AUC of the expected score at each cut: " + ", ".join(
        f"grade {cut} {num(v['roc_auc'])} ({v['positive']} vs {v['negative']})" for cut, v in h["roc_auc_at"].items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jawebcorpus")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["train-quality", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
