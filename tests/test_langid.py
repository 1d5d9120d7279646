"""``filters/langid.py``: fastText lid.176 on the lingua sentences, and the kana check."""

from __future__ import annotations

from pathlib import Path

import pytest

from jawebcorpus.corpus.stage import Count, LocalResources
from jawebcorpus.filters.langid import LangIdConfig, LangIdStage
from jawebcorpus.pipelines.config import PipelineConfig
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.filters.langid import LanguageIdentifier, default_model_path, kana_ratio

THRESHOLD = 0.5
MIN_KANA_RATIO = 0.05


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


def sentences(shared: Path, lang: str) -> list[str]:
    path = shared / "testdata" / "langid" / "lingua" / "sentences" / f"{lang}.txt"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def is_ja(lid, text: str, min_kana_ratio: float, threshold: float = THRESHOLD) -> bool:
    if lid.predict(text).ja_score < threshold:
        return False
    return min_kana_ratio <= 0 or kana_ratio(text) >= min_kana_ratio


@pytest.mark.shared
@pytest.mark.parametrize("min_kana_ratio", [0.0, MIN_KANA_RATIO])
def test_japanese_recall(lid, shared_dir, min_kana_ratio):
    ja = sentences(shared_dir, "ja")
    assert len(ja) == 412
    hits = sum(is_ja(lid, s, min_kana_ratio) for s in ja)
    assert hits / len(ja) >= 0.98, f"{hits}/{len(ja)}"


@pytest.mark.shared
def test_chinese_taken_for_japanese(lid, shared_dir):
    zh = sentences(shared_dir, "zh")
    assert len(zh) == 729
    fooled = [s for s in zh if lid.predict(s).ja_score >= THRESHOLD]
    assert len(fooled) / len(zh) <= 0.03, f"{len(fooled)}/{len(zh)}"
    # the kana check removes every one of them
    assert [s for s in fooled if kana_ratio(s) >= MIN_KANA_RATIO] == []


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["ko", "en", "de", "fr", "es", "ru", "vi", "th", "ar", "id", "pt", "it"])
def test_other_languages_are_not_japanese(lid, shared_dir, lang):
    texts = sentences(shared_dir, lang)
    assert len(texts) >= 100
    fooled = [s for s in texts if is_ja(lid, s, MIN_KANA_RATIO)]
    assert len(fooled) / len(texts) <= 0.01, fooled[:5]


@pytest.mark.shared
def test_word_pairs_kana_ratio_separates_japanese_from_chinese(shared_dir):
    root = shared_dir / "testdata" / "langid" / "lingua" / "word-pairs"
    ja = [w for w in root.joinpath("ja.txt").read_text(encoding="utf-8").split() if w]
    zh = [w for w in root.joinpath("zh.txt").read_text(encoding="utf-8").split() if w]
    assert ja and zh
    assert all(kana_ratio(w) == 0.0 for w in zh)
    assert sum(kana_ratio(w) > 0 for w in ja) > 0


@pytest.mark.shared
def test_langid_stage_on_labelled_text(lid, shared_dir):
    """The langid stage records one outcome per document, and its decisions follow the config."""
    zh = sentences(shared_dir, "zh")
    ja = sentences(shared_dir, "ja")
    fooled = [s for s in zh if lid.predict(s).ja_score >= THRESHOLD]
    stats = StatsAccumulator()
    stage = LangIdStage()
    stage.setup(PipelineConfig(), LocalResources())
    count = Count(LangIdStage, stats)
    texts = ja[:50] + fooled + zh[:20]
    kept = []
    for i, text in enumerate(texts):
        doc = Doc("CC-MAIN-2024-10", "f.warc.gz", i, 1, f"<urn:{i}>", "", "https://x.example/", text=text)
        if stage.apply(doc, count.bind(doc.snapshot, 0)) is not None:
            kept.append(text)
            assert doc.lang_score >= THRESHOLD
    total = sum(v[0] for _, v in stats.items())
    assert total == len(texts)
    assert not set(kept) & set(fooled) and not set(kept) & set(zh[:20])
    expected = [t for t in texts if is_ja(lid, t, LangIdConfig().min_kana_ratio)]
    assert kept == expected and len(kept) >= 0.95 * 50


def test_scores_and_edge_cases(lid):
    assert lid.predict("").label == "unknown"
    assert lid.predict("   \n\t ").ja_score == 0.0
    res = lid.predict("これは日本語の文章です。\n改行があっても\tかまいません。")
    assert res.label == "ja" and 0.5 <= res.ja_score <= 1.0 and res.score == res.ja_score
    res = lid.predict("This is an English sentence about the weather today.")
    assert res.label == "en" and res.ja_score < 0.1


def test_kana_ratio():
    assert kana_ratio("") == 0.0
    assert kana_ratio("abc 123") == 0.0
    assert kana_ratio("ひらがな") == 1.0
    assert kana_ratio("漢字") == 0.0
    assert kana_ratio("日本語です") == pytest.approx(2 / 5)
    assert kana_ratio("カタカナ々") == pytest.approx(4 / 5)  # 々 counts with the kanji


def test_model_path_and_missing_model(tmp_path):
    assert Path(default_model_path()).name == "lid.176.ftz"
    with pytest.raises(FileNotFoundError):
        LanguageIdentifier(str(tmp_path / "nope.ftz"))
