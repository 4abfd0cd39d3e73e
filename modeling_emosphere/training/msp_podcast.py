"""MSP-Podcast: the corpus layout, its loader, and the writer of blind Test3 predictions.

Layout: ``<root>/Labels/labels_consensus.csv`` (FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID,
Gender, Split_Set) and ``<root>/Audios/<FileName>``. Split_Set: Train, Development, Test1, Test2,
Test3 (blind: submitted as FileName,EmoAct,EmoVal,EmoDom on the 1..7 scale).
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from datasets import DatasetDict
from tqdm.auto import tqdm

from .data import SAMPLING_RATE, float_or_none, read_csv, splits_from_rows

MSP_LABELS_FILE = Path("Labels") / "labels_consensus.csv"
MSP_SPLITS = {"Train": "train", "Development": "validation", "Test1": "test", "Test2": "test2", "Test3": "test3"}
MSP_COLUMNS = {"arousal": "EmoAct", "valence": "EmoVal", "dominance": "EmoDom"}


def load_msp_podcast(root: str | Path) -> DatasetDict:
    """MSP-Podcast: `Labels/labels_consensus.csv` (FileName, EmoAct, EmoVal, EmoDom, Split_Set) + `Audios/`."""
    root = Path(root)
    labels_file = root / MSP_LABELS_FILE
    if not labels_file.is_file():
        raise FileNotFoundError(
            f"{labels_file} not found: --msp_podcast_dir must be the MSP-Podcast root holding {MSP_LABELS_FILE}."
        )
    rows = read_csv(labels_file, ("FileName", "Split_Set", *MSP_COLUMNS.values()))
    by_split: dict[str, list[dict]] = {}
    for row in rows:
        split = MSP_SPLITS.get(row["Split_Set"], row["Split_Set"].lower())
        record = {"audio": str(root / "Audios" / row["FileName"]), "file_name": row["FileName"]}
        record.update({name: float_or_none(row[column]) for name, column in MSP_COLUMNS.items()})
        by_split.setdefault(split, []).append(record)
    return splits_from_rows(by_split)


def write_test3_predictions(model, feature_extractor, root: str | Path, output_csv: str | Path, max_seconds: float = 12.0) -> Path:
    """Predict every Test3 clip (its first ``max_seconds``) and write FileName,EmoAct,EmoVal,EmoDom on the label scale."""
    from ..pipeline_emosphere import load_audio
    from ..spherical import from_unit_scale

    rows = read_csv(Path(root) / MSP_LABELS_FILE, ("FileName", "Split_Set"))
    files = [row["FileName"] for row in rows if row["Split_Set"] == "Test3"]
    config, device = model.config, next(model.parameters()).device
    model.eval()
    with open(output_csv, "w", newline="") as handle, torch.inference_mode():
        writer = csv.writer(handle)
        writer.writerow(["FileName", *MSP_COLUMNS.values()])
        for name in tqdm(files, desc="Predicting MSP-Podcast Test3"):
            waveform = load_audio(str(Path(root) / "Audios" / name), SAMPLING_RATE)[: int(max_seconds * SAMPLING_RATE)]
            inputs = feature_extractor(waveform, sampling_rate=SAMPLING_RATE, return_tensors="pt").to(device)
            vad = from_unit_scale(model(**inputs).vad[0].float(), config.label_scale_min, config.label_scale_max)
            writer.writerow([name, *(f"{value:.4f}" for value in vad.tolist())])
    return Path(output_csv)
