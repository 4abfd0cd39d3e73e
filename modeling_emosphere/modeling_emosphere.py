"""EmoSphere-SER: a speech encoder, a pooling layer, and two heads (A/V/D regression and spherical region)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_emosphere import EmoSphereConfig
from .pooling_emosphere import build_pooling
from .spherical import assign_regions, to_unit_scale


@dataclass
class EmoSphereModelOutput(ModelOutput):
    """
    Args:
        pooled_output (`torch.FloatTensor` of shape `(batch_size, pooled_size)`):
            One vector per utterance from the pooling layer.
        last_hidden_state (`torch.FloatTensor` of shape `(batch_size, frames, hidden_size)`):
            The encoder frames that were pooled (the weighted layer sum when that is on).
        frame_mask (`torch.BoolTensor` of shape `(batch_size, frames)`):
            True on valid (non-padding) frames, from the encoder's own output-length arithmetic.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*):
            Every encoder layer's output, each `(batch_size, frames, hidden_size)`, when asked for.
    """

    pooled_output: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None
    frame_mask: torch.BoolTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class SpeechEmotionRecognitionOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `labels` are given):
            `vad_loss + aux_loss_weight * region_loss`.
        logits (`torch.FloatTensor` of shape `(batch_size, num_regions)`):
            Region classifier scores (before softmax); what the audio-classification pipeline reads.
        vad (`torch.FloatTensor` of shape `(batch_size, 3)`):
            Predicted arousal, valence, dominance, normalised to [-1, 1] (see `spherical.from_unit_scale`).
        vad_loss (`torch.FloatTensor` of shape `()`, *optional*):
            Sum over the three attributes of `1 - CCC` over the batch.
        region_loss (`torch.FloatTensor` of shape `()`, *optional*):
            Class-weighted cross-entropy of the region head.
        pooled_output (`torch.FloatTensor` of shape `(batch_size, pooled_size)`):
            The utterance vector both heads read.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*):
            Every encoder layer's output, when asked for.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    vad: torch.FloatTensor | None = None
    vad_loss: torch.FloatTensor | None = None
    region_loss: torch.FloatTensor | None = None
    pooled_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def concordance_correlation(predictions: torch.Tensor, targets: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Concordance correlation coefficient per column, population moments: ``(N, D)``, ``(N, D)`` -> ``(D,)``.

    ``CCC = 2 cov(p, y) / (var(p) + var(y) + (mean(p) - mean(y))^2)``.
    """
    pred_mean, target_mean = predictions.mean(dim=0), targets.mean(dim=0)
    pred_centered, target_centered = predictions - pred_mean, targets - target_mean
    covariance = (pred_centered * target_centered).mean(dim=0)
    denominator = pred_centered.square().mean(dim=0) + target_centered.square().mean(dim=0)
    denominator = denominator + (pred_mean - target_mean).square()
    return 2 * covariance / (denominator + eps)


def receptive_field(encoder_config) -> int:
    """Fewest waveform samples that give one encoder frame (400 = 25 ms at 16 kHz for WavLM/Wav2Vec2)."""
    samples = 1
    for kernel, stride in zip(reversed(encoder_config.conv_kernel), reversed(encoder_config.conv_stride)):
        samples = (samples - 1) * stride + kernel
    return samples


class PredictionHead(nn.Module):
    """Dropout -> Linear(d -> hidden) -> LayerNorm -> ReLU -> Dropout -> Linear(hidden -> k). ``(B, d)`` -> ``(B, k)``."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(input_size, hidden_size),
            nn.LayerNorm(hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, output_size),
        )

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.layers(pooled_output)


class EmoSpherePreTrainedModel(PreTrainedModel):
    config_class = EmoSphereConfig
    config: EmoSphereConfig
    base_model_prefix = "emosphere"
    main_input_name = "input_values"
    input_modalities = "audio"
    supports_gradient_checkpointing = True
    # The pooling layer calls SDPA itself; the encoder picks its own attention implementation.
    _supports_sdpa = True
    _supports_flash_attn = False
    _supports_flex_attn = False
    # The CCC loss is a batch statistic, not a per-item mean: the Trainer must scale it for gradient
    # accumulation itself rather than pass num_items_in_batch.
    accepts_loss_kwargs = False

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        # Loading replaces parameters with fresh trainable ones: freeze the CNN again afterwards.
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        if model.config.freeze_feature_encoder:
            model.freeze_feature_encoder()
        return loaded

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, EmoSphereModel) and module.layer_weights is not None:
            init.constant_(module.layer_weights, 1.0 / module.layer_weights.numel())


class EmoSphereModel(EmoSpherePreTrainedModel):
    """Speech encoder + pooling layer: waveform ``(B, L)`` -> utterance vector ``(B, pooled_size)``."""

    def __init__(self, config: EmoSphereConfig):
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config)
        hidden_size = config.encoder_config.hidden_size
        if config.use_weighted_layer_sum:
            self.layer_weights = nn.Parameter(torch.full((config.encoder_config.num_hidden_layers + 1,), 1.0))
        else:
            self.layer_weights = None
        self.pooling = build_pooling(config, hidden_size)
        self.min_input_samples = receptive_field(config.encoder_config)
        self.post_init()
        if config.freeze_feature_encoder:
            self.freeze_feature_encoder()

    @property
    def pooled_size(self) -> int:
        return self.pooling.output_size

    def freeze_feature_encoder(self):
        """Stop gradients to the encoder's convolutional feature encoder."""
        for parameter in self.encoder.feature_extractor.parameters():
            parameter.requires_grad = False
        self.encoder.feature_extractor._requires_grad = False

    def frame_mask(self, input_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Valid-frame mask ``(B, num_frames)`` from valid sample counts ``(B,)``, by the encoder's own length arithmetic."""
        frame_lengths = self.encoder._get_feat_extract_output_lengths(input_lengths)
        return torch.arange(num_frames, device=input_lengths.device) < frame_lengths[:, None]

    def _input_lengths(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Validate the batch and return each item's number of valid samples ``(B,)``.

        All checks share one host read, so a valid batch costs a single sync.
        """
        if input_values.dim() != 2:
            raise ValueError(
                "input_values must be a batch of mono waveforms of shape (batch, samples) at the feature "
                f"extractor's sampling rate, got shape {tuple(input_values.shape)}."
            )
        if attention_mask is None:
            lengths = torch.full((input_values.shape[0],), input_values.shape[1], device=input_values.device)
        else:
            if attention_mask.shape != input_values.shape:
                raise ValueError(
                    f"attention_mask must have the shape of input_values {tuple(input_values.shape)}, "
                    f"got {tuple(attention_mask.shape)}."
                )
            lengths = attention_mask.sum(dim=-1)
        too_short = lengths < self.min_input_samples
        has_non_finite, has_too_short = torch.stack((~torch.isfinite(input_values).all(), too_short.any())).tolist()
        if not (has_non_finite or has_too_short):
            return lengths
        if has_non_finite:
            rows = (~torch.isfinite(input_values)).any(dim=-1).nonzero().flatten().tolist()
            raise ValueError(f"input_values contain NaN or inf in batch item(s) {rows}; clean or drop those clips.")
        index = int(too_short.nonzero()[0])
        length = int(lengths[index])
        problem = "is empty (all padding)" if length == 0 else f"has {length} valid samples"
        raise ValueError(
            f"Batch item {index} {problem}, shorter than the encoder's receptive field of "
            f"{self.min_input_samples} samples; pad or drop clips shorter than that."
        )

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> EmoSphereModelOutput | tuple:
        r"""
        input_values (`torch.FloatTensor` of shape `(batch_size, samples)`):
            Waveforms as prepared by [`EmoSphereFeatureExtractor`] (16 kHz mono, normalised, right-padded).
        attention_mask (`torch.LongTensor` of shape `(batch_size, samples)`, *optional*):
            1 on valid samples, 0 on padding.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        want_layers = bool(output_hidden_states) or self.layer_weights is not None
        lengths = self._input_lengths(input_values, attention_mask)
        encoder_outputs = self.encoder(
            input_values, attention_mask=attention_mask, output_hidden_states=want_layers, return_dict=True
        )
        if self.layer_weights is not None:
            layers = torch.stack(encoder_outputs.hidden_states, dim=0)  # (layers, B, T, H)
            weights = self.layer_weights.softmax(dim=0).to(layers.dtype)
            hidden_states = torch.einsum("l,lbth->bth", weights, layers)
        else:
            hidden_states = encoder_outputs.last_hidden_state
        frame_mask = self.frame_mask(lengths, hidden_states.shape[1])
        pooled_output = self.pooling(hidden_states, frame_mask)
        output = EmoSphereModelOutput(
            pooled_output=pooled_output,
            last_hidden_state=hidden_states,
            frame_mask=frame_mask,
            hidden_states=encoder_outputs.hidden_states if output_hidden_states else None,
        )
        return output if return_dict else output.to_tuple()


class EmoSphereForSpeechEmotionRecognition(EmoSpherePreTrainedModel):
    """EmoSphere-SER: A/V/D regression (CCC loss) plus an auxiliary spherical-region classifier.

    ``aux_loss_weight`` is a plain attribute: a training callback sets it from the dynamic-weighting
    schedule. At 0 the region term leaves the loss entirely and the region head gets no gradient.
    """

    def __init__(self, config: EmoSphereConfig):
        super().__init__(config)
        self.emosphere = EmoSphereModel(config)
        pooled_size = self.emosphere.pooled_size
        self.vad_head = PredictionHead(pooled_size, config.head_hidden_size, 3, config.head_dropout)
        self.region_head = PredictionHead(pooled_size, config.head_hidden_size, config.num_regions, config.head_dropout)
        self.aux_loss_weight = config.aux_loss_weight_start
        self.post_init()

    @classmethod
    def from_encoder_pretrained(
        cls,
        encoder_name_or_path: str,
        encoder_kwargs: dict | None = None,
        config: EmoSphereConfig | None = None,
        **config_overrides,
    ):
        """Build the model around a pretrained encoder checkpoint (e.g. ``microsoft/wavlm-large``).

        ``encoder_kwargs`` override the encoder's config (e.g. ``{"layerdrop": 0.0}``); the other keyword
        arguments are [`EmoSphereConfig`] fields. A complete ``config`` (whose ``encoder_config`` matches
        the checkpoint) may be given instead. Pooling and heads start from fresh weights.
        """
        encoder_kwargs = dict(encoder_kwargs or {})
        if config is not None:
            encoder_kwargs.setdefault("config", config.encoder_config)
        encoder = AutoModel.from_pretrained(encoder_name_or_path, **encoder_kwargs)
        config = config or EmoSphereConfig(encoder_config=encoder.config, **config_overrides)
        model = cls(config)
        model.emosphere.encoder.load_state_dict(encoder.state_dict())
        if config.freeze_feature_encoder:
            model.emosphere.freeze_feature_encoder()
        return model

    def freeze_feature_encoder(self):
        self.emosphere.freeze_feature_encoder()

    def _check_labels(self, labels: torch.Tensor, batch_size: int):
        if labels.shape != (batch_size, 3):
            raise ValueError(
                f"labels must be (batch, 3) values of {', '.join(self.config.attribute_names)} on the label scale, "
                f"got shape {tuple(labels.shape)}."
            )
        low, high = self.config.label_scale_min, self.config.label_scale_max
        finite = torch.isfinite(labels)
        in_range = (labels >= low) & (labels <= high)
        if bool((finite & in_range).all()):
            return
        if not bool(finite.all()):
            raise ValueError(f"labels contain NaN or inf in batch item(s) {(~finite).any(-1).nonzero().flatten().tolist()}.")
        rows = (~in_range).any(-1).nonzero().flatten().tolist()
        raise ValueError(
            f"labels of batch item(s) {rows} lie outside the configured label scale [{low}, {high}]; "
            "set label_scale_min/label_scale_max to the scale of your corpus."
        )

    def region_loss(self, logits: torch.Tensor, region_labels: torch.Tensor) -> torch.Tensor:
        """Class-weighted cross-entropy, normalised by the summed weight of the batch's targets."""
        logits = logits.float()
        if self.config.region_class_weights is None:
            return F.cross_entropy(logits, region_labels)
        weights = torch.as_tensor(self.config.region_class_weights, dtype=logits.dtype, device=logits.device)
        per_item = F.cross_entropy(logits, region_labels, reduction="none")
        item_weights = weights[region_labels]
        return (per_item * item_weights).sum() / item_weights.sum().clamp(min=1e-8)

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        region_labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SpeechEmotionRecognitionOutput | tuple:
        r"""
        input_values (`torch.FloatTensor` of shape `(batch_size, samples)`):
            Waveforms as prepared by [`EmoSphereFeatureExtractor`].
        attention_mask (`torch.LongTensor` of shape `(batch_size, samples)`, *optional*):
            1 on valid samples, 0 on padding.
        labels (`torch.FloatTensor` of shape `(batch_size, 3)`, *optional*):
            Arousal, valence, dominance on the label scale (`label_scale_min`..`label_scale_max`).
        region_labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Region targets; derived from `labels` with the configured scheme when not given.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.emosphere(
            input_values, attention_mask=attention_mask, output_hidden_states=output_hidden_states, return_dict=True
        )
        pooled_output = outputs.pooled_output
        vad = self.vad_head(pooled_output)
        logits = self.region_head(pooled_output)

        loss = vad_loss = region_loss = None
        if labels is not None:
            self._check_labels(labels, input_values.shape[0])
            targets = to_unit_scale(labels.float(), self.config.label_scale_min, self.config.label_scale_max)
            vad_loss = (1.0 - concordance_correlation(vad.float(), targets)).sum()
            if region_labels is None:
                region_labels = assign_regions(
                    targets, self.config.region_scheme, self.config.region_bin_width, self.config.region_core_radius
                )
            region_loss = self.region_loss(logits, region_labels)
            loss = vad_loss
            if self.aux_loss_weight:
                loss = loss + self.aux_loss_weight * region_loss

        output = SpeechEmotionRecognitionOutput(
            loss=loss,
            logits=logits,
            vad=vad,
            vad_loss=vad_loss,
            region_loss=region_loss,
            pooled_output=pooled_output,
            hidden_states=outputs.hidden_states,
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "EmoSpherePreTrainedModel",
    "EmoSphereModel",
    "EmoSphereForSpeechEmotionRecognition",
    "concordance_correlation",
]
