"""Waveform feature extractor of EmoSphere-SER: validation, normalisation, padding, attention mask."""

from __future__ import annotations

import numpy as np
from transformers.feature_extraction_sequence_utils import SequenceFeatureExtractor
from transformers.feature_extraction_utils import BatchFeature

NORMALIZATIONS = ("global", "utterance", "none")


class EmoSphereFeatureExtractor(SequenceFeatureExtractor):
    r"""
    Prepares mono 16 kHz waveforms for [`EmoSphereForSpeechEmotionRecognition`].

    Args:
        sampling_rate (`int`, *optional*, defaults to 16000):
            Sampling rate the model expects, in Hz.
        normalization (`str`, *optional*, defaults to `"global"`):
            `"global"`: `(x - waveform_mean) / waveform_std` with one mean/std computed over the training
            audio (the paper's choice: it keeps loudness, which carries arousal and dominance);
            `"utterance"`: zero mean and unit variance per clip (Wav2Vec2's `do_normalize`); `"none"`.
        waveform_mean (`float`, *optional*, defaults to 0.0):
            Global mean of the training waveforms (used by `"global"`).
        waveform_std (`float`, *optional*, defaults to 1.0):
            Global standard deviation of the training waveforms (used by `"global"`).
        padding_value (`float`, *optional*, defaults to 0.0):
            Value of padded samples (after normalisation).
        return_attention_mask (`bool`, *optional*, defaults to `True`):
            Return `attention_mask` (1 on valid samples), which the model needs to pool only valid frames.
    """

    model_input_names = ["input_values", "attention_mask"]

    def __init__(
        self,
        feature_size: int = 1,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        normalization: str = "global",
        waveform_mean: float = 0.0,
        waveform_std: float = 1.0,
        return_attention_mask: bool = True,
        **kwargs,
    ):
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {normalization!r}; expected one of {NORMALIZATIONS}.")
        if not waveform_std > 0:
            raise ValueError(f"waveform_std must be positive, got {waveform_std}.")
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.normalization = normalization
        self.waveform_mean = float(waveform_mean)
        self.waveform_std = float(waveform_std)

    def normalize(self, waveform: np.ndarray) -> np.ndarray:
        """Normalise one mono waveform ``(samples,)`` as configured; returns float32."""
        if self.normalization == "global":
            waveform = (waveform - self.waveform_mean) / self.waveform_std
        elif self.normalization == "utterance":
            waveform = (waveform - waveform.mean()) / np.sqrt(waveform.var() + 1e-7)
        return waveform.astype(np.float32, copy=False)

    @staticmethod
    def _as_items(raw_speech) -> list[np.ndarray]:
        if hasattr(raw_speech, "detach"):  # torch tensor
            raw_speech = raw_speech.detach().cpu().numpy()
        if isinstance(raw_speech, np.ndarray):
            if raw_speech.ndim == 1:
                return [raw_speech]
            if raw_speech.ndim == 2:
                return list(raw_speech)
            raise ValueError(
                f"Expected a mono waveform (samples,) or a batch (batch, samples), got an array of shape "
                f"{raw_speech.shape}; downmix multi-channel audio first."
            )
        if isinstance(raw_speech, (list, tuple)) and raw_speech and not np.isscalar(raw_speech[0]):
            return [item.detach().cpu().numpy() if hasattr(item, "detach") else np.asarray(item) for item in raw_speech]
        return [np.asarray(raw_speech)]

    def __call__(
        self,
        raw_speech,
        sampling_rate: int | None = None,
        padding: bool | str = True,
        max_length: int | None = None,
        truncation: bool = False,
        pad_to_multiple_of: int | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        **kwargs,
    ) -> BatchFeature:
        """Validate, normalise and pad one waveform or a batch of them.

        Args:
            raw_speech: a mono waveform ``(samples,)`` (numpy, torch or list of floats), a list of them,
                or a 2-D array ``(batch, samples)``, at ``sampling_rate``.
            sampling_rate: sampling rate of ``raw_speech`` in Hz; must equal the extractor's.

        Returns:
            `BatchFeature` with `input_values` ``(batch, samples)`` and `attention_mask`.
        """
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise ValueError(
                f"Audio at {sampling_rate} Hz given to a feature extractor for {self.sampling_rate} Hz; resample it "
                f"first (e.g. datasets' Audio(sampling_rate={self.sampling_rate}) or the speech-emotion-recognition "
                "pipeline, which resamples)."
            )
        items = self._as_items(raw_speech)
        normalized = []
        for index, item in enumerate(items):
            item = np.asarray(item, dtype=np.float64)
            if item.ndim != 1:
                raise ValueError(
                    f"Item {index} has shape {item.shape}; expected mono audio (samples,). Downmix stereo with "
                    ".mean(axis=0) (channels first) first."
                )
            if item.size == 0:
                raise ValueError(f"Item {index} is empty (0 samples).")
            if not np.isfinite(item).all():
                raise ValueError(f"Item {index} contains NaN or inf samples.")
            normalized.append(self.normalize(item))
        return self.pad(
            BatchFeature({"input_values": normalized}),
            padding=padding,
            max_length=max_length,
            truncation=truncation,
            pad_to_multiple_of=pad_to_multiple_of,
            return_attention_mask=self.return_attention_mask if return_attention_mask is None else return_attention_mask,
            return_tensors=return_tensors,
        )


__all__ = ["EmoSphereFeatureExtractor"]
