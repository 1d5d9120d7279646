"""Language ID (``filters/langid.py``) and NG words (``filters/ngwords.py``) on text written for
the project (``tests/fixturegen/texts.py``) and the bundled sample's sentences: the checks
``test_langid.py`` and ``test_ngwords.py`` run on ``../shared``'s lingua sentences, without it.
(``test_quality.py`` runs its reference comparison on the same sentences.)"""

from __future__ import annotations

import random

import pytest

from fixturegen.pages import _random_text, _table_chars
from fixturegen.texts import KO, KO_CHAT, OTHER_LANGUAGES, ZH_HANS, ZH_HANT, ja_sentences, sample_sentences
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stage import Count, LocalResources
from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.filters.langid import LangIdConfig, LangIdStage, LanguageIdentifier, kana_ratio
from jawebcorpus.filters.ngwords import NgMatcher, NgWordsConfig
from jawebcorpus.pipelines.config import PipelineConfig

from test_langid import MIN_KANA_RATIO, THRESHOLD, is_ja


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.fixture(scope="module")
def ja() -> list[str]:
    sents = ja_sentences() + sample_sentences()
    assert len(sents) == len(set(sents)) > 300
    return sents


@pytest.fixture(scope="module")
def zh() -> list[str]:
    """Chinese written here (simplified and traditional) and sentences of characters drawn
    from GB2312's level-1 and Big5's frequent hanzi."""
    rng = random.Random(7)
    drawn = (_random_text(rng, _table_chars("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)), 400, "。")
             + _random_text(rng, _table_chars("big5", range(0xA4, 0xC6), range(0x40, 0xFF)), 400, "。"))
    assert all(kana_ratio(s) == 0 for s in drawn)
    return ZH_HANS[1] + ZH_HANT[1] + drawn


@pytest.mark.parametrize("min_kana_ratio", [0.0, MIN_KANA_RATIO])
def test_japanese_recall(lid, ja, min_kana_ratio):
    hits = sum(is_ja(lid, s, min_kana_ratio) for s in ja)
    assert hits / len(ja) >= 0.98, f"{hits}/{len(ja)}"


def test_chinese_taken_for_japanese_is_removed_by_the_kana_check(lid, zh):
    written = ZH_HANS[1] + ZH_HANT[1]
    fooled = [s for s in written if lid.predict(s).ja_score >= THRESHOLD]
    # fastText alone takes some of the written traditional Chinese for Japanese …
    assert 0 < len(fooled) <= 0.25 * len(written), f"{len(fooled)}/{len(written)}"
    # … and many strings of hanzi drawn at random; the kana check removes every one of them
    fooled = [s for s in zh if lid.predict(s).ja_score >= THRESHOLD]
    assert len(fooled) >= 10
    assert [s for s in fooled if kana_ratio(s) >= MIN_KANA_RATIO] == []


@pytest.mark.parametrize("lang", sorted(OTHER_LANGUAGES) + ["ko"])
def test_other_languages_are_not_japanese(lid, lang):
    texts = KO[1] + KO_CHAT[1] if lang == "ko" else OTHER_LANGUAGES[lang]
    assert len(texts) >= 6
    assert [s for s in texts if is_ja(lid, s, MIN_KANA_RATIO)] == []
    assert all(lid.predict(s).label == lang for s in texts), lang


def test_langid_stage_on_labelled_text(lid, ja, zh):
    """The langid stage records one outcome per document, and its decisions follow the config."""
    fooled = [s for s in zh if lid.predict(s).ja_score >= THRESHOLD]
    others = [s for lang in sorted(OTHER_LANGUAGES) for s in OTHER_LANGUAGES[lang][:2]]
    texts = ja[:50] + fooled + zh[:20] + others
    stats = StatsAccumulator()
    stage = LangIdStage()
    stage.setup(PipelineConfig(), LocalResources())
    count = Count(LangIdStage, stats)
    kept = []
    for i, text in enumerate(texts):
        doc = Doc("CC-MAIN-2023-14", "f.warc.gz", i, 1, f"<urn:{i}>", "", "https://x.example/", text=text)
        if stage.apply(doc, count.bind(doc.snapshot, 0)) is not None:
            kept.append(text)
            assert doc.lang_score >= THRESHOLD
    assert sum(v[0] for _, v in stats.items()) == len(texts)
    reasons = {k[3]: v[0] for k, v in stats.items()}
    assert reasons["ja"] == len(kept) and reasons["too_few_kana"] > 0 and reasons["below_threshold"] > 0
    assert kept == [t for t in texts if is_ja(lid, t, LangIdConfig().min_kana_ratio)]
    assert kept == ja[:50]


# -- NG words ----------------------------------------------------------------------------------
def test_clean_japanese_documents_are_never_rejected(ja):
    """Documents of clean prose: no rejection in either mode, and the morpheme mode finds no
    term where the naive mode's only hits are parts of longer words."""
    rng = random.Random(20240601)
    docs = ["\n".join(rng.sample(ja, 60)) for _ in range(100)]
    docs += ["\n".join(ja[i:i + 60]) for i in range(0, len(ja) - 59, 60)]
    naive, morpheme = NgMatcher(NgWordsConfig(mode="naive")), NgMatcher(NgWordsConfig(mode="morpheme"))
    for d in docs:
        assert not naive.scan(d).rejected
        res = morpheme.scan(d)
        assert not res.rejected and res.hits == (), res.hits


def test_most_clean_sentences_need_no_tagger(ja):
    m = NgMatcher(NgWordsConfig())
    no_candidate = [s for s in ja if not m.has_candidate(s)]
    assert len(no_candidate) >= 0.8 * len(ja)
    for s in no_candidate:
        assert m.scan(s).hits == ()
    assert m.tagger_calls == 0
