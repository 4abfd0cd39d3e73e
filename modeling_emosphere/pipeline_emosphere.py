"""Inference pipelines of EmoSphere-SER.

* `EmoSphereAudioClassificationPipeline`: the stock audio-classification output (regions with softmax
  scores), but it reads any input form without torchaudio: paths and bytes in any format FFmpeg reads,
  numpy/torch arrays, `{"raw"|"array", "sampling_rate"}` dicts at any rate, stereo included.
* `SpeechEmotionRecognitionPipeline` (task ``speech-emotion-recognition``): named arousal, valence,
  dominance on the model's label scale, the region with its scores, spherical coordinates; with
  ``chunk_length_s`` a timeline of segments plus an utterance-level summary.

Decoding, resampling and downmixing go through torchcodec (FFmpeg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from transformers import Pipeline
from transformers.pipelines.audio_classification import AudioClassificationPipeline

from .spherical import from_unit_scale, vad_to_spherical


def _decoder(source, sampling_rate: int):
    from torchcodec.decoders import AudioDecoder

    return AudioDecoder(source, sample_rate=sampling_rate, num_channels=1)


def _resample(array: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Downmix ``(channels, samples)`` or ``(samples,)`` audio to mono at ``to_rate`` with FFmpeg (via torchcodec)."""
    from torchcodec.encoders import AudioEncoder

    samples = torch.as_tensor(array, dtype=torch.float32)
    samples = samples[None] if samples.dim() == 1 else samples
    encoded = AudioEncoder(samples.clamp(-1.0, 1.0), sample_rate=from_rate).to_tensor("wav")
    return _decoder(encoded, to_rate).get_all_samples().data[0].numpy()


def _channels_first(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 1:
        return array
    if array.ndim == 2:
        # (channels, samples) or (samples, channels): channels is the short side.
        return array if array.shape[0] <= array.shape[1] else array.T
    raise ValueError(f"{name}: expected audio of shape (samples,) or (channels, samples), got {array.shape}.")


def load_audio(inputs, sampling_rate: int, name: str = "input") -> np.ndarray:
    """Any supported input form -> mono float32 waveform at ``sampling_rate``, checked non-empty and finite.

    Forms: a file path, raw file bytes, a 1-D array at ``sampling_rate``, a 2-D array
    (channels, samples) at ``sampling_rate``, a dict with ``raw`` or ``array`` and ``sampling_rate``,
    or a torchcodec ``AudioDecoder`` (what `datasets` gives).
    """
    if isinstance(inputs, (str, bytes)):
        label = name if name != "input" or not isinstance(inputs, str) else inputs
        try:
            waveform = _decoder(inputs, sampling_rate).get_all_samples().data[0].numpy()
        except Exception as error:
            raise ValueError(f"{label}: not a readable audio file ({' '.join(str(error).split())[-160:]}).") from None
        _check_samples(waveform, label)
        return waveform
    if hasattr(inputs, "get_all_samples"):  # a torchcodec AudioDecoder
        samples = inputs.get_all_samples()
        inputs = {"array": samples.data.numpy(), "sampling_rate": samples.sample_rate}
    if isinstance(inputs, dict):
        if "sampling_rate" not in inputs or not ({"raw", "array"} & inputs.keys()):
            raise ValueError(f'{name}: a dict input needs "raw" (or "array") and "sampling_rate" keys.')
        array = inputs["raw"] if "raw" in inputs else inputs["array"]
        rate = inputs["sampling_rate"]
        if not (isinstance(rate, (int, float)) and rate > 0):
            raise ValueError(f"{name}: sampling_rate must be a positive number of Hz, got {rate!r}.")
        array = _channels_first(np.asarray(array.cpu() if hasattr(array, "cpu") else array, dtype=np.float32), name)
        _check_samples(array, name)
        if rate == sampling_rate and array.ndim == 1:
            return array
        return _resample(array, int(rate), sampling_rate)
    if hasattr(inputs, "cpu"):
        inputs = inputs.cpu().numpy()
    if isinstance(inputs, np.ndarray):
        array = _channels_first(inputs.astype(np.float32, copy=False), name)
        _check_samples(array, name)
        return array if array.ndim == 1 else array.mean(axis=0)
    raise TypeError(f"{name}: unsupported input type {type(inputs).__name__}; pass a path, bytes, an array or a dict.")


def _check_samples(array: np.ndarray, name: str):
    if array.size == 0:
        raise ValueError(f"{name}: the audio is empty.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: the audio contains NaN or inf samples.")


@dataclass
class _Named:
    """An item of a list input with the name errors use for it ("input 3 (clip.wav)")."""

    name: str
    value: object


class _ValidatingPreprocess:
    """Shared preprocessing: load any input form, check it is long enough, extract features.

    Items of a list input carry their index, so an error says which item failed.
    """

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple)):
            inputs = [
                _Named(f"input {i}" + (f" ({item})" if isinstance(item, str) else ""), item) for i, item in enumerate(inputs)
            ]
        return super().__call__(inputs, *args, **kwargs)

    def _waveform(self, inputs) -> np.ndarray:
        if isinstance(inputs, _Named):
            name, inputs = inputs.name, inputs.value
        else:
            name = inputs if isinstance(inputs, str) else "input"
        waveform = load_audio(inputs, self.feature_extractor.sampling_rate, name)
        minimum = self.model.base_model.min_input_samples
        if waveform.size < minimum:
            raise ValueError(
                f"{name}: {waveform.size} samples is shorter than the encoder's receptive field ({minimum} samples, "
                f"{1000 * minimum / self.feature_extractor.sampling_rate:.0f} ms)."
            )
        return waveform

    def _features(self, waveform: np.ndarray):
        features = self.feature_extractor(waveform, sampling_rate=self.feature_extractor.sampling_rate, return_tensors="pt")
        return features.to(dtype=self.dtype) if self.dtype is not None else features


class EmoSphereAudioClassificationPipeline(_ValidatingPreprocess, AudioClassificationPipeline):
    """`pipeline("audio-classification")` for EmoSphere models: region labels with softmax scores."""

    def preprocess(self, inputs):
        return self._features(self._waveform(inputs))


class SpeechEmotionRecognitionPipeline(_ValidatingPreprocess, Pipeline):
    """Arousal, valence and dominance with region and spherical coordinates.

    Call with one input or a list (`batch_size` batches them). With ``chunk_length_s`` the audio is
    cut into windows of that length (``stride_length_s`` apart, default the window length), each
    scored alone; the result then holds ``segments`` (start, end, A/V/D, region) and the top-level
    values summarise them, weighted by segment duration. Model memory is bounded by the window.
    """

    def _sanitize_parameters(self, chunk_length_s=None, stride_length_s=None, **kwargs):
        preprocess = {}
        if chunk_length_s is not None:
            if not chunk_length_s > 0:
                raise ValueError(f"chunk_length_s must be positive, got {chunk_length_s}.")
            preprocess["chunk_length_s"] = chunk_length_s
            preprocess["stride_length_s"] = stride_length_s or chunk_length_s
        return preprocess, {}, {}

    def preprocess(self, inputs, chunk_length_s=None, stride_length_s=None):
        waveform = self._waveform(inputs)
        if chunk_length_s is None:
            return self._features(waveform)
        rate = self.feature_extractor.sampling_rate
        window, hop = int(chunk_length_s * rate), int(stride_length_s * rate)
        starts = range(0, max(1, math.ceil((waveform.size - window) / hop) + 1) * hop, hop)
        spans = [(start, min(start + window, waveform.size)) for start in starts if start < waveform.size]
        # A last window shorter than the receptive field joins the one before it.
        if len(spans) > 1 and spans[-1][1] - spans[-1][0] < self.model.base_model.min_input_samples:
            spans[-2:] = [(spans[-2][0], spans[-1][1])]
        return {"waveform": waveform, "spans": spans}

    def _forward(self, model_inputs):
        spans = model_inputs.pop("spans", None)
        if spans is None:
            outputs = self.model(**model_inputs)
            return {"vad": outputs.vad.float(), "logits": outputs.logits.float()}
        waveform = model_inputs["waveform"]
        vad, logits = [], []
        for start, end in spans:  # one window at a time: memory does not grow with the recording
            features = self._features(waveform[start:end]).to(self.device)
            outputs = self.model(**features)
            vad.append(outputs.vad.float())
            logits.append(outputs.logits.float())
        return {"vad": torch.cat(vad), "logits": torch.cat(logits), "spans": [spans]}

    def _describe(self, vad_unit: torch.Tensor, probabilities: torch.Tensor) -> dict:
        config = self.model.config
        values = from_unit_scale(vad_unit, config.label_scale_min, config.label_scale_max).tolist()
        r, theta, phi = vad_to_spherical(vad_unit).tolist()
        names = config.id2label
        return {
            **dict(zip(config.attribute_names, values)),
            "region": names[int(probabilities.argmax())],
            "region_scores": {names[i]: float(p) for i, p in enumerate(probabilities.tolist())},
            "spherical": {"r": r, "theta": theta, "phi": phi},
        }

    def postprocess(self, model_outputs):
        vad, probabilities = model_outputs["vad"], model_outputs["logits"].softmax(dim=-1)
        spans = model_outputs.get("spans")
        if spans is None:
            return self._describe(vad[0], probabilities[0])
        spans = spans[0]
        rate = self.feature_extractor.sampling_rate
        durations = torch.tensor([end - start for start, end in spans], dtype=vad.dtype)
        weights = (durations / durations.sum())[:, None]
        summary = self._describe((vad * weights).sum(0), (probabilities * weights).sum(0))
        summary["segments"] = [
            {"start": start / rate, "end": end / rate, **self._describe(vad[i], probabilities[i])}
            for i, (start, end) in enumerate(spans)
        ]
        return summary


def register_pipelines():
    """Register `speech-emotion-recognition` with transformers' pipeline registry."""
    from transformers import AutoModelForAudioClassification
    from transformers.pipelines import PIPELINE_REGISTRY

    PIPELINE_REGISTRY.register_pipeline(
        "speech-emotion-recognition",
        pipeline_class=SpeechEmotionRecognitionPipeline,
        pt_model=AutoModelForAudioClassification,
        type="audio",
    )


CUSTOM_PIPELINES = {
    "audio-classification": {
        "impl": "pipeline_emosphere.EmoSphereAudioClassificationPipeline",
        "pt": ["AutoModelForAudioClassification"],
        "type": "audio",
    },
    "speech-emotion-recognition": {
        "impl": "pipeline_emosphere.SpeechEmotionRecognitionPipeline",
        "pt": ["AutoModelForAudioClassification"],
        "type": "audio",
    },
}
