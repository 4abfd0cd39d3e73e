#!/usr/bin/env python
"""Peak memory of the speech-emotion-recognition pipeline on a 10-minute vs a 30-second recording.

Each recording runs in a fresh process (peak RSS is per process); the pipeline scores 10-second
windows, so its memory should follow the window, not the recording. Prints the ratio.

    python bench/long_recording_memory.py [--encoder base|tiny]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def probe(folder: str, seconds: float):
    """Child process of `peak`: runs the pipeline on one recording and prints its peak RSS as JSON."""
    import numpy as np
    from transformers import pipeline

    from peak_memory import peak_rss_mib

    sys.path.insert(0, str(ROOT))
    import modeling_emosphere  # noqa: F401  (registers the pipeline task)

    recognise = pipeline("speech-emotion-recognition", model=folder)
    before = peak_rss_mib()
    audio = (np.random.default_rng(0).standard_normal(int(seconds * 16000)) * 0.05).astype(np.float32)
    result = recognise(audio, chunk_length_s=10.0)
    print(json.dumps({"segments": len(result["segments"]), "rss_mib": peak_rss_mib(), "rss_before_mib": before}))


def build_model(folder: Path, encoder: str):
    sys.path.insert(0, str(ROOT))
    from transformers import WavLMConfig

    from modeling_emosphere import EmoSphereConfig, EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition

    sizes = {
        "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
        "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
    }[encoder]
    config = EmoSphereConfig(
        encoder_config=WavLMConfig(**sizes, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True),
        pooling_hidden_size=256, pooling_output_size=256, head_hidden_size=256,
    )
    EmoSphereForSpeechEmotionRecognition(config).save_pretrained(folder)
    EmoSphereFeatureExtractor().save_pretrained(folder)


def peak(folder: Path, seconds: float) -> dict:
    command = [sys.executable, __file__, "--probe", str(folder), str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="base", choices=["base", "tiny"])
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)  # folder seconds
    args = parser.parse_args(argv)
    if args.probe:
        return probe(args.probe[0], float(args.probe[1]))
    folder = Path(tempfile.mkdtemp())
    build_model(folder, args.encoder)
    short, long = peak(folder, 30.0), peak(folder, 600.0)
    ratio = long["rss_mib"] / short["rss_mib"]
    print(f"WavLM-{args.encoder}-shaped model, 10 s windows")
    print(f"30 s recording:  {short['segments']:3d} segments, peak RSS {short['rss_mib']:.0f} MiB")
    print(f"10 min recording: {long['segments']:3d} segments, peak RSS {long['rss_mib']:.0f} MiB")
    print(f"peak memory ratio 10 min / 30 s: {ratio:.3f} (target <= 1.5)")


if __name__ == "__main__":
    main()
