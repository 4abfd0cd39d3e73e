"""Data sources (audiofolder, MSP-Podcast layout, CSV manifest) and their bad-input handling.

Audio is real: espeak-ng speech from the demo corpus generator, decoded by torchcodec/FFmpeg.
"""

import csv
import json
import shutil
import subprocess

import numpy as np
import pytest
from datasets import Audio

from modeling_emosphere.training.data import CropTransform, DataArguments, DataQualityError, prepare_data
from modeling_emosphere.training.msp_podcast import load_msp_podcast
from modeling_emosphere.training.demo_corpus import DemoCorpusConfig, generate_demo_corpus

OCTANT = dict(scheme="octant", bin_width_deg=45.0, core_radius=None)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate_demo_corpus(tmp_path_factory.mktemp("corpus"), DemoCorpusConfig(clips_per_split=(10, 3, 3)))


def rows_of(corpus, split):
    with open(corpus / split / "metadata.csv") as handle:
        return list(csv.DictReader(handle))


def prepare(tmp_path, **kwargs):
    args = DataArguments(**kwargs)
    return prepare_data(args, (1.0, 7.0), OCTANT, 8, tmp_path / "report.json", min_samples=400)


def write_manifest(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "arousal", "valence", "dominance", "split"])
        writer.writerows(rows)


def manifest_rows(corpus):
    return [
        [str(corpus / split / row["file_name"]), row["arousal"], row["valence"], row["dominance"], split]
        for split in ("train", "validation", "test")
        for row in rows_of(corpus, split)
    ]


def test_demo_corpus_is_deterministic_and_disjoint(corpus, tmp_path):
    again = generate_demo_corpus(tmp_path / "again", DemoCorpusConfig(clips_per_split=(10, 3, 3)))
    for split in ("train", "validation", "test"):
        assert rows_of(corpus, split) == rows_of(again, split)
        assert (corpus / split / f"{split}_00000.wav").read_bytes() == (again / split / f"{split}_00000.wav").read_bytes()
    speakers = {s: {r["speaker"] for r in rows_of(corpus, s)} for s in ("train", "validation", "test")}
    texts = {s: {r["text"] for r in rows_of(corpus, s)} for s in ("train", "validation", "test")}
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not speakers[a] & speakers[b] and not texts[a] & texts[b]


def test_audiofolder_source_is_decoded_at_16k_with_stats(corpus, tmp_path):
    data = prepare(tmp_path, dataset_name="audiofolder", data_dir=str(corpus))
    train = data.splits["train"]
    assert len(train) == 10 and data.report["skipped"] == 0
    item = train[0]
    assert item["audio"]["sampling_rate"] == 16000
    assert item["length"] == min(len(item["audio"]["array"]), 12 * 16000)
    assert 0 < data.waveform_std < 1 and abs(data.waveform_mean) < 0.01
    assert len(data.region_class_weights) == 8
    # w_c = N / (K n_c): the weights of present classes times their counts sum to N / K each.
    assert sum(w > 0 for w in data.region_class_weights) >= 2


def test_msp_podcast_layout(corpus, tmp_path):
    root = tmp_path / "msp"
    (root / "Labels").mkdir(parents=True)
    (root / "Audios").mkdir()
    split_sets = {"train": "Train", "validation": "Development", "test": "Test1"}
    with open(root / "Labels" / "labels_consensus.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"])
        for split, split_set in split_sets.items():
            for row in rows_of(corpus, split):
                name = f"MSP-PODCAST_{split}_{row['file_name']}"
                shutil.copy(corpus / split / row["file_name"], root / "Audios" / name)
                writer.writerow([name, "N", row["arousal"], row["valence"], row["dominance"], "1", "F", split_set])
    dataset = load_msp_podcast(root)
    assert {name: len(part) for name, part in dataset.items()} == {"train": 10, "validation": 3, "test": 3}
    data = prepare(tmp_path, msp_podcast_dir=str(root))
    assert data.splits["validation"][0]["file_name"].startswith("MSP-PODCAST_validation_")


def test_msp_podcast_without_labels_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="labels_consensus.csv not found"):
        prepare(tmp_path, msp_podcast_dir=str(tmp_path))


def test_manifest_source(corpus, tmp_path):
    write_manifest(tmp_path / "manifest.csv", manifest_rows(corpus))
    data = prepare(tmp_path, manifest_csv=str(tmp_path / "manifest.csv"))
    assert [len(data.splits[s]) for s in ("train", "validation", "test")] == [10, 3, 3]


def test_manifest_with_missing_column_names_it(tmp_path):
    (tmp_path / "manifest.csv").write_text("path,arousal,valence,split\nx.wav,1,2,train\n")
    with pytest.raises(ValueError, match=r"has no column\(s\) \['dominance'\]"):
        prepare(tmp_path, manifest_csv=str(tmp_path / "manifest.csv"))


def test_unknown_column_name_fails_at_start(corpus, tmp_path):
    with pytest.raises(ValueError, match=r"no column\(s\) \['EmoAct'\]"):
        prepare(tmp_path, dataset_name="audiofolder", data_dir=str(corpus), arousal_column="EmoAct")


def bad_manifest(corpus, tmp_path):
    rows = manifest_rows(corpus)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF this is not audio")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", str(tmp_path / "empty.wav")],
        check=True,
    )
    rows += [
        [str(tmp_path / "missing.wav"), 4, 4, 4, "train"],
        [str(tmp_path / "corrupt.wav"), 4, 4, 4, "train"],
        [str(tmp_path / "empty.wav"), 4, 4, 4, "train"],
        [rows[0][0], "", 4, 4, "train"],
        [rows[0][0], 4, 9.5, 4, "train"],
    ]
    write_manifest(tmp_path / "manifest.csv", rows)
    return tmp_path / "manifest.csv"


def test_bad_rows_are_reported_and_skipped(corpus, tmp_path):
    manifest = bad_manifest(corpus, tmp_path)
    data = prepare(tmp_path, manifest_csv=str(manifest), max_bad_fraction=0.5)
    assert len(data.splits["train"]) == 10
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["skipped"] == 5 and report["by_split"]["train"] == {"total": 15, "skipped": 5}
    problems = [row["problem"] for row in report["rows"]]
    assert problems[0] == "missing file"
    assert problems[1].startswith("undecodable audio")
    assert problems[2] == "empty clip"
    assert problems[3] == "missing arousal label"
    assert problems[4] == "valence label 9.5 outside [1, 7]"
    assert report["rows"][0]["audio"].endswith("missing.wav")


def test_too_many_bad_rows_stop_before_training_with_the_report(corpus, tmp_path):
    manifest = bad_manifest(corpus, tmp_path)
    with pytest.raises(DataQualityError, match=r"5 of 15 clips of split 'train' are unusable.*report.json"):
        prepare(tmp_path, manifest_csv=str(manifest), max_bad_fraction=0.1)
    assert json.loads((tmp_path / "report.json").read_text())["skipped"] == 5


def test_wrong_label_scale_fails_at_start_naming_the_column(corpus, tmp_path):
    rows = [[path, float(a) * 10, v, d, split] for path, a, v, d, split in manifest_rows(corpus)]
    write_manifest(tmp_path / "manifest.csv", rows)
    with pytest.raises(ValueError, match=r"Column 'arousal' of split 'train' holds values in .*label_scale_min"):
        prepare(tmp_path, manifest_csv=str(tmp_path / "manifest.csv"))


def test_decoded_splits_resample_to_16k(corpus, tmp_path):
    data = prepare(tmp_path, dataset_name="audiofolder", data_dir=str(corpus))
    assert data.splits["test"].features["audio"] == Audio(sampling_rate=16000, num_channels=1)


def is_window_of(window: np.ndarray, samples: np.ndarray) -> bool:
    starts = np.flatnonzero(samples[: samples.size - window.size + 1] == window[0])
    return any(np.array_equal(samples[s : s + window.size], window) for s in starts)


def test_cached_waveforms_crop_like_decoding(corpus, tmp_path):
    """--cache_waveforms keeps the scan's decoded samples: the audio column stays a path (no decoder per
    item), evaluation crops equal the decoded ones, training crops are random windows of the clip."""
    decoded = prepare(tmp_path / "decoded", dataset_name="audiofolder", data_dir=str(corpus)).splits["train"]
    cached = prepare(tmp_path / "cached", dataset_name="audiofolder", data_dir=str(corpus), cache_waveforms=True)
    cached = cached.splits["train"]
    assert cached.features["audio"].decode is False
    seconds = 1.0  # shorter than every clip
    first = decoded.with_transform(CropTransform(seconds, random=False))[:4]
    first_cached = cached.with_transform(CropTransform(seconds, random=False))[:4]
    assert first["labels"] == first_cached["labels"]
    for from_decoder, from_cache in zip(first["input_values"], first_cached["input_values"]):
        np.testing.assert_allclose(from_cache, from_decoder, atol=1e-6)
    full = np.frombuffer(cached[0]["waveform"], dtype=np.float32)
    windows = [cached.with_transform(CropTransform(seconds, random=True))[0]["input_values"] for _ in range(4)]
    assert all(w.shape == (16000,) and is_window_of(w, full) for w in windows)
    assert len({w.tobytes() for w in windows}) > 1  # the window moves
