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
import statistics
import subprocess
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
from peak_memory import peak_rss_mib  # noqa: E402  (bench/ is the script's folder)

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

    def time(self, fn) -> float:
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - start

    def rounds(self, candidates: dict) -> dict[str, list[float]]:
        """Time every candidate once per round, interleaved, after one warm-up round; seconds per candidate.

        Each round starts one candidate later, so that no candidate always runs in the same position
        (right after the same other one): on a shared CPU the position alone moves a time by 10%.
        """
        for fn in candidates.values():
            fn()
        times = {name: [] for name in candidates}
        names = list(candidates)
        for round_index in range(self.repeats):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(self.time(candidates[name]))
        return times

    @staticmethod
    def ratios(times: dict, numerator: str, denominator: str) -> tuple[float, float]:
        """``min(numerator) / min(denominator)`` and the median of the per-round ratios.

        A ratio within one round compares two runs minutes apart at most, so a slow drift of the
        machine's load (a neighbour on a shared CPU) cancels out of the median.
        """
        a, b = times[numerator], times[denominator]
        return min(a) / min(b), statistics.median(x / y for x, y in zip(a, b))

    def ratio(self, name: str, times: dict, numerator: str, denominator: str, target: str = ""):
        """Record the time ratios of two candidates (see `ratios`)."""
        a, b = times[numerator], times[denominator]
        detail = f"{min(a) * 1e3:.1f} ms vs {min(b) * 1e3:.1f} ms"
        self.record(name, detail, *self.ratios(times, numerator, denominator), target)

    def record(self, name: str, detail: str, ratio_min: float, ratio_median: float, target: str = ""):
        self.rows.append((name, detail, ratio_min, ratio_median, target))
        print(f"{name:<80} min {ratio_min:6.3f}  median {ratio_median:6.3f}  ({detail}) {target}", flush=True)


def uneven_batch(batch: int, seconds: float, device, seed: int = 0):
    """A batch of uneven clips: lengths from 60% to 100% of ``seconds``, right-padded, with mask."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.linspace(0.6, 1.0, batch).mul(seconds * RATE).long()
    values = torch.randn(batch, int(lengths.max()), generator=generator) * 0.1
    mask = (torch.arange(values.shape[1])[None] < lengths[:, None]).long()
    return (values * mask).to(device), mask.to(device)


def build_full(shape: str, device) -> EmoSphereForSpeechEmotionRecognition:
    config = EmoSphereConfig(encoder_config=WavLMConfig(**SHAPES[shape], **NO_DROPOUT), pooling_type="style")
    return EmoSphereForSpeechEmotionRecognition(config).to(device)


def build_baseline(shape: str, device, encoder: torch.nn.Module | None = None) -> WavLMForSequenceClassification:
    """transformers' own sequence classifier on the same encoder (its weights copied when given)."""
    baseline = WavLMForSequenceClassification(WavLMConfig(**SHAPES[shape], **NO_DROPOUT, num_labels=8)).to(device)
    if encoder is not None:
        baseline.wavlm.load_state_dict(encoder.state_dict())
    baseline.freeze_feature_encoder()
    return baseline


def inference(bench: Bench, shape: str, batch: int, seconds: float):
    full = build_full(shape, bench.device).eval()
    baseline = build_baseline(shape, bench.device, full.emosphere.encoder).eval()
    values, mask = uneven_batch(batch, seconds, bench.device)
    encoder, pooling = full.emosphere.encoder, full.emosphere.pooling
    with torch.inference_mode(), bench.autocast():
        hidden = encoder(values, attention_mask=mask).last_hidden_state
        frame_mask = full.emosphere.frame_mask(mask.sum(-1), hidden.shape[1])
        pooled = pooling(hidden, frame_mask)

        def parts():  # the same work with the wiring taken out: each part on precomputed inputs
            encoder(values, attention_mask=mask)
            pooling(hidden, frame_mask)
            full.vad_head(pooled), full.region_head(pooled)

        times = bench.rounds({
            "full": lambda: full(values, attention_mask=mask),
            "encoder": lambda: encoder(values, attention_mask=mask),
            "baseline": lambda: baseline(values, attention_mask=mask),
            "parts": parts,
            "pooling": lambda: pooling(hidden, frame_mask),
        })  # fmt: skip
    tag = f"inference {shape}, batch {batch} x {seconds:g} s uneven"
    bench.ratio(f"{tag}: full model / bare encoder", times, "full", "encoder",
                "<= 1.07" if shape == "WavLM-large" else "(pooling is real compute)")  # fmt: skip
    floor = 1 + min(times["pooling"]) / min(times["encoder"])
    bench.record(f"{tag}: floor = 1 + style pooling alone / bare encoder", f"{min(times['pooling']) * 1e3:.1f} ms pooling", floor, floor)
    bench.ratio(f"{tag}: full model / WavLMForSequenceClassification", times, "full", "baseline")
    bench.ratio(f"{tag}: full model / sum of parts (composition overhead)", times, "full", "parts", "<= 1.03")


def training_steps(bench: Bench, model: torch.nn.Module, values, mask) -> dict:
    """One optimizer step of ``model`` on the batch, and (for EmoSphere) the same step split at module boundaries."""
    batch = values.shape[0]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    if isinstance(model, WavLMForSequenceClassification):
        targets = dict(labels=torch.randint(0, 8, (batch,), device=bench.device))
    else:
        targets = dict(labels=torch.rand(batch, 3, device=bench.device) * 6 + 1)

    def finish(loss):
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def step():
        with bench.autocast():
            loss = model(values, attention_mask=mask, **targets).loss
        finish(loss)

    steps = {"step": step}
    if isinstance(model, EmoSphereForSpeechEmotionRecognition):

        def parts():  # the graph cut between encoder, pooling and heads: each part's forward and backward alone
            core = model.emosphere
            with bench.autocast():
                hidden = core.encoder(values, attention_mask=mask).last_hidden_state
                frame_mask = core.frame_mask(mask.sum(-1), hidden.shape[1])
                hidden_leaf = hidden.detach().requires_grad_()
                pooled = core.pooling(hidden_leaf, frame_mask)
                pooled_leaf = pooled.detach().requires_grad_()
                vad, logits = model.vad_head(pooled_leaf), model.region_head(pooled_leaf)
                loss = vad.float().square().mean() + logits.float().logsumexp(-1).mean()
            loss.backward()
            pooled.backward(pooled_leaf.grad)
            finish(hidden.mul(hidden_leaf.grad).sum())

        def pooling():  # the style pooling layer's own forward and backward: the floor of the added cost
            with bench.autocast():
                model.emosphere.pooling(hidden, frame_mask).float().sum().backward()

        added = [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith("emosphere.encoder.")]
        added_grads = [torch.randn_like(p) for p in added]
        added_optimizer = torch.optim.AdamW(added, lr=1e-5)

        def optimizer_share():  # AdamW over the parameters the bare encoder does not have (pooling, heads)
            for parameter, grad in zip(added, added_grads):
                parameter.grad = grad
            added_optimizer.step()
            added_optimizer.zero_grad(set_to_none=True)

        frames = int(model.emosphere.encoder._get_feat_extract_output_lengths(torch.tensor(values.shape[1])))
        frame_mask = model.emosphere.frame_mask(mask.sum(-1), frames)
        hidden = torch.randn(batch, frames, model.config.encoder_config.hidden_size, device=bench.device, requires_grad=True)
        steps["parts"], steps["pooling"], steps["optimizer_share"] = parts, pooling, optimizer_share
    return steps


def training_step(bench: Bench, shape: str, batch: int, seconds: float):
    values, mask = uneven_batch(batch, seconds, bench.device)
    full = build_full(shape, bench.device).train()
    baseline = build_baseline(shape, bench.device, full.emosphere.encoder).train()
    full_steps, baseline_steps = training_steps(bench, full, values, mask), training_steps(bench, baseline, values, mask)
    parts = {name: fn for name, fn in full_steps.items() if name != "step"}
    times = bench.rounds({"full": full_steps["step"], "baseline": baseline_steps["step"], **parts})
    tag = f"training step {shape}, batch {batch} x {seconds:g} s"
    bench.ratio(f"{tag}: full model / WavLMForSequenceClassification", times, "full", "baseline",
                "<= 1.10" if shape == "WavLM-large" else "")  # fmt: skip
    pooling_ms, optimizer_ms = min(times["pooling"]) * 1e3, min(times["optimizer_share"]) * 1e3
    floor = 1 + (pooling_ms + optimizer_ms) / (min(times["baseline"]) * 1e3)
    bench.record(f"{tag}: floor = 1 + (style pooling forward+backward + AdamW on the added parameters) / WavLMForSequenceClassification step",
                 f"{pooling_ms:.1f} ms pooling + {optimizer_ms:.1f} ms AdamW", floor, floor)  # fmt: skip
    bench.ratio(f"{tag}: full model / sum of parts (composition overhead)", times, "full", "parts", "<= 1.03")
    if bench.device.type == "cuda":
        full_peak, baseline_peak = cuda_peak_memory(full_steps["step"]), cuda_peak_memory(baseline_steps["step"])
        what = "CUDA allocator peak"
    else:  # peak RSS is per process: measure each model alone in a fresh one
        del full, baseline, full_steps, baseline_steps
        full_peak, baseline_peak = (cpu_peak_memory(which, shape, batch, seconds) for which in ("full", "baseline"))
        what = "peak RSS of a fresh process"
    ratio = full_peak / baseline_peak
    bench.record(f"{tag}: peak memory full / WavLMForSequenceClassification", f"{full_peak:.0f} MiB vs {baseline_peak:.0f} MiB ({what})",
                 ratio, ratio, "<= 1.10")  # fmt: skip


def cuda_peak_memory(step) -> float:
    """Peak CUDA memory of one training step in MiB, parameters and optimizer state included."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def cpu_peak_memory(which: str, shape: str, batch: int, seconds: float) -> float:
    """Peak resident memory in MiB of a fresh process that builds one model and runs two training steps."""
    command = [sys.executable, __file__, "--memory-probe", which, shape, str(batch), str(seconds)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output.strip().splitlines()[-1])


def memory_probe(which: str, shape: str, batch: int, seconds: float):
    """Child process of `cpu_peak_memory`: prints its peak RSS in MiB."""
    bench = Bench("cpu", torch.float32, 1)
    values, mask = uneven_batch(batch, seconds, bench.device)
    model = (build_full if which == "full" else build_baseline)(shape, bench.device).train()
    step = training_steps(bench, model, values, mask)["step"]
    step(), step()
    print(peak_rss_mib())


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
        times = bench.rounds({"batched": batched, "per_item": per_item, "attentive": lambda: attentive(hidden, mask)})
    bench.ratio(f"style pooling, batch {batch} x {frames} frames: batched with masks / per-item loop", times, "batched", "per_item",
                "<= 1.0 (CPU); GPU: <= 0.33")  # fmt: skip
    bench.ratio(f"style pooling / attentive statistics pooling, batch {batch}", times, "batched", "attentive")


def data_path(bench: Bench, clips: int, workers: int):
    """Decode + resample + feature extraction throughput vs the WavLM-base-shaped model's training throughput."""
    from datasets import Audio, Dataset
    from torch.utils.data import DataLoader

    from modeling_emosphere.training.data import CropTransform, EmoSphereCollator

    folder = Path(tempfile.mkdtemp())
    source = folder / "source.wav"
    subprocess.run(["espeak-ng", "-w", str(source), "This clip measures how fast the data path runs. " * 2], check=True)
    paths = []
    for i in range(clips):  # 44.1 kHz stereo FLAC: decoding, downmixing and resampling all do work
        path = folder / f"clip{i}.flac"
        volume = f"volume={0.5 + i / clips}"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(source), "-ar", "44100", "-ac", "2", "-af", volume, str(path)], check=True)
        paths.append(str(path))
    labels = [4.0] * clips
    dataset = Dataset.from_dict({"audio": paths, "arousal": labels, "valence": labels, "dominance": labels})
    dataset = dataset.cast_column("audio", Audio(sampling_rate=RATE, num_channels=1)).with_transform(CropTransform(4.0, random=True))
    collator = EmoSphereCollator(EmoSphereFeatureExtractor())
    batch = 8
    loader = DataLoader(dataset, batch_size=batch, collate_fn=collator, num_workers=workers, persistent_workers=workers > 0)
    first = next(iter(DataLoader(dataset, batch_size=batch, collate_fn=collator)))
    values, mask = first["input_values"].to(bench.device), first["attention_mask"].to(bench.device)
    train_step = training_steps(bench, build_full("WavLM-base", bench.device).train(), values, mask)["step"]

    def load_all():
        for _ in loader:
            pass

    times = bench.rounds({"load": load_all, "train": train_step})
    data_rate, train_rate = clips / min(times["load"]), batch / min(times["train"])
    detail = f"{data_rate:.1f} clips/s (num_workers={workers}) vs {train_rate:.1f} clips/s"
    name = "data path (decode 44.1 kHz stereo FLAC + resample + features) / WavLM-base training throughput"
    # throughput ratio = (clips / load time) / (batch / train time)
    ratio_min, ratio_median = (value * clips / batch for value in bench.ratios(times, "train", "load"))
    bench.record(name, detail, ratio_min, ratio_median, ">= 2")


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")] if cpuinfo.exists() else []
    return f"{names[0]} ({len(names)} logical cores)" if names else platform.processor() or "CPU"


def write_report(bench: Bench, path: Path, command: str):
    lines = [
        "# Benchmarks",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
        + (torch.cuda.get_device_name() if bench.device.type == "cuda" else cpu_name())
        + f"; dtype {str(bench.dtype).removeprefix('torch.')}; repeats {bench.repeats}.",
        f"Versions: python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}.",
        "",
        "Ratios of two things timed side by side in this run (interleaved), random weights, uneven lengths.",
        "",
        "| measurement | absolute (min) | ratio (min) | ratio (median of rounds) | target |",
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
    parser.add_argument("--memory-probe", nargs=4, help=argparse.SUPPRESS)  # which shape batch seconds
    args = parser.parse_args(argv)
    if args.memory_probe:
        which, shape, batch, seconds = args.memory_probe
        return memory_probe(which, shape, int(batch), float(seconds))
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
