"""Synthetic demo corpus: espeak-ng speech whose prosody is driven by latent arousal/valence/dominance.

This is a toy for seeing the whole pipeline learn on a laptop-class CPU in minutes. It is synthetic
and says nothing about recognising human emotion: it is not a benchmark.

Each clip draws latent A/V/D in [-1, 1] (normalised units) and maps them to espeak-ng SSML prosody:

| cue | driven by | mapping |
| --- | --- | --- |
| speaking rate | arousal (+ a little dominance) | ``100% * 2 ** (0.6 A + 0.1 D + noise)`` |
| gaps between words | arousal | ``clip(120 - 120 A + noise, 0, 250)`` ms (espeak-ng ``-g``) |
| pause between phrases | arousal | ``max(0, 500 - 450 A + noise)`` ms |
| pitch range | arousal (+ a little valence) | ``+70 A + 20 V + noise`` percent |
| pitch level | valence (+ a little arousal) | ``+50 V + 10 A + noise`` percent |
| loudness | dominance (+ a little arousal) | ``60% * 2 ** (1.1 D + 0.2 A + noise)`` |
| vocal effort (spectral tilt) | dominance | pre-emphasis ``0.5 + 0.45 D + noise`` |

Every clip carries white noise at one fixed level (RMS 0.02), so loudness shows as signal-to-noise
ratio. Speakers are espeak-ng voice variants (male-range base pitch); each speaker's own pitch and timbre is a nuisance the model
must see past. Labels are the latents on the 1..7 scale plus rater noise (sd 0.25), clipped to the
scale. Splits are disjoint by speaker and by sentence. The corpus is written as an audiofolder
(``<root>/<split>/*.wav`` at 16 kHz + ``metadata.csv``) and is a deterministic function of the seed.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchcodec.decoders import AudioDecoder
from torchcodec.encoders import AudioEncoder
from tqdm.auto import tqdm

# Voice variants with a male-range base pitch: their differences in timbre and base pitch stay a
# nuisance, but smaller than the valence pitch cue (a female base pitch is about +100%).
SPEAKERS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "adam", "paul", "david", "john", "max", "michel",
    "robert", "zac", "travis", "victor", "norbert", "sandro",
)  # fmt: skip
SUBJECTS = (
    "The old sailor", "My neighbour", "A tall stranger", "The young doctor", "Our teacher", "The baker",
    "Her brother", "The pilot", "A quiet student", "The farmer", "His cousin", "The gardener",
    "A famous singer", "The driver", "My grandmother", "The captain", "A little girl", "The engineer",
)  # fmt: skip
VERBS = (
    "carried", "painted", "found", "sold", "opened", "repaired", "cleaned", "described", "borrowed",
    "returned", "noticed", "ordered", "packed", "measured", "wrapped", "examined",
)  # fmt: skip
OBJECTS = (
    "a wooden box", "the blue umbrella", "an old map", "the broken clock", "a basket of apples",
    "the heavy suitcase", "a silver key", "the kitchen table", "a stack of letters", "the red bicycle",
    "a jar of honey", "the front door", "a paper lantern", "the garden gate", "a woollen scarf",
)  # fmt: skip
PLACES = (
    "before the storm", "near the harbour", "after lunch", "in the morning", "behind the station",
    "at the market", "on a Sunday", "under the bridge", "beside the river", "during the holidays",
    "in the village", "at midnight",
)  # fmt: skip

SPLITS = {"train": 0.7, "validation": 0.1, "test": 0.2}  # shares of speakers and of sentences
LABEL_SCALE = (1.0, 7.0)
SAMPLING_RATE = 16000
NOISE_FLOOR_RMS = 0.02  # speech at 100% volume has an RMS of about 0.08


@dataclass
class DemoCorpusConfig:
    clips_per_split: tuple[int, int, int] = (800, 120, 240)  # train, validation, test
    seed: int = 0
    label_noise: float = 0.25  # rater noise on the 1..7 scale


def _sentences(rng: np.random.Generator) -> list[str]:
    grid = np.array(np.meshgrid(*(np.arange(len(p)) for p in (SUBJECTS, VERBS, OBJECTS, PLACES)))).reshape(4, -1).T
    rng.shuffle(grid)
    return [f"{SUBJECTS[s]} {VERBS[v]} {OBJECTS[o]}, {PLACES[p]}." for s, v, o, p in grid]


def _partition(items: list, rng: np.random.Generator) -> dict[str, list]:
    items = list(items)
    rng.shuffle(items)
    counts = [round(share * len(items)) for share in SPLITS.values()]
    counts[0] = len(items) - sum(counts[1:])
    bounds = np.cumsum([0, *counts])
    return {split: items[bounds[i] : bounds[i + 1]] for i, split in enumerate(SPLITS)}


def prosody(text: str, arousal: float, valence: float, dominance: float, rng: np.random.Generator) -> dict:
    """espeak-ng settings of an utterance whose prosody encodes latent A/V/D in [-1, 1]."""
    noise = lambda scale: rng.normal(0.0, scale)  # noqa: E731
    rate = 100 * 2 ** (0.6 * arousal + 0.1 * dominance + noise(0.08))
    word_gap = int(np.clip(round(12 - 12 * arousal + noise(1.0)), 0, 25))
    pause = max(0.0, 500 - 450 * arousal + noise(50))
    pitch = 50 * valence + 10 * arousal + noise(6)
    pitch_range = 70 * arousal + 20 * valence + noise(10)
    volume = 60 * 2 ** (1.1 * dominance + 0.2 * arousal + noise(0.08))
    effort = float(np.clip(0.5 + 0.45 * dominance + noise(0.04), 0.0, 0.97))
    first, second = text.rsplit(", ", 1)
    tag = f'<prosody rate="{rate:.0f}%" pitch="{pitch:+.0f}%" range="{pitch_range:+.0f}%" volume="{volume:.0f}%">'
    ssml = f'<speak>{tag}{first},</prosody><break time="{pause:.0f}ms"/>{tag}{second}</prosody></speak>'
    return {"ssml": ssml, "word_gap": word_gap, "effort": effort}


def synthesise(ssml: str, word_gap: int, effort: float, voice: str, path: Path, rng: np.random.Generator):
    """espeak-ng speech with vocal effort, over a fixed-level noise floor, written as 16 kHz WAV with torchcodec.

    Vocal effort is a first-order pre-emphasis ``y[n] = x[n] - effort * x[n-1]`` at the same RMS: more
    effort, relatively more high-frequency energy, as in louder human speech. The noise floor turns
    loudness into signal-to-noise ratio. Both survive the per-frame normalisation of speech encoders
    (WavLM's LayerNorm), which hides absolute level.
    """
    wav = subprocess.run(
        ["espeak-ng", "-v", f"en-us+{voice}", "-g", str(word_gap), "-m", "--stdout", ssml], check=True, capture_output=True
    ).stdout
    samples = AudioDecoder(wav, sample_rate=SAMPLING_RATE).get_all_samples().data
    tilted = samples.clone()
    tilted[:, 1:] -= effort * samples[:, :-1]
    tilted *= samples.square().mean().sqrt() / tilted.square().mean().sqrt().clamp(min=1e-8)
    noise = torch.from_numpy(rng.normal(0.0, NOISE_FLOOR_RMS, size=samples.shape).astype(np.float32))
    AudioEncoder((tilted + noise).clamp(-1.0, 1.0), sample_rate=SAMPLING_RATE).to_file(str(path))


def generate_demo_corpus(root: str | Path, config: DemoCorpusConfig | None = None) -> Path:
    """Write the demo corpus to ``root`` (an audiofolder) unless it is already complete; returns ``root``."""
    config = config or DemoCorpusConfig()
    root = Path(root)
    if (root / "COMPLETE").exists():
        return root
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: `apt-get install espeak-ng` (make demo does this).")
    rng = np.random.default_rng(config.seed)
    speakers = _partition(SPEAKERS, rng)
    sentences = _partition(_sentences(rng), rng)
    low, high = LABEL_SCALE
    total = sum(config.clips_per_split)
    with tqdm(total=total, desc="Synthesising demo corpus (espeak-ng)", unit="clip") as progress:
        for split, count in zip(SPLITS, config.clips_per_split):
            folder = root / split
            folder.mkdir(parents=True, exist_ok=True)
            rows = []
            for index in range(count):
                latent = rng.uniform(-0.95, 0.95, size=3)
                speaker = speakers[split][index % len(speakers[split])]
                text = sentences[split][index % len(sentences[split])]
                file_name = f"{split}_{index:05d}.wav"
                synthesise(**prosody(text, *latent, rng=rng), voice=speaker, path=folder / file_name, rng=rng)
                labels = np.clip(latent * (high - low) / 2 + (high + low) / 2 + rng.normal(0, config.label_noise, 3), low, high)
                rows.append([file_name, *np.round(labels, 3), speaker, text])
                progress.update()
            with open(folder / "metadata.csv", "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["file_name", "arousal", "valence", "dominance", "speaker", "text"])
                writer.writerows(rows)
    (root / "COMPLETE").write_text(f"seed={config.seed}\n")
    return root
