"""Bad input raises a ValueError that names the problem and the expected form."""

import numpy as np
import pytest
import torch
from conftest import TINY_RECEPTIVE_FIELD, tiny_config
from transformers import BertConfig

from modeling_emosphere import EmoSphereConfig, EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition


@pytest.fixture(scope="module")
def model():
    return EmoSphereForSpeechEmotionRecognition(tiny_config()).eval()


def test_waveform_of_wrong_rank(model):
    with pytest.raises(ValueError, match=r"\(batch, samples\).*got shape \(1, 2, 1000\)"):
        model(torch.zeros(1, 2, 1000))


def test_attention_mask_of_wrong_shape(model):
    with pytest.raises(ValueError, match="attention_mask must have the shape"):
        model(torch.zeros(2, 1000), attention_mask=torch.ones(2, 999))


def test_all_padding_item_is_named(model):
    mask = torch.ones(3, 1000, dtype=torch.long)
    mask[1] = 0
    with pytest.raises(ValueError, match="Batch item 1 is empty"):
        model(torch.zeros(3, 1000), attention_mask=mask)


def test_input_shorter_than_receptive_field(model):
    assert model.emosphere.min_input_samples == TINY_RECEPTIVE_FIELD
    with pytest.raises(ValueError, match="19 valid samples, shorter than the encoder's receptive field of 20"):
        model(torch.zeros(1, TINY_RECEPTIVE_FIELD - 1))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_waveform(model, bad):
    values = torch.zeros(2, 1000)
    values[1, 10] = bad
    with pytest.raises(ValueError, match=r"NaN or inf in batch item\(s\) \[1\]"):
        model(values)


def test_non_finite_labels(model):
    with pytest.raises(ValueError, match=r"labels contain NaN or inf in batch item\(s\) \[0\]"):
        model(torch.zeros(2, 1000), labels=torch.tensor([[float("nan"), 4.0, 4.0], [4.0, 4.0, 4.0]]))


def test_labels_outside_scale(model):
    with pytest.raises(ValueError, match=r"item\(s\) \[1\] lie outside the configured label scale \[1.0, 7.0\]"):
        model(torch.zeros(2, 1000), labels=torch.tensor([[4.0, 4.0, 4.0], [4.0, 0.0, 4.0]]))


def test_labels_of_wrong_shape(model):
    with pytest.raises(ValueError, match=r"labels must be \(batch, 3\)"):
        model(torch.zeros(2, 1000), labels=torch.ones(2))


def test_unknown_pooling_type():
    with pytest.raises(ValueError, match="Unknown pooling_type 'max'"):
        tiny_config(pooling_type="max")


def test_unknown_region_scheme():
    with pytest.raises(ValueError, match="Unknown region_scheme 'cube'"):
        tiny_config(region_scheme="cube")


def test_encoder_that_is_not_audio():
    with pytest.raises(ValueError, match="model_type='bert'"):
        EmoSphereConfig(encoder_config=BertConfig())


def test_class_weights_of_wrong_length():
    with pytest.raises(ValueError, match="region_class_weights has 3 values but the 'octant' scheme has 8"):
        tiny_config(region_class_weights=[1.0, 1.0, 1.0])


def test_feature_extractor_rejects_bad_audio():
    extractor = EmoSphereFeatureExtractor()
    with pytest.raises(ValueError, match="Item 1 is empty"):
        extractor([np.zeros(100), np.zeros(0)], sampling_rate=16000)
    with pytest.raises(ValueError, match="Item 0 contains NaN or inf"):
        extractor(np.array([0.0, np.nan, 0.0]), sampling_rate=16000)
    with pytest.raises(ValueError, match="Item 0 has shape \\(2, 100\\); expected mono"):
        extractor([np.zeros((2, 100))], sampling_rate=16000)
    with pytest.raises(ValueError, match="at 8000 Hz given to a feature extractor for 16000 Hz"):
        extractor(np.zeros(100), sampling_rate=8000)
    with pytest.raises(ValueError, match="Unknown normalization 'peak'"):
        EmoSphereFeatureExtractor(normalization="peak")
