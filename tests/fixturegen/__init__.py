"""The project's own test fixtures, written or generated here (no file from ``../shared``).

A fresh clone has no ``../shared``; these let it still test reading, charsets, extraction, the
filters and dedup on realistic input:

* :mod:`.texts`: Japanese articles, Chinese, Korean and European sentences, page boilerplate,
  all written for this project;
* :mod:`.pages`: HTML pages built from them in every Japanese encoding (declared in the HTTP
  header, in ``<meta>``, or nowhere) and in the CJK encodings that look like Japanese (GBK,
  Big5, EUC-KR …), each with its true codec and text; pages whose main text is known, wrapped
  in navigation, sidebars and footers;
* :mod:`.warcs`: WARC records and files built in code, a small Common-Crawl-shaped crawl of two
  snapshots (re-crawled and mirrored pages, expected outcome of every capture) and edge-case
  files (several records in one gzip member, records split across members, chunked and
  compressed bodies, clipped, truncated, ARC, other compressions).

Everything is deterministic (fixed seeds, gzip mtime 0) and built at test time into temporary
folders by the fixtures in ``tests/conftest.py``: nothing generated is committed.

Licence: part of jawebcorpus (Apache-2.0).  All text was written for the project; sites,
people and events are invented; hosts are under ``.example.*`` domains.
"""
