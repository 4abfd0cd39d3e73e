"""Shared fixtures: tiny encoder configs built in the test (nothing is fetched from the Hub)."""

import numpy as np
import pytest
import torch
from transformers import HubertConfig, Wav2Vec2Config, WavLMConfig

import modeling_emosphere  # noqa: F401  (registers the Auto classes)
from modeling_emosphere import EmoSphereConfig

_TINY_ENCODER = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16, 16),
    conv_kernel=(10, 3),
    conv_stride=(5, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
    feat_extract_norm="layer",
    do_stable_layer_norm=True,
)
ENCODER_CONFIGS = {
    "wavlm": lambda **kw: WavLMConfig(**_TINY_ENCODER, num_buckets=16, max_bucket_distance=64, **kw),
    "wav2vec2": lambda **kw: Wav2Vec2Config(**_TINY_ENCODER, **kw),
    "hubert": lambda **kw: HubertConfig(**_TINY_ENCODER, **kw),
}
# Receptive field of the tiny encoder: (1 - 1) * 2 + 3 = 3 frames of the first layer -> (3 - 1) * 5 + 10 = 20 samples.
TINY_RECEPTIVE_FIELD = 20


def tiny_encoder_config(kind: str = "wavlm", **overrides):
    return ENCODER_CONFIGS[kind](**overrides)


def tiny_config(kind: str = "wavlm", encoder_overrides: dict | None = None, **overrides) -> EmoSphereConfig:
    sizes = dict(pooling_hidden_size=32, pooling_output_size=16, head_hidden_size=24)
    sizes.update(overrides)
    return EmoSphereConfig(encoder_config=tiny_encoder_config(kind, **(encoder_overrides or {})), **sizes)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
