"""jawebcorpus: Common Crawl WARC snapshots to a clean, deduplicated Japanese corpus.

The code lives in the repository folders ``corpus/``, ``filters/``, ``dedup/`` (plain Python,
no Beam) and ``pipelines/`` (the Beam stages and the command line); they are installed as
``jawebcorpus.corpus``, ``jawebcorpus.filters``, ``jawebcorpus.dedup`` and
``jawebcorpus.pipelines``.
"""

__version__ = "0.1.0"
