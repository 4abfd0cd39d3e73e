#!/usr/bin/env python
"""Publish a trained EmoSphere-SER model: code, safetensors weights, feature extractor, pipelines, model card.

    python push_to_hub.py outputs/demo --repo-id user/emosphere-demo [--private] [--commit-message MSG]
    python push_to_hub.py outputs/demo --repo-id user/emosphere-demo --local-dir staged/   # no network

The token comes from HF_TOKEN or the login cache (`hf auth login`); it is never written anywhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from string import Template

import yaml
from huggingface_hub import HfApi

import modeling_emosphere
from modeling_emosphere import EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition
from modeling_emosphere.pipeline_emosphere import CUSTOM_PIPELINES

PACKAGE = Path(modeling_emosphere.__file__).parent
HUB_FILES = (
    "configuration_emosphere.py", "modeling_emosphere.py", "pooling_emosphere.py", "spherical.py",
    "feature_extraction_emosphere.py", "pipeline_emosphere.py",
)  # fmt: skip
AUTO_MAP = {
    "AutoConfig": "configuration_emosphere.EmoSphereConfig",
    "AutoModel": "modeling_emosphere.EmoSphereModel",
    "AutoModelForAudioClassification": "modeling_emosphere.EmoSphereForSpeechEmotionRecognition",
}
REQUIRED = {
    "config.json": "the model config (is this a training output folder?)",
    "model.safetensors": "the weights in safetensors",
    "preprocessor_config.json": "the feature extractor",
    "metrics.json": "the evaluation metrics train.py writes (run it with --do_eval)",
}


def check_folder(folder: Path):
    missing = [f"{name} ({why})" for name, why in REQUIRED.items() if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"{folder} is not a trained EmoSphere model ready to publish; missing: " + "; ".join(missing))
    model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    if model_type != "emosphere":
        raise SystemExit(f"{folder}/config.json has model_type {model_type!r}, not 'emosphere'.")


def model_index(repo_id: str, metrics: dict, names: list[str], dataset: str) -> list:
    results = []
    for split in ("eval", "test"):
        values = [
            {"type": "ccc", "name": f"CCC {name}", "value": round(metrics[f"{split}_ccc_{name}"], 4)}
            for name in names
            if f"{split}_ccc_{name}" in metrics
        ]
        if f"{split}_ccc_mean" in metrics:
            values.append({"type": "ccc", "name": "CCC mean", "value": round(metrics[f"{split}_ccc_mean"], 4)})
        if values:
            results.append(
                {
                    "task": {"type": "audio-classification", "name": "Speech emotion recognition (A/V/D)"},
                    "dataset": {"type": dataset, "name": dataset, "split": "validation" if split == "eval" else "test"},
                    "metrics": values,
                }
            )
    return [{"name": repo_id.split("/")[-1], "results": results}]


def model_card(repo_id: str, model, metrics: dict, license_name: str, dataset: str) -> str:
    config = model.config
    encoder = config.encoder_config
    metadata = {
        "library_name": "transformers",
        "pipeline_tag": "audio-classification",
        "license": license_name,
        "tags": ["speech-emotion-recognition", "arousal", "valence", "dominance", "emosphere-ser", encoder.model_type],
        "datasets": [dataset],
        "metrics": ["ccc"],
        "model-index": model_index(repo_id, metrics, config.attribute_names, dataset),
    }
    rows = ["| split | " + " | ".join(config.attribute_names) + " | mean | region accuracy |", "|---" * 6 + "|"]
    for split in ("eval", "test"):
        if f"{split}_ccc_mean" in metrics:
            cells = [f"{metrics.get(f'{split}_ccc_{n}', float('nan')):.3f}" for n in config.attribute_names]
            rows.append(
                f"| {split} | " + " | ".join(cells)
                + f" | {metrics[f'{split}_ccc_mean']:.3f} | {metrics.get(f'{split}_region_accuracy', float('nan')):.3f} |"
            )
    training = (
        f"Trained on `{dataset}` with the EmoSphere-SER objective: sum over A/V/D of (1 - CCC) plus a class-weighted "
        f"cross-entropy on the region, weighted {config.aux_loss_weight_start:g} decaying to {config.aux_loss_weight_end:g} "
        f"over {config.aux_loss_decay_epochs:g} epochs, then {config.aux_loss_weight_floor:g}. Feature-encoder CNN "
        f"{'frozen' if config.freeze_feature_encoder else 'trained'}; waveforms normalised with one global mean/std "
        "computed on the training audio."
    )
    template = Template((Path(__file__).parent / "model_card.md").read_text())
    return template.substitute(
        metadata=yaml.safe_dump(metadata, sort_keys=False).strip(),
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        scale_min=f"{config.label_scale_min:g}",
        scale_max=f"{config.label_scale_max:g}",
        encoder_type=encoder.model_type,
        encoder_layers=encoder.num_hidden_layers,
        encoder_hidden=encoder.hidden_size,
        pooling_type=config.pooling_type,
        region_scheme=config.region_scheme,
        num_regions=config.num_regions,
        results_table="\n".join(rows),
        training=training,
    )


def stage(folder: Path, repo_id: str, target: Path, license_name: str, dataset: str):
    """Write exactly what is published into ``target``."""
    model = EmoSphereForSpeechEmotionRecognition.from_pretrained(folder)
    extractor = EmoSphereFeatureExtractor.from_pretrained(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    model.config.name_or_path = repo_id  # never the local path
    model.config.auto_map = dict(AUTO_MAP)
    model.config.custom_pipelines = CUSTOM_PIPELINES
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target, safe_serialization=True)
    extractor_config = extractor.to_dict()
    extractor_config["auto_map"] = {"AutoFeatureExtractor": "feature_extraction_emosphere.EmoSphereFeatureExtractor"}
    (target / "preprocessor_config.json").write_text(json.dumps(extractor_config, indent=2, sort_keys=True) + "\n")
    for name in HUB_FILES:
        shutil.copy(PACKAGE / name, target / name)
    shutil.copy(folder / "metrics.json", target / "metrics.json")
    (target / "README.md").write_text(model_card(repo_id, model, metrics, license_name, dataset))
    leaked = [p.name for p in target.iterdir() if p.suffix in {".json", ".md", ".py"} and str(folder.resolve()) in p.read_text()]
    if leaked:
        raise SystemExit(f"Refusing to publish: {leaked} mention the local path {folder.resolve()}.")


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="Training output folder (train.py --output_dir).")
    parser.add_argument("--repo-id", required=True, help="Hub repository, e.g. user/emosphere-wavlm-large.")
    parser.add_argument("--private", action="store_true", help="Create the repository as private.")
    parser.add_argument("--commit-message", default="Upload EmoSphere-SER model")
    parser.add_argument("--local-dir", type=Path, help="Only stage the upload into this folder; no network.")
    parser.add_argument("--license", default="apache-2.0")
    parser.add_argument("--dataset", default="MSP-Podcast", help="Training dataset named in the card.")
    args = parser.parse_args(argv)
    check_folder(args.folder)
    if args.local_dir:
        stage(args.folder, args.repo_id, args.local_dir, args.license, args.dataset)
        print(f"Staged {sorted(p.name for p in args.local_dir.iterdir())} in {args.local_dir}")
        return
    with tempfile.TemporaryDirectory() as staging:
        stage(args.folder, args.repo_id, Path(staging), args.license, args.dataset)
        api = HfApi()  # token from HF_TOKEN or the login cache
        api.create_repo(args.repo_id, private=args.private, exist_ok=True)
        commit = api.upload_folder(folder_path=staging, repo_id=args.repo_id, commit_message=args.commit_message)
        print(f"Published {args.repo_id}: {commit.commit_url}")


if __name__ == "__main__":
    sys.exit(main())
