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


@pytest.mark.parametrize("training", [False, True])
def test_style_pooling_batched_equals_one_at_a_time(training):
    """Packing the valid frames (and projecting after the mean) gives each utterance what it gets alone,
    in the output and in the gradients."""
    torch.manual_seed(0)
    pooling = StylePooling(24, hidden_size=32, output_size=8, num_heads=2, dropout=0.0).train(training)
    lengths = [50, 31, 7, 2]
    hidden = torch.randn(len(lengths), 50, 24, requires_grad=True)
    mask = torch.arange(50)[None] < torch.tensor(lengths)[:, None]
    batched = pooling(hidden, mask)
    alone = torch.cat([pooling(hidden[i : i + 1, :n], mask[i : i + 1, :n]) for i, n in enumerate(lengths)])
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)
    (gradient,) = torch.autograd.grad(batched.square().sum(), hidden)
    (reference,) = torch.autograd.grad(alone.square().sum(), hidden)
    torch.testing.assert_close(gradient, reference, atol=1e-5, rtol=1e-5)
    assert gradient[~mask].abs().max() == 0  # padding gets no gradient
