#!/usr/bin/env python
"""Train EmoSphere-SER with the Hugging Face Trainer.

    python train.py                                  # the demo: synthetic corpus, small encoder from scratch
    python train.py configs/msp_podcast_wavlm_large.json --msp_podcast_dir /data/MSP-Podcast  # JSON + overrides
    torchrun --nproc_per_node 2 train.py ...         # or: accelerate launch train.py ...

Arguments: ModelArguments and RunArguments below, DataArguments in
modeling_emosphere/training/data.py, and transformers' TrainingArguments.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from datasets import Audio
from transformers import AutoConfig, HfArgumentParser, TrainingArguments, set_seed

import modeling_emosphere  # noqa: F401  (registers the Auto classes)
from modeling_emosphere import EmoSphereConfig, EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition
from modeling_emosphere.modeling_emosphere import receptive_field
from modeling_emosphere.training.data import CropTransform, DataArguments, EmoSphereCollator, prepare_data
from modeling_emosphere.training.msp_podcast import write_test3_predictions
from modeling_emosphere.training.plots import plot_region_confusion, plot_vad_scatter
from modeling_emosphere.training.schedule import AuxLossSchedule, AuxLossWeightCallback
from modeling_emosphere.training.trainer import EmoSphereMetrics, EmoSphereTrainer

logger = logging.getLogger("train")
DEMO_ARGUMENTS = Path(__file__).parent / "configs" / "demo.json"


@dataclass
class ModelArguments:
    """Which encoder, and the EmoSphere-SER head and loss settings (EmoSphereConfig fields)."""

    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Continue from a trained EmoSphere model (folder or Hub id)."}
    )
    encoder_name_or_path: str | None = field(
        default=None, metadata={"help": "Pretrained speech encoder, e.g. microsoft/wavlm-large. Unset: from scratch."}
    )
    encoder_type: str = field(default="wavlm", metadata={"help": "model_type of an encoder trained from scratch."})
    encoder_config_overrides: dict | str | None = field(
        default=None, metadata={"help": "JSON dict of encoder config fields (sizes from scratch; e.g. layerdrop)."}
    )
    freeze_feature_encoder: bool = field(default=True, metadata={"help": "Freeze the encoder's CNN."})
    use_weighted_layer_sum: bool = field(default=False, metadata={"help": "Pool a learned sum of all layers."})
    pooling_type: str = field(default="style", metadata={"help": "style | attentive_statistics | mean"})
    pooling_hidden_size: int = field(default=1024, metadata={"help": "Width of the style pooling layer."})
    pooling_output_size: int = field(default=1024, metadata={"help": "Output width of the style pooling layer."})
    pooling_num_heads: int = field(default=2, metadata={"help": "Attention heads of the style pooling layer."})
    pooling_kernel_size: int = field(default=5, metadata={"help": "Kernel of its temporal convolutions."})
    pooling_dropout: float = field(default=0.1, metadata={"help": "Dropout inside the style pooling layer."})
    head_hidden_size: int = field(default=1024, metadata={"help": "Hidden width of both heads."})
    head_dropout: float = field(default=0.5, metadata={"help": "Dropout of both heads."})
    region_scheme: str = field(default="octant", metadata={"help": "octant | angular"})
    region_bin_width: float = field(default=45.0, metadata={"help": "Angular bin width in degrees."})
    region_core_radius: float | None = field(default=None, metadata={"help": "Neutral-core radius (angular)."})
    label_scale_min: float = field(default=1.0, metadata={"help": "Lower end of the label scale."})
    label_scale_max: float = field(default=7.0, metadata={"help": "Upper end of the label scale."})
    aux_loss_weight_start: float = field(default=1.0, metadata={"help": "Region-loss weight at the start."})
    aux_loss_weight_end: float = field(default=0.01, metadata={"help": "Value the weight decays towards."})
    aux_loss_decay_epochs: float = field(default=5.0, metadata={"help": "Length of the linear decay in epochs."})
    aux_loss_weight_floor: float = field(
        default=0.01, metadata={"help": "Weight after the decay; 0 reproduces the authors (region head stops training)."}
    )
    aux_loss_schedule_unit: str = field(default="epoch", metadata={"help": "epoch | step"})
    normalization: str = field(default="global", metadata={"help": "Waveform normalisation: global | utterance | none"})

    def config_fields(self) -> dict:
        skip = {"model_name_or_path", "encoder_name_or_path", "encoder_type", "encoder_config_overrides", "normalization"}
        return {key: value for key, value in asdict(self).items() if key not in skip}

    def encoder_overrides(self) -> dict:
        overrides = self.encoder_config_overrides or {}
        return json.loads(overrides) if isinstance(overrides, str) else dict(overrides)


@dataclass
class RunArguments:
    overwrite_output_dir: bool = field(default=False, metadata={"help": "Allow writing into a non-empty output_dir."})
    pipeline_example: bool = field(
        default=False, metadata={"help": "After training, run pipeline('audio-classification') on one test clip."}
    )
    predict_test3: bool = field(
        default=False,
        metadata={"help": "MSP-Podcast: write test3_predictions.csv (FileName,EmoAct,EmoVal,EmoDom) for the blind Test3 set."},
    )


def json_to_flags(path: str) -> list[str]:
    """A JSON file of arguments as command-line flags, so that flags after it override it."""
    flags = []
    for key, value in json.loads(Path(path).read_text()).items():
        if isinstance(value, dict):
            flags += [f"--{key}", json.dumps(value)]
        elif isinstance(value, list):
            flags += [f"--{key}", *map(str, value)]
        else:
            flags += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def parse_arguments(argv: list[str]):
    """No arguments: the demo. A JSON file first: its arguments, overridden by any flags after it."""
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments, RunArguments))
    if not argv:
        argv = [str(DEMO_ARGUMENTS)]
    if argv[0].endswith(".json"):
        argv = json_to_flags(argv[0]) + argv[1:]
    return parser.parse_args_into_dataclasses(argv)


def build_config(model_args: ModelArguments) -> EmoSphereConfig:
    """EmoSphereConfig from the arguments; the encoder config comes from the checkpoint or from scratch."""
    if model_args.model_name_or_path:
        return AutoConfig.from_pretrained(model_args.model_name_or_path, **model_args.config_fields())
    overrides = model_args.encoder_overrides()
    if model_args.encoder_name_or_path:
        encoder_config = AutoConfig.from_pretrained(model_args.encoder_name_or_path, **overrides)
    else:
        encoder_config = AutoConfig.for_model(model_args.encoder_type, **overrides)
    return EmoSphereConfig(encoder_config=encoder_config, **model_args.config_fields())


def build_model(model_args: ModelArguments, config: EmoSphereConfig) -> EmoSphereForSpeechEmotionRecognition:
    if model_args.model_name_or_path:
        return EmoSphereForSpeechEmotionRecognition.from_pretrained(model_args.model_name_or_path, config=config)
    if model_args.encoder_name_or_path:
        return EmoSphereForSpeechEmotionRecognition.from_encoder_pretrained(model_args.encoder_name_or_path, config=config)
    return EmoSphereForSpeechEmotionRecognition(config)


def check_output_dir(training_args: TrainingArguments, run_args: RunArguments):
    output = Path(training_args.output_dir)
    if output.is_dir() and any(output.iterdir()) and not (run_args.overwrite_output_dir or training_args.resume_from_checkpoint):
        raise FileExistsError(
            f"Output folder {output} exists and is not empty. Pass --overwrite_output_dir to write into it, "
            "--resume_from_checkpoint to continue a run, or choose another --output_dir."
        )


def evaluate_and_plot(trainer, metrics_fn: EmoSphereMetrics, dataset, prefix: str, output_dir: Path) -> dict:
    """Metrics of one split plus its scatter plot and region confusion matrix."""
    result = trainer.predict(dataset, metric_key_prefix=prefix)
    if trainer.is_world_process_zero():
        (vad, logits), labels = result.predictions, result.label_ids
        config = metrics_fn.config
        predictions = metrics_fn.predictions_on_label_scale(np.asarray(vad, dtype=np.float64))
        metrics = {key.removeprefix(f"{prefix}_"): value for key, value in result.metrics.items()}
        scale = (config.label_scale_min, config.label_scale_max)
        plot_vad_scatter(predictions, labels, config.attribute_names, scale, metrics, output_dir / f"{prefix}_vad_scatter.png")
        plot_region_confusion(
            metrics_fn.true_regions(labels), np.asarray(logits).argmax(-1), list(config.id2label.values()),
            output_dir / f"{prefix}_region_confusion.png",
        )
    return result.metrics


def pipeline_example(model_dir: Path, dataset):
    from transformers import pipeline

    clip = dataset.cast_column("audio", Audio(decode=False))[0]["audio"]["path"]
    classify = pipeline("audio-classification", model=str(model_dir), top_k=3)
    print(f"\npipeline('audio-classification') on held-out clip {clip}:")
    for item in classify(clip):
        print(f"  {item['label']:<28} {item['score']:.3f}")


def main(argv: list[str] | None = None, callbacks: tuple = ()) -> EmoSphereTrainer:
    model_args, data_args, training_args, run_args = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    check_output_dir(training_args, run_args)
    set_seed(training_args.seed)
    output_dir = Path(training_args.output_dir)

    # 1. Config first: it fails fast on bad settings and knows the encoder's receptive field.
    config = build_config(model_args)
    feature_extractor = EmoSphereFeatureExtractor(normalization=model_args.normalization)

    # 2. Data: check and decode every clip once, report bad ones, compute normalisation and class weights.
    with training_args.main_process_first(desc="preparing data"):
        data = prepare_data(
            data_args,
            scale=(config.label_scale_min, config.label_scale_max),
            region_scheme=dict(
                scheme=config.region_scheme, bin_width_deg=config.region_bin_width, core_radius=config.region_core_radius
            ),
            num_regions=config.num_regions,
            report_path=output_dir / "data_report.json",
            min_samples=receptive_field(config.encoder_config),
        )
    if data.report["skipped"]:
        logger.warning("Skipped %d unusable clips; see %s", data.report["skipped"], output_dir / "data_report.json")
    feature_extractor.waveform_mean, feature_extractor.waveform_std = data.waveform_mean, data.waveform_std
    config.region_class_weights = data.region_class_weights

    # 3. Model.
    model = build_model(model_args, config)
    logger.info("Model: %.1fM parameters (%.1fM trainable)", model.num_parameters() / 1e6, model.num_parameters(only_trainable=True) / 1e6)

    splits = data.splits
    train_dataset = splits[data_args.train_split].with_transform(CropTransform(data_args.max_duration_s, random=True))
    evaluation = {
        name: splits[name].with_transform(CropTransform(data_args.max_duration_s, random=False))
        for name in (data_args.eval_split, data_args.test_split)
        if name
    }
    metrics_fn = EmoSphereMetrics(config)
    trainer = EmoSphereTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=evaluation[data_args.eval_split],
        data_collator=EmoSphereCollator(feature_extractor),
        processing_class=feature_extractor,
        compute_metrics=metrics_fn,
        callbacks=[AuxLossWeightCallback(AuxLossSchedule.from_config(config)), *callbacks],
    )

    # 4. Train, save, evaluate.
    if training_args.do_train:
        result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
        trainer.save_model()
        trainer.log_metrics("train", result.metrics)
        trainer.save_metrics("train", result.metrics)
        trainer.save_state()
    if training_args.do_eval:
        all_metrics = {}
        for prefix, name in (("eval", data_args.eval_split), ("test", data_args.test_split)):
            if name:
                metrics = evaluate_and_plot(trainer, metrics_fn, evaluation[name], prefix, output_dir)
                trainer.log_metrics(prefix, metrics)
                trainer.save_metrics(prefix, metrics)
                all_metrics.update(metrics)
        if trainer.is_world_process_zero():
            (output_dir / "metrics.json").write_text(json.dumps(all_metrics, indent=2))
    if run_args.predict_test3 and data_args.msp_podcast_dir and trainer.is_world_process_zero():
        path = write_test3_predictions(trainer.model, feature_extractor, data_args.msp_podcast_dir, output_dir / "test3_predictions.csv")
        logger.info("Wrote MSP-Podcast Test3 predictions to %s", path)
    if run_args.pipeline_example and trainer.is_world_process_zero():
        pipeline_example(output_dir, splits[data_args.test_split or data_args.eval_split])
    return trainer


if __name__ == "__main__":
    main()
