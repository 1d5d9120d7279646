"""Host filtering: built-in host suffixes and the UT1 blocklist (Université Toulouse Capitole).

* ``suffixes``: hosts ending in ``.5ch.net`` or ``wikipedia.org`` are rejected (Wikipedia is
  added to training separately).  ``suffix_match="domain"`` matches whole labels
  (``ja.wikipedia.org`` and ``wikipedia.org``, not ``notwikipedia.org``); ``"string"`` is
  Swallow's plain ``str.endswith``.
* UT1: a directory in its published layout, ``<root>/<category>/domains`` (one domain per
  line), for a configurable set of categories; Swallow's set is :data:`SWALLOW_UT1_CATEGORIES`.
  ``match="parent"`` also rejects a host whose parent domain is listed (``www.example.com``
  is caught by ``example.com``, which Swallow's exact matching missed); ``"exact"`` is Swallow's.

No third-party list ships with the project.  The UT1 lists hold millions of domains, so they
are kept as a sorted array of 64-bit BLAKE2b hashes (8 bytes a domain; 4.6 M adult domains
≈ 37 MB) with a category index, looked up by binary search; two different domains
colliding in 64 bits is a ~1e-6 chance over the whole list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass

import numpy as np

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.paths import is_remote, local_path
from jawebcorpus.corpus.record import Doc, host_of
from jawebcorpus.corpus.stage import Asset, Count, Reason, Resources, Stage

__all__ = ["HostsStage", "HostsConfig", "HostFilter", "HostVerdict", "SWALLOW_UT1_CATEGORIES"]

SWALLOW_UT1_CATEGORIES = (
    "adult", "shopping", "cryptojacking", "games", "redirector", "strict_redirector", "vpn",
    "strong_redirector", "social_networks", "ddos", "gambling", "publicite", "bitcoin", "dating",
    "phishing", "filehosting", "agressif", "chat", "mixed_adult", "celebrity", "financial", "manga",
    "remote-control", "webmail", "malware", "doh", "warez",
)


_CATEGORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class HostsConfig:
    suffixes: tuple[str, ...] = ("5ch.net", "wikipedia.org")
    suffix_match: str = "domain"  # domain | string
    ut1_dir: str | None = None  # None: no blocklist
    ut1_categories: tuple[str, ...] = SWALLOW_UT1_CATEGORIES
    match: str = "parent"  # parent | exact

    def validate(self) -> None:
        if self.suffix_match not in ("domain", "string"):
            raise ValueError("hosts.suffix_match must be domain or string")
        if self.match not in ("parent", "exact"):
            raise ValueError("hosts.match must be parent or exact")
        if isinstance(self.ut1_categories, str) or not all(
                isinstance(c, str) and _CATEGORY_RE.fullmatch(c) for c in self.ut1_categories):
            raise ConfigError("hosts.ut1_categories must be UT1 category names (letters, digits, _ and -), "
                              "e.g. adult,gambling")
        if self.ut1_dir is not None:
            if not isinstance(self.ut1_dir, str) or not self.ut1_dir.strip():
                raise ConfigError("hosts.ut1_dir must be a non-empty path or unset")
            if not is_remote(self.ut1_dir) and not os.path.isdir(local_path(self.ut1_dir)):
                raise ValueError(f"hosts.ut1_dir is not a directory: {self.ut1_dir}")


@dataclass(frozen=True, slots=True)
class HostVerdict:
    reason: str  # host_suffix or ut1_<category>
    matched: str  # the suffix or listed domain that matched


def _h64(domain: str) -> int:
    return int.from_bytes(hashlib.blake2b(domain.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _normalize(host: str) -> str:
    return host.strip().rstrip(".").lower()


class HostFilter:
    def __init__(self, cfg: HostsConfig):
        cfg.validate()
        self.cfg = cfg
        self._suffixes = tuple(s.lower().lstrip(".") for s in cfg.suffixes)
        self.categories: list[str] = []
        hashes: list[np.ndarray] = []
        cats: list[np.ndarray] = []
        self.loaded: dict[str, int] = {}
        if cfg.ut1_dir:
            for ci, cat in enumerate(cfg.ut1_categories):
                path = os.path.join(cfg.ut1_dir, cat, "domains")
                self.categories.append(cat)
                if not os.path.exists(path):
                    self.loaded[cat] = 0
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    hs = [_h64(_normalize(line)) for line in fh if line.strip() and not line.startswith("#")]
                self.loaded[cat] = len(hs)
                hashes.append(np.array(hs, dtype=np.int64))
                cats.append(np.full(len(hs), ci, dtype=np.int16))
            if not any(self.loaded.values()):
                raise ValueError(
                    f"no UT1 'domains' file found under {cfg.ut1_dir} for categories "
                    f"{', '.join(cfg.ut1_categories)} (expected <dir>/<category>/domains)"
                )
        if hashes:
            h = np.concatenate(hashes)
            c = np.concatenate(cats)
            order = np.argsort(h, kind="stable")
            self._hashes, self._cats = h[order], c[order]
        else:
            self._hashes = np.zeros(0, dtype=np.int64)
            self._cats = np.zeros(0, dtype=np.int16)

    def _suffix(self, host: str) -> str | None:
        for s in self._suffixes:
            if self.cfg.suffix_match == "string":
                if host.endswith(s):
                    return s
            elif host == s or host.endswith("." + s):
                return s
        return None

    def _listed(self, domain: str) -> int:
        if not len(self._hashes):
            return -1
        h = _h64(domain)
        i = int(np.searchsorted(self._hashes, h))
        if i < len(self._hashes) and self._hashes[i] == h:
            return int(self._cats[i])
        return -1

    def check(self, host: str) -> HostVerdict | None:
        """The reason a host is rejected, or None."""
        host = _normalize(host)
        if not host:
            return None
        s = self._suffix(host)
        if s is not None:
            return HostVerdict("host_suffix", s)
        candidates = [host]
        if self.cfg.match == "parent":
            labels = host.split(".")
            candidates += [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
        for dom in candidates:
            ci = self._listed(dom)
            if ci >= 0:
                return HostVerdict(f"ut1_{self.categories[ci]}", dom)
        return None


class HostsStage(Stage):
    """hosts: the URL's host against built-in suffixes and the UT1 blocklist."""

    name = "hosts"
    summary = "built-in suffixes and the UT1 blocklist"
    settings = HostsConfig
    reasons = (
        *Reason.kept("not listed", "allowed"),
        *Reason.dropped("ends in one of hosts.suffixes", "host_suffix"),
        Reason("ut1_<category>", "dropped", "the host or a parent domain is in UT1's <category>/domains",
               r"ut1_[A-Za-z0-9_\-]+"),
    )

    @classmethod
    def assets(cls, settings: HostsConfig) -> tuple[Asset, ...]:
        return (Asset("UT1 blocklist directory", settings.ut1_dir, is_dir=True),)

    def setup(self, config, resources: Resources) -> None:
        cfg = config.hosts
        if cfg.ut1_dir:  # on object storage: the listed categories' files, copied once per machine
            local = resources.local_dir(cfg.ut1_dir, [f"{c}/domains" for c in cfg.ut1_categories])
            cfg = dataclasses.replace(cfg, ut1_dir=local)
        self.hosts: HostFilter = resources.get(("hosts", cfg), lambda: HostFilter(cfg))

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        n = len(doc.text or "")
        verdict = self.hosts.check(host_of(doc.url))
        if verdict is not None:
            count.dropped(verdict.reason, chars=n)
            return None
        count.kept("allowed", chars=n)
        return doc
