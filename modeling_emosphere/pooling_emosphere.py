"""Utterance pooling layers: the style pooling layer of EmoSphere-SER and two baselines.

Every pooler maps encoder frames ``(B, T, H)`` and a boolean frame mask ``(B, T)`` (True on
valid frames, derived from the encoder's own length arithmetic) to one vector per utterance
``(B, output_size)``. All of them are batched: padded frames never influence valid ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def masked_mean(hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """Mean over valid frames: ``(B, T, C)``, ``(B, T)`` -> ``(B, C)``."""
    weights = frame_mask.to(hidden_states.dtype).unsqueeze(-1)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1)


class GatedConvBlock(nn.Module):
    """Conv1d(h -> 2h, same padding) -> GLU -> Dropout, with a residual connection. ``(B, h, T)`` -> ``(B, h, T)``."""

    def __init__(self, channels: int, kernel_size: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(channels, 2 * channels, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states + self.dropout(F.glu(self.conv(hidden_states), dim=1))


class StylePoolingAttention(nn.Module):
    """Multi-head self-attention with a key-padding mask and a configurable score scale.

    The authors scale scores by ``1 / sqrt(hidden_size)`` (``scale="hidden"``), not by
    ``1 / sqrt(head_dim)``. ``use_sdpa`` selects ``F.scaled_dot_product_attention``; the eager path
    is the reference it is tested against.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, scale: str = "hidden"):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.scale = 1.0 / math.sqrt(hidden_size if scale == "hidden" else self.head_dim)
        self.dropout = dropout
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)
        self.use_sdpa = True

    def forward(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        batch, frames, hidden = hidden_states.shape
        qkv = self.qkv(hidden_states).view(batch, frames, 3, self.num_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, heads, T, head_dim)
        key_mask = frame_mask[:, None, None, :]  # (B, 1, 1, T), True = attend
        dropout = self.dropout if self.training else 0.0
        if self.use_sdpa:
            context = F.scaled_dot_product_attention(
                query, key, value, attn_mask=key_mask, dropout_p=dropout, scale=self.scale
            )
        else:
            scores = torch.matmul(query, key.transpose(-1, -2)) * self.scale
            scores = scores.masked_fill(~key_mask, torch.finfo(scores.dtype).min)
            probs = F.dropout(scores.softmax(dim=-1), p=dropout, training=self.training)
            context = torch.matmul(probs, value)
        context = context.transpose(1, 2).reshape(batch, frames, hidden)
        return self.out_proj(context)


class StylePooling(nn.Module):
    """Style pooling layer (StyleSpeech's mel-style encoder, as used by EmoSphere-SER).

    1. spectral: Linear(H -> h) -> Mish -> Dropout -> Linear(h -> h) -> Mish -> Dropout
    2. temporal: 2 x gated conv blocks (Conv1d h -> 2h, k, GLU, Dropout, residual)
    3. multi-head self-attention over valid frames (key-padding mask), residual
    4. mean over valid frames, Linear(h -> out) (the same as projecting every frame, then averaging)

    Steps 1 and 2 run on the valid frames only, packed into one sequence with ``k // 2`` zero frames
    between utterances: each frame sees exactly what it would see alone (the convolution's own zero
    padding), and no compute is spent on padding. Packing reads the number of valid frames (one host
    sync). The frame mask must be a prefix of every row (right padding), as the encoder's is.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 1024,
        output_size: int = 1024,
        kernel_size: int = 5,
        num_heads: int = 2,
        dropout: float = 0.1,
        attention_scale: str = "hidden",
    ):
        super().__init__()
        self.output_size = output_size
        self.gap = kernel_size // 2
        self.spectral = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.Mish(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, hidden_size),
            nn.Mish(),
            nn.Dropout(dropout),
        )
        self.temporal = nn.ModuleList([GatedConvBlock(hidden_size, kernel_size, dropout) for _ in range(2)])
        self.attention = StylePoolingAttention(hidden_size, num_heads, dropout, attention_scale)
        self.attention_dropout = nn.Dropout(dropout)
        self.output_projection = nn.Linear(hidden_size, output_size)

    def spectral_temporal(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """Steps 1-2 on the packed valid frames: ``(B, T, H)`` -> ``(B, T, h)``, zero on padding."""
        batch, frames, _ = hidden_states.shape
        valid = self.spectral(hidden_states[frame_mask])  # (N, h), row by row
        lengths = frame_mask.sum(dim=1)
        starts = torch.cumsum(lengths + self.gap, dim=0) - lengths - self.gap
        positions = (starts[:, None] + torch.arange(frames, device=frame_mask.device))[frame_mask]  # (N,)
        packed_length = valid.shape[0] + self.gap * (batch - 1)
        keep = valid.new_zeros(packed_length).index_fill_(0, positions, 1.0)  # 0 on the gaps
        packed = valid.new_zeros(packed_length, valid.shape[1]).index_copy(0, positions, valid).t()[None]  # (1, h, L)
        for block in self.temporal:
            packed = block(packed * keep)
        valid = packed[0].t()[positions]  # (N, h)
        return valid.new_zeros(batch, frames, valid.shape[1]).masked_scatter(frame_mask[..., None], valid)

    def forward(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """``(B, T, H)``, ``(B, T)`` bool -> ``(B, output_size)``."""
        hidden_states = self.spectral_temporal(hidden_states, frame_mask)
        hidden_states = hidden_states + self.attention_dropout(self.attention(hidden_states, frame_mask))
        return self.output_projection(masked_mean(hidden_states, frame_mask))


class AttentiveStatisticsPooling(nn.Module):
    """Attentive statistics pooling (the MSP-Podcast challenge baseline): attention-weighted mean and
    standard deviation of the frames. ``(B, T, H)`` -> ``(B, 2H)``."""

    def __init__(self, input_size: int):
        super().__init__()
        self.output_size = 2 * input_size
        self.projection = nn.Linear(input_size, input_size)
        self.score = nn.Linear(input_size, 1, bias=False)

    def forward(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        scores = self.score(torch.tanh(self.projection(hidden_states))).squeeze(-1)  # (B, T)
        scores = scores.masked_fill(~frame_mask, torch.finfo(scores.dtype).min)
        weights = scores.softmax(dim=-1).unsqueeze(-1)  # (B, T, 1); exactly 0 on padding
        mean = (hidden_states * weights).sum(dim=1)
        variance = (hidden_states.square() * weights).sum(dim=1) - mean.square()
        return torch.cat((mean, variance.clamp(min=1e-5).sqrt()), dim=-1)


class MeanPooling(nn.Module):
    """Mean over valid frames. ``(B, T, H)`` -> ``(B, H)``."""

    def __init__(self, input_size: int):
        super().__init__()
        self.output_size = input_size

    def forward(self, hidden_states: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        return masked_mean(hidden_states, frame_mask)


def build_pooling(config, input_size: int) -> nn.Module:
    """The pooler named by ``config.pooling_type``, reading encoder frames of width ``input_size``."""
    builders = {
        "style": lambda: StylePooling(
            input_size,
            hidden_size=config.pooling_hidden_size,
            output_size=config.pooling_output_size,
            kernel_size=config.pooling_kernel_size,
            num_heads=config.pooling_num_heads,
            dropout=config.pooling_dropout,
            attention_scale=config.pooling_attention_scale,
        ),
        "attentive_statistics": lambda: AttentiveStatisticsPooling(input_size),
        "mean": lambda: MeanPooling(input_size),
    }
    if config.pooling_type not in builders:
        raise ValueError(f"Unknown pooling_type {config.pooling_type!r}; expected one of {tuple(builders)}.")
    return builders[config.pooling_type]()
