"""EmoSphere model: padding invariance, save/load through the Auto classes, loss and gradients."""

import os

import numpy as np
import pytest
import torch
from conftest import tiny_config, tiny_encoder_config
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForAudioClassification,
)

from modeling_emosphere import (
    EmoSphereFeatureExtractor,
    EmoSphereForSpeechEmotionRecognition,
    EmoSphereModel,
    concordance_correlation,
)


def batch_with_padding(lengths, seed=0):
    generator = torch.Generator().manual_seed(seed)
    total = max(lengths)
    values = torch.zeros(len(lengths), total)
    mask = torch.zeros(len(lengths), total, dtype=torch.long)
    for row, length in enumerate(lengths):
        values[row, :length] = torch.randn(length, generator=generator)
        mask[row, :length] = 1
    return values, mask


@pytest.mark.parametrize("kind", ["wavlm", "wav2vec2", "hubert"])
@pytest.mark.parametrize("pooling", ["style", "attentive_statistics", "mean"])
def test_item_outputs_do_not_change_when_batched_with_longer_items(kind, pooling):
    model = EmoSphereForSpeechEmotionRecognition(tiny_config(kind, pooling_type=pooling)).eval()
    values, mask = batch_with_padding([1200, 3000, 2100])
    with torch.no_grad():
        batched = model(values, attention_mask=mask)
        for row, length in enumerate([1200, 3000, 2100]):
            alone = model(values[row : row + 1, :length])
            torch.testing.assert_close(alone.vad, batched.vad[row : row + 1], atol=1e-5, rtol=0)
            torch.testing.assert_close(alone.logits, batched.logits[row : row + 1], atol=1e-5, rtol=0)


def test_frame_mask_follows_encoder_length_arithmetic():
    model = EmoSphereModel(tiny_config()).eval()
    values, mask = batch_with_padding([1000, 1600])
    with torch.no_grad():
        output = model(values, attention_mask=mask)
    # conv (10, 5) then (3, 2): 1000 -> 199 -> 99 frames; 1600 -> 319 -> 159 frames.
    assert output.frame_mask.sum(dim=1).tolist() == [99, 159]
    assert output.frame_mask.shape == (2, 159)


def test_save_and_load_through_auto_classes_gives_identical_outputs(tmp_path):
    model = EmoSphereForSpeechEmotionRecognition(tiny_config()).eval()
    extractor = EmoSphereFeatureExtractor(normalization="global", waveform_mean=0.01, waveform_std=0.2)
    model.save_pretrained(tmp_path)
    extractor.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert not [name for name in os.listdir(tmp_path) if name.endswith((".bin", ".pt", ".pkl"))]

    config = AutoConfig.from_pretrained(tmp_path)
    saved, original = config.to_dict(), model.config.to_dict()
    saved.pop("_name_or_path"), original.pop("_name_or_path")
    assert saved == original
    loaded_extractor = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert isinstance(loaded_extractor, EmoSphereFeatureExtractor)
    assert (loaded_extractor.waveform_mean, loaded_extractor.waveform_std) == (0.01, 0.2)

    audio = [np.random.default_rng(0).normal(size=1500), np.random.default_rng(1).normal(size=2600)]
    inputs = loaded_extractor(audio, sampling_rate=16000, return_tensors="pt")
    classifier = AutoModelForAudioClassification.from_pretrained(tmp_path).eval()
    base = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(classifier, EmoSphereForSpeechEmotionRecognition) and isinstance(base, EmoSphereModel)
    with torch.no_grad():
        reference = model(**inputs)
        assert torch.equal(classifier(**inputs).vad, reference.vad)
        assert torch.equal(classifier(**inputs).logits, reference.logits)
        assert torch.equal(base(**inputs).pooled_output, reference.pooled_output)


def test_loaded_model_keeps_feature_encoder_frozen(tmp_path):
    EmoSphereForSpeechEmotionRecognition(tiny_config()).save_pretrained(tmp_path)
    loaded = AutoModelForAudioClassification.from_pretrained(tmp_path)
    assert not any(p.requires_grad for p in loaded.emosphere.encoder.feature_extractor.parameters())


def test_ccc_matches_numpy(rng):
    predictions = rng.normal(size=(64, 3))
    targets = 0.6 * predictions + rng.normal(scale=0.5, size=(64, 3)) + 0.2
    expected = [
        2 * np.cov(p, y, bias=True)[0, 1] / (p.var() + y.var() + (p.mean() - y.mean()) ** 2)
        for p, y in zip(predictions.T, targets.T)
    ]
    got = concordance_correlation(torch.from_numpy(predictions), torch.from_numpy(targets), eps=0.0)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def labelled_batch():
    values, mask = batch_with_padding([1800, 2400, 1500, 2000])
    labels = torch.tensor([[2.0, 5.5, 4.0], [6.0, 1.5, 3.0], [4.0, 4.0, 4.0], [1.0, 7.0, 6.5]])
    return values, mask, labels


def test_loss_is_ccc_loss_plus_weighted_region_loss():
    model = EmoSphereForSpeechEmotionRecognition(tiny_config()).eval()
    values, mask, labels = labelled_batch()
    model.aux_loss_weight = 0.3
    output = model(values, attention_mask=mask, labels=labels)
    targets = (labels - 4.0) / 3.0
    expected_vad_loss = (1 - concordance_correlation(output.vad, targets)).sum()
    # octants of the targets: (-, +, 0) -> II, (+, -, -) -> VIII, origin -> I, (-, +, +) -> II
    expected_region_loss = torch.nn.functional.cross_entropy(output.logits, torch.tensor([1, 7, 0, 1]))
    torch.testing.assert_close(output.vad_loss, expected_vad_loss)
    torch.testing.assert_close(output.region_loss, expected_region_loss)
    torch.testing.assert_close(output.loss, expected_vad_loss + 0.3 * expected_region_loss)


def test_region_loss_uses_class_weights():
    weights = [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]
    model = EmoSphereForSpeechEmotionRecognition(tiny_config(region_class_weights=weights)).eval()
    values, mask, labels = labelled_batch()
    output = model(values, attention_mask=mask, labels=labels)
    expected = torch.nn.functional.cross_entropy(
        output.logits, torch.tensor([1, 7, 0, 1]), weight=torch.tensor(weights)
    )
    torch.testing.assert_close(output.region_loss, expected)


def test_zero_aux_loss_weight_removes_region_term_exactly():
    model = EmoSphereForSpeechEmotionRecognition(tiny_config()).train()
    values, mask, labels = labelled_batch()
    model.aux_loss_weight = 0.0
    output = model(values, attention_mask=mask, labels=labels)
    assert torch.equal(output.loss, output.vad_loss)
    output.loss.backward()
    assert all(p.grad is None for p in model.region_head.parameters())


def test_gradients_reach_every_trainable_parameter_and_not_the_frozen_cnn():
    config = tiny_config(encoder_overrides=dict(layerdrop=0.0, mask_time_prob=0.0))
    model = EmoSphereForSpeechEmotionRecognition(config).train()
    values, mask, labels = labelled_batch()
    model(values, attention_mask=mask, labels=labels).loss.backward()
    frozen = {name for name, _ in model.emosphere.encoder.feature_extractor.named_parameters()}
    assert frozen
    for name, parameter in model.named_parameters():
        inner = name.removeprefix("emosphere.encoder.feature_extractor.")
        if inner in frozen and name != inner:
            assert not parameter.requires_grad and parameter.grad is None, name
        elif name == "emosphere.encoder.masked_spec_embed":
            continue  # used only by SpecAugment masking, off here
        else:
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_weighted_layer_sum_pools_all_encoder_layers():
    model = EmoSphereModel(tiny_config(use_weighted_layer_sum=True)).eval()
    assert model.layer_weights.shape == (3,)  # embeddings + 2 layers
    values, mask = batch_with_padding([1000, 1600])
    with torch.no_grad():
        output = model(values, attention_mask=mask, output_hidden_states=True)
    expected = torch.stack(output.hidden_states).mean(dim=0)  # uniform weights at init
    torch.testing.assert_close(output.last_hidden_state, expected)


def test_from_encoder_pretrained_keeps_encoder_weights(tmp_path):
    encoder = AutoModel.from_config(tiny_encoder_config()).eval()
    encoder.save_pretrained(tmp_path)
    model = EmoSphereForSpeechEmotionRecognition.from_encoder_pretrained(
        str(tmp_path), pooling_hidden_size=32, pooling_output_size=16, head_hidden_size=24, region_scheme="angular",
        region_bin_width=60, region_core_radius=0.2,
    )
    assert model.config.num_regions == 19 and model.region_head.layers[-1].out_features == 19
    for name, tensor in encoder.state_dict().items():
        assert torch.equal(model.emosphere.encoder.state_dict()[name], tensor), name
    assert not any(p.requires_grad for p in model.emosphere.encoder.feature_extractor.parameters())


def test_id2label_and_label2id_follow_region_scheme():
    config = tiny_config(region_scheme="angular", region_bin_width=45, region_core_radius=0.1)
    assert config.num_labels == 33
    assert config.label2id[config.id2label[5]] == 5
