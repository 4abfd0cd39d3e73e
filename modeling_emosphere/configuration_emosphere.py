"""Configuration of EmoSphere-SER."""

from __future__ import annotations

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .spherical import REGION_SCHEMES, region_names

POOLING_TYPES = ("style", "attentive_statistics", "mean")
ATTRIBUTE_NAMES = ("arousal", "valence", "dominance")


class EmoSphereConfig(PreTrainedConfig):
    r"""
    Configuration of [`EmoSphereModel`] and [`EmoSphereForSpeechEmotionRecognition`]: a self-supervised
    speech encoder, a pooling layer, a regression head for arousal/valence/dominance (A/V/D) and an
    auxiliary classifier of the spherical region the A/V/D point falls in (EmoSphere-SER, Cho et al.,
    Interspeech 2025). Defaults are the paper's, except the encoder (WavLM-base-shaped by default; the
    paper uses `microsoft/wavlm-large`, see `EmoSphereForSpeechEmotionRecognition.from_encoder_pretrained`).

    Args:
        encoder_config (`dict` or `PreTrainedConfig`, *optional*):
            Config of the speech encoder: any Hugging Face audio encoder with a convolutional feature
            encoder (WavLM, Wav2Vec2, HuBERT, Data2VecAudio, UniSpeech(-SAT), SEW...). A dict needs a
            `model_type`. Defaults to a WavLM config.
        freeze_feature_encoder (`bool`, *optional*, defaults to `True`):
            Freeze the encoder's convolutional feature encoder (the paper fine-tunes the transformer only).
        use_weighted_layer_sum (`bool`, *optional*, defaults to `False`):
            Pool a learned softmax-weighted sum of all encoder hidden states instead of the last one
            (the paper uses the last).
        pooling_type (`str`, *optional*, defaults to `"style"`):
            `"style"` (the paper's style pooling layer), `"attentive_statistics"` (the challenge baseline:
            attention-weighted mean and standard deviation, 2x encoder width) or `"mean"` (masked mean).
        pooling_hidden_size (`int`, *optional*, defaults to 1024):
            Width `h` of the style pooling layer.
        pooling_output_size (`int`, *optional*, defaults to 1024):
            Width of the style pooling layer's output (the pooled utterance vector).
        pooling_kernel_size (`int`, *optional*, defaults to 5):
            Kernel of the two temporal gated convolutions of the style pooling layer.
        pooling_num_heads (`int`, *optional*, defaults to 2):
            Heads of the style pooling layer's self-attention.
        pooling_dropout (`float`, *optional*, defaults to 0.1):
            Dropout inside the style pooling layer.
        pooling_attention_scale (`str`, *optional*, defaults to `"hidden"`):
            Attention score scale: `"hidden"` divides by sqrt(h), as the authors do; `"head"` by
            sqrt(h / heads), the usual transformer convention.
        head_hidden_size (`int`, *optional*, defaults to 1024):
            Hidden width of both heads (Dropout -> Linear -> LayerNorm -> ReLU -> Dropout -> Linear).
        head_dropout (`float`, *optional*, defaults to 0.5):
            Dropout of both heads.
        attribute_names (`list[str]`, *optional*, defaults to `["arousal", "valence", "dominance"]`):
            Names of the three regressed attributes, in the order of `labels` and `vad` columns.
        label_scale_min (`float`, *optional*, defaults to 1.0):
            Lower end of the label scale (MSP-Podcast: 1..7).
        label_scale_max (`float`, *optional*, defaults to 7.0):
            Upper end of the label scale.
        region_scheme (`str`, *optional*, defaults to `"octant"`):
            `"octant"`: 8 regions by sign (the released configuration); `"angular"`: bins of
            `region_bin_width` degrees over azimuth and polar angle, plus a neutral core class when
            `region_core_radius` is set (60/45/30 degrees give 19/33/73 classes).
        region_bin_width (`float`, *optional*, defaults to 45.0):
            Bin width in degrees of the angular scheme; must divide 180.
        region_core_radius (`float`, *optional*):
            Radius (normalised units) of the neutral core class of the angular scheme; `None` for none.
        region_class_weights (`list[float]`, *optional*):
            Weight of each region in the cross-entropy loss, `w_c = N / (K n_c)` on the training set;
            `None` for uniform weights.
        aux_loss_weight_start (`float`, *optional*, defaults to 1.0):
            Weight of the region loss at the start of training (dynamic weighting).
        aux_loss_weight_end (`float`, *optional*, defaults to 0.01):
            Value the weight decays linearly towards over `aux_loss_decay_epochs`.
        aux_loss_decay_epochs (`float`, *optional*, defaults to 5):
            Length of the linear decay in epochs.
        aux_loss_weight_floor (`float`, *optional*, defaults to 0.01):
            Weight after the decay. 0 reproduces the authors' release: the region head stops training.
        aux_loss_schedule_unit (`str`, *optional*, defaults to `"epoch"`):
            `"epoch"`: the weight changes once per epoch (the release); `"step"`: continuously per step.
    """

    model_type = "emosphere"
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="wavlm")}

    encoder_config: dict | PreTrainedConfig | None = None
    freeze_feature_encoder: bool = True
    use_weighted_layer_sum: bool = False
    pooling_type: str = "style"
    pooling_hidden_size: int = 1024
    pooling_output_size: int = 1024
    pooling_kernel_size: int = 5
    pooling_num_heads: int = 2
    pooling_dropout: float = 0.1
    pooling_attention_scale: str = "hidden"
    head_hidden_size: int = 1024
    head_dropout: float = 0.5
    attribute_names: list[str] | tuple[str, ...] | None = None
    label_scale_min: float = 1.0
    label_scale_max: float = 7.0
    region_scheme: str = "octant"
    region_bin_width: float = 45.0
    region_core_radius: float | None = None
    region_class_weights: list[float] | None = None
    aux_loss_weight_start: float = 1.0
    aux_loss_weight_end: float = 0.01
    aux_loss_decay_epochs: float = 5.0
    aux_loss_weight_floor: float = 0.01
    aux_loss_schedule_unit: str = "epoch"

    def __post_init__(self, **kwargs):
        # id2label/label2id always follow the region scheme; stale values from a saved config are dropped.
        kwargs.pop("num_labels", None)
        self.id2label = None
        self.label2id = None
        super().__post_init__(**kwargs)
        self.attribute_names = list(self.attribute_names or ATTRIBUTE_NAMES)
        self._validate()
        names = region_names(self.region_scheme, self.region_bin_width, self.region_core_radius)
        self.id2label = dict(enumerate(names))
        self.label2id = {name: index for index, name in self.id2label.items()}

    def _validate(self):
        encoder = self.encoder_config
        if not all(hasattr(encoder, key) for key in ("conv_kernel", "conv_stride", "hidden_size")):
            raise ValueError(
                f"encoder_config must be a self-supervised speech encoder with a convolutional feature encoder "
                f"(wavlm, wav2vec2, hubert, ...), got model_type={encoder.model_type!r}, which has no "
                "conv_kernel/conv_stride."
            )
        if self.pooling_type not in POOLING_TYPES:
            raise ValueError(f"Unknown pooling_type {self.pooling_type!r}; expected one of {POOLING_TYPES}.")
        if self.region_scheme not in REGION_SCHEMES:
            raise ValueError(f"Unknown region_scheme {self.region_scheme!r}; expected one of {REGION_SCHEMES}.")
        if self.pooling_attention_scale not in ("hidden", "head"):
            raise ValueError(
                f"pooling_attention_scale must be 'hidden' or 'head', got {self.pooling_attention_scale!r}."
            )
        if self.pooling_type == "style" and self.pooling_hidden_size % self.pooling_num_heads:
            raise ValueError(
                f"pooling_hidden_size ({self.pooling_hidden_size}) must be divisible by pooling_num_heads "
                f"({self.pooling_num_heads})."
            )
        if len(self.attribute_names) != 3:
            raise ValueError(f"attribute_names must name 3 attributes (A, V, D order), got {self.attribute_names}.")
        if not self.label_scale_max > self.label_scale_min:
            raise ValueError(
                f"label_scale_max ({self.label_scale_max}) must be greater than label_scale_min "
                f"({self.label_scale_min})."
            )
        if self.aux_loss_schedule_unit not in ("epoch", "step"):
            raise ValueError(
                f"aux_loss_schedule_unit must be 'epoch' or 'step', got {self.aux_loss_schedule_unit!r}."
            )
        num_regions = len(region_names(self.region_scheme, self.region_bin_width, self.region_core_radius))
        if self.region_class_weights is not None and len(self.region_class_weights) != num_regions:
            raise ValueError(
                f"region_class_weights has {len(self.region_class_weights)} values but the "
                f"{self.region_scheme!r} scheme has {num_regions} regions."
            )

    @property
    def num_regions(self) -> int:
        return len(self.id2label)


__all__ = ["EmoSphereConfig"]
