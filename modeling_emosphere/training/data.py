"""Data sources for training: every source ends in one `DatasetDict` with an audio column decoded by
torchcodec at 16 kHz mono and arousal/valence/dominance label columns.

Sources: any `load_dataset` source (Hub id, or `audiofolder` with a metadata.csv), an MSP-Podcast
folder (`Labels/labels_consensus.csv` + `Audios/`), or a CSV manifest (path, arousal, valence,
dominance, split). Before training every clip is decoded once: missing files, undecodable or
empty audio and rows with missing or out-of-range labels are listed in a report and skipped.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from datasets import Audio, Dataset, DatasetDict, load_dataset
from torchcodec.decoders import AudioDecoder

from ..spherical import assign_regions, region_class_weights, to_unit_scale

SAMPLING_RATE = 16000
ATTRIBUTES = ("arousal", "valence", "dominance")
MANIFEST_COLUMNS = ("path", "arousal", "valence", "dominance", "split")


class DataQualityError(RuntimeError):
    """Too many clips of a dataset are unusable; the report file lists them."""


@dataclass
class DataArguments:
    """Where the audio and A/V/D labels come from, and how clips are prepared."""

    dataset_name: str | None = field(
        default=None, metadata={"help": "A `load_dataset` source: a Hub dataset id, or 'audiofolder' with --data_dir."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Config name of the dataset."})
    data_dir: str | None = field(default=None, metadata={"help": "data_dir for load_dataset (e.g. an audiofolder)."})
    msp_podcast_dir: str | None = field(
        default=None, metadata={"help": "MSP-Podcast root holding Labels/labels_consensus.csv and Audios/."}
    )
    manifest_csv: str | None = field(
        default=None,
        metadata={"help": "CSV with columns path,arousal,valence,dominance,split; relative paths are read from its folder."},
    )
    demo_dir: str = field(
        default="demo_data", metadata={"help": "Where the synthetic demo corpus lives (generated if missing) when no source is given."}
    )
    audio_column: str = field(default="audio", metadata={"help": "Audio column of a load_dataset source."})
    arousal_column: str = field(default="arousal", metadata={"help": "Arousal column of a load_dataset source."})
    valence_column: str = field(default="valence", metadata={"help": "Valence column of a load_dataset source."})
    dominance_column: str = field(default="dominance", metadata={"help": "Dominance column of a load_dataset source."})
    train_split: str = field(default="train", metadata={"help": "Split to train on."})
    eval_split: str = field(default="validation", metadata={"help": "Split for model selection (best mean CCC)."})
    test_split: str | None = field(default="test", metadata={"help": "Held-out split evaluated at the end ('' for none)."})
    max_duration_s: float = field(
        default=12.0, metadata={"help": "Clips are cropped to this length (train: random crop; eval: the first seconds)."}
    )
    max_bad_fraction: float = field(
        default=0.05, metadata={"help": "Stop before training if more than this fraction of a split's clips is unusable."}
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training rows."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N rows of eval/test splits."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for the decoding scan."})
    cache_waveforms: bool = field(
        default=False,
        metadata={
            "help": "Keep every decoded waveform in the dataset's Arrow cache (float32, 230 MB per hour of audio) "
            "instead of decoding each clip again every epoch: for corpora that fit on disk."
        },
    )

    def __post_init__(self):
        sources = [s for s in (self.dataset_name, self.msp_podcast_dir, self.manifest_csv) if s]
        if len(sources) > 1:
            raise ValueError("Give one data source: --dataset_name, --msp_podcast_dir or --manifest_csv, not several.")
        if not 0 <= self.max_bad_fraction <= 1:
            raise ValueError(f"max_bad_fraction must lie in [0, 1], got {self.max_bad_fraction}.")
        if not self.max_duration_s > 0:
            raise ValueError(f"max_duration_s must be positive, got {self.max_duration_s}.")


# ----------------------------------------------------------------------------------------------
# Sources -> DatasetDict(audio: path or bytes, arousal, valence, dominance[, file_name])
# ----------------------------------------------------------------------------------------------


def float_or_none(value: str | None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_csv(path: Path, required: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in required if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} has no column(s) {missing}; its columns are {reader.fieldnames}.")
        return list(reader)


def splits_from_rows(rows_by_split: dict[str, list[dict]]) -> DatasetDict:
    splits = {}
    for split, rows in rows_by_split.items():
        columns = {key: [row[key] for row in rows] for key in rows[0]}
        splits[split] = Dataset.from_dict(columns).cast_column("audio", Audio(decode=False))
    return DatasetDict(splits)


def load_manifest(manifest: str | Path) -> DatasetDict:
    """CSV manifest with columns path, arousal, valence, dominance, split (paths relative to the CSV)."""
    manifest = Path(manifest)
    rows = read_csv(manifest, MANIFEST_COLUMNS)
    by_split: dict[str, list[dict]] = {}
    for row in rows:
        path = Path(row["path"])
        record = {"audio": str(path if path.is_absolute() else manifest.parent / path), "file_name": row["path"]}
        record.update({name: float_or_none(row[name]) for name in ATTRIBUTES})
        by_split.setdefault(row["split"], []).append(record)
    return splits_from_rows(by_split)


def load_hub_or_folder(args: DataArguments, name: str, data_dir: str | None) -> DatasetDict:
    """Any `load_dataset` source; columns are renamed to audio/arousal/valence/dominance."""
    dataset = load_dataset(name, args.dataset_config_name, data_dir=data_dir)
    if not isinstance(dataset, DatasetDict):
        dataset = DatasetDict({args.train_split: dataset})
    renames = {
        args.audio_column: "audio",
        args.arousal_column: "arousal",
        args.valence_column: "valence",
        args.dominance_column: "dominance",
    }
    for split, part in dataset.items():
        missing = [column for column in renames if column not in part.column_names]
        if missing:
            raise ValueError(
                f"Dataset {name!r} split {split!r} has no column(s) {missing}; its columns are {part.column_names}. "
                "Name them with --audio_column/--arousal_column/--valence_column/--dominance_column."
            )
    dataset = dataset.rename_columns({old: new for old, new in renames.items() if old != new})
    return dataset.cast_column("audio", Audio(decode=False))


def load_source(args: DataArguments) -> DatasetDict:
    """The configured source (or the demo corpus, generated when missing) as a `DatasetDict`."""
    if args.msp_podcast_dir:
        from .msp_podcast import load_msp_podcast

        return load_msp_podcast(args.msp_podcast_dir)
    if args.manifest_csv:
        return load_manifest(args.manifest_csv)
    if args.dataset_name:
        return load_hub_or_folder(args, args.dataset_name, args.data_dir)
    from .demo_corpus import generate_demo_corpus

    return load_hub_or_folder(args, "audiofolder", str(generate_demo_corpus(args.demo_dir)))


# ----------------------------------------------------------------------------------------------
# Checking every row: labels, then one decode per clip
# ----------------------------------------------------------------------------------------------


def check_label_scale(dataset: Dataset, scale: tuple[float, float], max_bad_fraction: float, split: str):
    """Fail at start when a label column mostly lies outside the configured scale (a wrong scale, not bad rows)."""
    low, high = scale
    for name in ATTRIBUTES:
        values = np.array([np.nan if v is None else v for v in dataset[name]], dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size and np.mean((finite < low) | (finite > high)) > max_bad_fraction:
            raise ValueError(
                f"Column {name!r} of split {split!r} holds values in [{finite.min():g}, {finite.max():g}], outside the "
                f"label scale [{low:g}, {high:g}]; set --label_scale_min/--label_scale_max to your corpus' scale."
            )


def _decode(audio: dict) -> np.ndarray:
    source = audio.get("bytes") or audio.get("path")
    decoder = AudioDecoder(source, sample_rate=SAMPLING_RATE, num_channels=1)
    return decoder.get_all_samples().data[0].numpy()


def scan_example(example: dict, scale: tuple[float, float], keep_waveform: bool = False) -> dict:
    """Problem (empty string when usable), length in samples and waveform sums of one row; with
    ``keep_waveform``, also its decoded samples as float32 bytes (empty when unusable)."""
    result = {"problem": "", "length": 0, "wave_sum": 0.0, "wave_sum_squares": 0.0}
    if keep_waveform:
        result["waveform"] = b""
    low, high = scale
    for name in ATTRIBUTES:
        value = example[name]
        if value is None or not math.isfinite(value):
            result["problem"] = f"missing {name} label"
            return result
        if not low <= value <= high:
            result["problem"] = f"{name} label {value:g} outside [{low:g}, {high:g}]"
            return result
    audio = example["audio"]
    path = audio.get("path")
    if not audio.get("bytes") and path and not Path(path).is_file():
        result["problem"] = "missing file"
        return result
    try:
        decoded = _decode(audio)
        samples = decoded.astype(np.float64)
    except Exception as error:  # torchcodec raises RuntimeError for anything it cannot open or decode
        message = " ".join(str(error).split())
        result["problem"] = "empty clip" if "frames were decoded" in message else f"undecodable audio ({message[-160:]})"
        return result
    if samples.size == 0:
        result["problem"] = "empty clip"
    elif not np.isfinite(samples).all():
        result["problem"] = "non-finite samples"
    else:
        result.update(length=samples.size, wave_sum=samples.sum(), wave_sum_squares=np.square(samples).sum())
        if keep_waveform:
            result["waveform"] = np.asarray(decoded, dtype=np.float32).tobytes()  # no copy when already float32
    return result


@dataclass
class PreparedData:
    splits: DatasetDict  # audio decoded at 16 kHz mono, labels, length (samples after cropping)
    waveform_mean: float
    waveform_std: float
    region_class_weights: list[float]
    report: dict


def prepare_data(
    args: DataArguments,
    scale: tuple[float, float],
    region_scheme: dict,
    num_regions: int,
    report_path: str | Path,
    min_samples: int = 400,
) -> PreparedData:
    """Load, check and decode-scan every split; write the report; compute normalisation and class weights.

    ``region_scheme`` holds the keyword arguments of ``spherical.assign_regions`` beyond the points.
    Raises `DataQualityError` (report written first) when a split has too many unusable clips.
    """
    dataset = load_source(args)
    wanted = [s for s in (args.train_split, args.eval_split, args.test_split) if s]
    for split in wanted:
        if split not in dataset:
            raise ValueError(f"Split {split!r} not found; the data has splits {list(dataset)}.")
    limits = {args.train_split: args.max_train_samples}
    limits.update({s: args.max_eval_samples for s in (args.eval_split, args.test_split) if s})
    dataset = DatasetDict(
        {s: dataset[s].select(range(min(limits[s], len(dataset[s])))) if limits[s] else dataset[s] for s in wanted}
    )
    for split, part in dataset.items():
        check_label_scale(part, scale, args.max_bad_fraction, split)

    max_samples = int(args.max_duration_s * SAMPLING_RATE)
    report = {"total": 0, "skipped": 0, "by_problem": {}, "by_split": {}, "rows": []}
    kept = {}
    for split, part in dataset.items():
        scanned = part.map(
            scan_example,
            fn_kwargs={"scale": scale, "keep_waveform": args.cache_waveforms},
            num_proc=args.preprocessing_num_workers,
            desc=f"Decoding and checking {split}",
        )
        problems = [
            problem or (f"shorter than the encoder's receptive field ({min_samples} samples)" if n < min_samples else "")
            for problem, n in zip(scanned["problem"], scanned["length"])
        ]
        bad = [i for i, p in enumerate(problems) if p]
        paths = scanned.cast_column("audio", Audio(decode=False))["audio"] if bad else []
        for i in bad:
            report["rows"].append({"split": split, "index": i, "audio": paths[i].get("path"), "problem": problems[i]})
            report["by_problem"][problems[i]] = report["by_problem"].get(problems[i], 0) + 1
        report["by_split"][split] = {"total": len(part), "skipped": len(bad)}
        report["total"] += len(part)
        report["skipped"] += len(bad)
        good = sorted(set(range(len(part))) - set(bad))
        kept[split] = scanned.select(good) if bad else scanned
    Path(report_path).parent.mkdir(parents=True, exist_ok=True)
    Path(report_path).write_text(json.dumps(report, indent=2))
    for split, counts in report["by_split"].items():
        if counts["total"] and counts["skipped"] / counts["total"] > args.max_bad_fraction:
            raise DataQualityError(
                f"{counts['skipped']} of {counts['total']} clips of split {split!r} are unusable (more than "
                f"max_bad_fraction={args.max_bad_fraction}); see {report_path}."
            )
        if counts["total"] == counts["skipped"]:
            raise DataQualityError(f"Split {split!r} has no usable clips; see {report_path}.")

    train = kept[args.train_split]
    count = float(np.sum(train["length"]))
    mean = float(np.sum(train["wave_sum"]) / count)
    std = float(math.sqrt(max(np.sum(train["wave_sum_squares"]) / count - mean**2, 1e-12)))
    labels = torch.tensor([train[name] for name in ATTRIBUTES], dtype=torch.float64).T
    regions = assign_regions(to_unit_scale(labels, *scale), **region_scheme)
    weights = region_class_weights(regions, num_regions).tolist()

    splits = DatasetDict()
    for split, part in kept.items():
        part = part.remove_columns(["problem", "wave_sum", "wave_sum_squares"])
        lengths = [min(n, max_samples) for n in part["length"]]
        part = part.remove_columns("length").add_column("length", lengths)
        # With cached waveforms the audio column is only a path: no decoder is opened per item.
        decode = not args.cache_waveforms
        splits[split] = part.cast_column("audio", Audio(sampling_rate=SAMPLING_RATE, num_channels=1, decode=decode))
    return PreparedData(splits, mean, std, weights, report)


# ----------------------------------------------------------------------------------------------
# Cropping and batching
# ----------------------------------------------------------------------------------------------


def crop_waveform(samples: np.ndarray, max_seconds: float, random: bool) -> np.ndarray:
    """At most ``max_seconds`` of a decoded clip: a random window (training) or the start (evaluation)."""
    size = int(max_seconds * SAMPLING_RATE)
    start = int(torch.randint(samples.size - size + 1, ())) if random and samples.size > size else 0
    return samples[start : start + size]


def crop(decoder, max_seconds: float, random: bool) -> np.ndarray:
    """Decode at most ``max_seconds`` of a clip: a random window (training) or the start (evaluation)."""
    duration = decoder.metadata.duration_seconds_from_header
    if duration is not None and duration > max_seconds:
        start = float(torch.rand(())) * (duration - max_seconds) if random else 0.0
        samples = decoder.get_samples_played_in_range(start, start + max_seconds).data
    else:
        samples = decoder.get_all_samples().data
    return samples.mean(dim=0).numpy()[: int(max_seconds * SAMPLING_RATE)]


@dataclass
class CropTransform:
    """`Dataset.with_transform` hook: decoded, cropped waveforms and a ``labels`` (batch, 3) list."""

    max_seconds: float
    random: bool

    def __call__(self, batch: dict) -> dict:
        if "waveform" in batch:  # decoded once by the scan (--cache_waveforms)
            waveforms = (np.frombuffer(data, dtype=np.float32) for data in batch["waveform"])
            clips = [crop_waveform(samples, self.max_seconds, self.random) for samples in waveforms]
        elif "audio" in batch:
            clips = [crop(decoder, self.max_seconds, self.random) for decoder in batch["audio"]]
        else:  # e.g. the sampler reading the length column
            return batch
        other = {key: value for key, value in batch.items() if key not in ("audio", "waveform")}
        return {
            **other,
            "input_values": clips,
            "labels": [list(values) for values in zip(*(batch[name] for name in ATTRIBUTES))],
        }


@dataclass
class EmoSphereCollator:
    """Normalises and pads cropped waveforms with the feature extractor; stacks A/V/D labels."""

    feature_extractor: object

    def __call__(self, features: list[dict]) -> dict:
        batch = self.feature_extractor(
            [f["input_values"] for f in features], sampling_rate=SAMPLING_RATE, return_tensors="pt"
        )
        batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.float32)
        return batch
