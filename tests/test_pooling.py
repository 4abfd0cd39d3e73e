"""Pooling layers: the SDPA path equals the eager reference."""

import pytest
import torch

from modeling_emosphere.pooling_emosphere import StylePooling


@pytest.mark.parametrize("scale", ["hidden", "head"])
def test_sdpa_attention_equals_eager(scale):
    pooling = StylePooling(24, hidden_size=32, output_size=8, num_heads=2, attention_scale=scale).eval()
    hidden = torch.randn(3, 50, 24)
    mask = torch.arange(50)[None] < torch.tensor([50, 31, 7])[:, None]
    with torch.no_grad():
        pooling.attention.use_sdpa = True
        fast = pooling(hidden, mask)
        pooling.attention.use_sdpa = False
        reference = pooling(hidden, mask)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=0)


def test_attention_scale_follows_authors_by_default():
    pooling = StylePooling(24, hidden_size=32, output_size=8, num_heads=2)
    assert pooling.attention.scale == pytest.approx(32**-0.5)
    assert StylePooling(24, hidden_size=32, num_heads=2, attention_scale="head").attention.scale == pytest.approx(16**-0.5)
