"""Feature extractor: normalisation modes, padding and attention mask."""

import numpy as np
import pytest

from modeling_emosphere import EmoSphereFeatureExtractor


def test_global_normalisation_uses_stored_mean_and_std_and_keeps_loudness():
    extractor = EmoSphereFeatureExtractor(normalization="global", waveform_mean=0.5, waveform_std=2.0)
    quiet, loud = np.full(4, 1.5), np.full(4, 4.5)
    out = extractor([quiet, loud], sampling_rate=16000, return_tensors="np")
    np.testing.assert_allclose(out["input_values"], [[0.5] * 4, [2.0] * 4])


def test_utterance_normalisation_gives_zero_mean_unit_variance():
    extractor = EmoSphereFeatureExtractor(normalization="utterance")
    audio = np.random.default_rng(0).normal(3.0, 5.0, size=16000)
    values = extractor(audio, sampling_rate=16000, return_tensors="np")["input_values"][0]
    assert abs(values.mean()) < 1e-5 and abs(values.std() - 1) < 1e-4


def test_padding_and_attention_mask():
    extractor = EmoSphereFeatureExtractor(normalization="none")
    out = extractor([np.ones(3), np.ones(5)], sampling_rate=16000, return_tensors="pt")
    assert out["input_values"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]


@pytest.mark.parametrize("normalization", ["global", "utterance", "none"])
def test_round_trip_keeps_settings(tmp_path, normalization):
    extractor = EmoSphereFeatureExtractor(normalization=normalization, waveform_mean=0.1, waveform_std=0.3)
    extractor.save_pretrained(tmp_path)
    loaded = EmoSphereFeatureExtractor.from_pretrained(tmp_path)
    assert (loaded.normalization, loaded.waveform_mean, loaded.waveform_std) == (normalization, 0.1, 0.3)
