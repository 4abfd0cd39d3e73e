#!/usr/bin/env python
"""Benchmarks of EmoSphere-SER against the bare encoder and WavLMForSequenceClassification.

Every number is a ratio of two things measured side by side in this run (minimum and median of
several repeats), written with the machine, versions and command to BENCHMARKS.md.

    python bench/run_all.py --output BENCHMARKS.md               # CPU, fp32
    python bench/run_all.py --device cuda --dtype bf16 --output BENCHMARKS-cuda.md
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import WavLMConfig, WavLMForSequenceClassification, WavLMModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeling_emosphere import EmoSphereConfig, EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition  # noqa: E402
from modeling_emosphere.pooling_emosphere import AttentiveStatisticsPooling, StylePooling  # noqa: E402

RATE = 16000
SHAPES = {
    "WavLM-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                        feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True),
    "WavLM-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                       feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True),
}  # fmt: skip
NO_DROPOUT = dict(layerdrop=0.0, mask_time_prob=0.0, hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)


class Bench:
    def __init__(self, device: str, dtype: torch.dtype, repeats: int):
        self.device, self.dtype, self.repeats = torch.device(device), dtype, repeats
        self.rows: list[tuple[str, str, float, float, str]] = []

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def autocast(self):
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def time(self, fn, warmup: int = 1) -> list[float]:
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            fn()
            self.sync()
            times.append(time.perf_counter() - start)
        return times

    def compare(self, name: str, numerator, denominator, target: str = ""):
        """Time two callables interleaved (a, b, a, b, ...) and record min and median of a / b."""
        numerator(), denominator()  # warm-up both
        self.sync()
        a, b = [], []
        for _ in range(self.repeats):
            a += self.time(numerator, warmup=0)[:1]
            b += self.time(denominator, warmup=0)[:1]
        ratio_min, ratio_median = min(a) / min(b), statistics.median(a) / statistics.median(b)
        detail = f"{min(a) * 1e3:.1f} ms vs {min(b) * 1e3:.1f} ms"
        self.rows.append((name, detail, ratio_min, ratio_median, target))
        print(f"{name:<72} min {ratio_min:6.3f}  median {ratio_median:6.3f}  ({detail}) {target}", flush=True)
        return ratio_min


def uneven_batch(batch: int, seconds: float, device, seed: int = 0):
    """A batch of uneven clips: lengths from 60% to 100% of ``seconds``, right-padded, with mask."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.linspace(0.6, 1.0, batch).mul(seconds * RATE).long()
    values = torch.randn(batch, int(lengths.max()), generator=generator) * 0.1
    mask = (torch.arange(values.shape[1])[None] < lengths[:, None]).long()
    return (values * mask).to(device), mask.to(device)


def build(shape: str, device, pooling_type: str = "style"):
    encoder_config = WavLMConfig(**SHAPES[shape], **NO_DROPOUT)
    config = EmoSphereConfig(encoder_config=encoder_config, pooling_type=pooling_type)
    full = EmoSphereForSpeechEmotionRecognition(config).to(device)
    baseline = WavLMForSequenceClassification(WavLMConfig(**SHAPES[shape], **NO_DROPOUT, num_labels=8)).to(device)
    baseline.wavlm.load_state_dict(full.emosphere.encoder.state_dict())
    baseline.freeze_feature_encoder()
    return full, baseline


def inference(bench: Bench, shape: str, batch: int, seconds: float):
    full, baseline = build(shape, bench.device)
    full.eval(), baseline.eval()
    values, mask = uneven_batch(batch, seconds, bench.device)
    encoder = full.emosphere.encoder
    with torch.inference_mode(), bench.autocast():
        hidden = encoder(values, attention_mask=mask).last_hidden_state
        frame_mask = full.emosphere.frame_mask(mask.sum(-1), hidden.shape[1])
        pooled = full.emosphere.pooling(hidden, frame_mask)

        def run_full():
            return full(values, attention_mask=mask)

        def run_encoder():
            return encoder(values, attention_mask=mask)

        def run_parts():
            encoder(values, attention_mask=mask)
            full.emosphere.pooling(hidden, frame_mask)
            full.vad_head(pooled), full.region_head(pooled)

        tag = f"inference {shape}, batch {batch} x {seconds:g} s uneven"
        bench.compare(f"{tag}: full model / bare encoder", run_full, run_encoder,
                      "<= 1.07" if shape == "WavLM-large" else "(pooling is real compute)")  # fmt: skip
        bench.compare(f"{tag}: full model / WavLMForSequenceClassification", run_full, lambda: baseline(values, attention_mask=mask))
        bench.compare(f"{tag}: full model / sum of parts (composition overhead)", run_full, run_parts, "<= 1.03")


def peak_memory(bench: Bench, fn) -> float:
    """Peak memory of one call in MiB: CUDA allocator peak, or growth of the process's max RSS on CPU."""
    if bench.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    # CPU: growth of this process's max RSS; a fresh process per model would be cleaner.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn()
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, 0) / 1024


def training_step(bench: Bench, shape: str, batch: int, seconds: float):
    full, baseline = build(shape, bench.device)
    full.train(), baseline.train()
    values, mask = uneven_batch(batch, seconds, bench.device)
    labels = torch.rand(batch, 3, device=bench.device) * 6 + 1
    classes = torch.randint(0, 8, (batch,), device=bench.device)
    optimizers = {id(m): torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-5) for m in (full, baseline)}

    def step(model, **targets):
        with bench.autocast():
            loss = model(values, attention_mask=mask, **targets).loss
        loss.backward()
        optimizers[id(model)].step()
        optimizers[id(model)].zero_grad(set_to_none=True)

    def run_full():
        step(full, labels=labels)

    def run_baseline():
        step(baseline, labels=classes)

    def run_parts():
        # The same work split at the module boundaries, with the graph cut between parts.
        with bench.autocast():
            hidden = full.emosphere.encoder(values, attention_mask=mask).last_hidden_state
            frame_mask = full.emosphere.frame_mask(mask.sum(-1), hidden.shape[1])
            hidden_leaf = hidden.detach().requires_grad_()
            pooled = full.emosphere.pooling(hidden_leaf, frame_mask)
            pooled_leaf = pooled.detach().requires_grad_()
            vad, logits = full.vad_head(pooled_leaf), full.region_head(pooled_leaf)
            loss = vad.float().square().mean() + logits.float().logsumexp(-1).mean()
        loss.backward()
        pooled.backward(pooled_leaf.grad)
        hidden.backward(hidden_leaf.grad)
        optimizers[id(full)].step()
        optimizers[id(full)].zero_grad(set_to_none=True)

    tag = f"training step {shape}, batch {batch} x {seconds:g} s"
    bench.compare(f"{tag}: full model / WavLMForSequenceClassification", run_full, run_baseline,
                  "<= 1.10" if shape == "WavLM-large" else "")  # fmt: skip
    bench.compare(f"{tag}: full model / sum of parts (composition overhead)", run_full, run_parts, "<= 1.03")
    full_peak, baseline_peak = peak_memory(bench, run_full), peak_memory(bench, run_baseline)
    ratio = full_peak / max(baseline_peak, 1e-9)
    detail = f"{full_peak:.0f} MiB vs {baseline_peak:.0f} MiB"
    bench.rows.append((f"{tag}: peak memory full / WavLMForSequenceClassification", detail, ratio, ratio, "<= 1.10"))
    print(f"{tag}: peak memory ratio {ratio:.3f} ({detail})", flush=True)


def pooling(bench: Bench, batch: int, seconds: float):
    frames = int(seconds * 50)
    style = StylePooling(1024).to(bench.device).eval()
    attentive = AttentiveStatisticsPooling(1024).to(bench.device).eval()
    hidden = torch.randn(batch, frames, 1024, device=bench.device)
    lengths = torch.linspace(0.6, 1.0, batch).mul(frames).long().to(bench.device)
    mask = torch.arange(frames, device=bench.device)[None] < lengths[:, None]
    per_item_lengths = lengths.tolist()

    def batched():
        return style(hidden, mask)

    def per_item():  # the authors' approach: one utterance at a time, no padding
        return torch.cat([style(hidden[i : i + 1, :n], mask[i : i + 1, :n]) for i, n in enumerate(per_item_lengths)])

    with torch.inference_mode(), bench.autocast():
        torch.testing.assert_close(batched(), per_item(), atol=1e-3, rtol=1e-3)
        bench.compare(f"style pooling, batch {batch} x {frames} frames: batched with masks / per-item loop", batched, per_item,
                      "<= 1.0 (CPU); GPU: >= 3x faster")  # fmt: skip
        bench.compare(f"style pooling / attentive statistics pooling, batch {batch}", batched, lambda: attentive(hidden, mask))


def data_path(bench: Bench, clips: int, workers: int):
    """Decode + resample + feature extraction throughput vs the WavLM-base-shaped model's training throughput."""
    import subprocess

    from torch.utils.data import DataLoader

    from modeling_emosphere.training.data import CropTransform, EmoSphereCollator
    from datasets import Audio, Dataset

    folder = Path(tempfile.mkdtemp())
    source = folder / "source.wav"
    subprocess.run(["espeak-ng", "-w", str(source), "This clip measures how fast the data path runs. " * 2], check=True)
    paths = []
    for i in range(clips):  # 44.1 kHz stereo FLAC: decoding, downmixing and resampling all do work
        path = folder / f"clip{i}.flac"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(source), "-ar", "44100", "-ac", "2", "-af", f"volume={0.5 + i / clips}", str(path)], check=True)
        paths.append(str(path))
    dataset = Dataset.from_dict({"audio": paths, "arousal": [4.0] * clips, "valence": [4.0] * clips, "dominance": [4.0] * clips})
    dataset = dataset.cast_column("audio", Audio(sampling_rate=RATE, num_channels=1)).with_transform(CropTransform(4.0, random=True))
    collator = EmoSphereCollator(EmoSphereFeatureExtractor())
    batch = 8
    loader = DataLoader(dataset, batch_size=batch, collate_fn=collator, num_workers=workers)

    def load_all():
        for _ in loader:
            pass

    load_times = bench.time(load_all)
    data_rate = clips / min(load_times)

    full, _ = build("WavLM-base", bench.device)
    full.train()
    optimizer = torch.optim.AdamW([p for p in full.parameters() if p.requires_grad], lr=1e-5)
    first = next(iter(DataLoader(dataset, batch_size=batch, collate_fn=collator)))
    values, mask, labels = first["input_values"].to(bench.device), first["attention_mask"].to(bench.device), first["labels"].to(bench.device) + 1

    def train_step():
        with bench.autocast():
            loss = full(values, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    train_rate = batch / min(bench.time(train_step))
    ratio = data_rate / train_rate
    detail = f"{data_rate:.1f} clips/s (num_workers={workers}) vs {train_rate:.1f} clips/s"
    bench.rows.append((f"data path (decode 44.1 kHz stereo FLAC + resample + features) / WavLM-base training", detail, ratio, ratio, ">= 2"))
    print(f"data path / training throughput: {ratio:.2f} ({detail})", flush=True)


def write_report(bench: Bench, path: Path, command: str):
    lines = [
        "# Benchmarks",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
        + (torch.cuda.get_device_name() if bench.device.type == "cuda" else platform.processor() or "CPU")
        + f"; dtype {str(bench.dtype).removeprefix('torch.')}; repeats {bench.repeats}.",
        f"Versions: python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}.",
        "",
        "Ratios of two things timed side by side in this run (interleaved), random weights, uneven lengths.",
        "",
        "| measurement | absolute (min) | ratio (min) | ratio (median) | target |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    lines += [f"| {name} | {detail} | {low:.3f} | {median:.3f} | {target} |" for name, detail, low, median, target in bench.rows]
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--only", nargs="*", default=["inference", "training", "pooling", "data"])
    args = parser.parse_args(argv)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    bench = Bench(args.device, dtype, args.repeats)
    torch.manual_seed(0)
    cuda = bench.device.type == "cuda"
    if "inference" in args.only:
        inference(bench, "WavLM-large", 8, 4.0)
        inference(bench, "WavLM-base", 8, 4.0)
    if "training" in args.only:
        training_step(bench, "WavLM-large", 4, 4.0)
    if "pooling" in args.only:
        pooling(bench, 16, 4.0)
    if "data" in args.only:
        data_path(bench, clips=32 if not cuda else 128, workers=2 if not cuda else 8)
    write_report(bench, args.output, "python " + " ".join(["bench/run_all.py", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":
    np.random.seed(0)
    main()
