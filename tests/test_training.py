"""Training end to end on a tiny model: loss, dynamic weighting, resume, metrics, torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from training_helpers import tiny_training_args
from transformers import EvalPrediction

import train
from modeling_emosphere.training.demo_corpus import DemoCorpusConfig, generate_demo_corpus
from modeling_emosphere.training.schedule import AuxLossSchedule
from modeling_emosphere.training.trainer import EmoSphereMetrics

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate_demo_corpus(tmp_path_factory.mktemp("corpus"), DemoCorpusConfig(clips_per_split=(16, 4, 4)))


def losses_and_weights(trainer):
    history = [entry for entry in trainer.state.log_history if "loss" in entry]
    return [entry["loss"] for entry in history], [(entry["epoch"], entry["aux_loss_weight"]) for entry in history]


def test_loss_falls_its_terms_are_logged_and_aux_weight_follows_schedule_per_epoch(corpus, tmp_path):
    trainer = train.main(tiny_training_args(corpus, tmp_path / "run", num_train_epochs=6, save_strategy="no"))
    losses, weights = losses_and_weights(trainer)
    assert len(losses) == 24
    for entry in (entry for entry in trainer.state.log_history if "loss" in entry):
        # one step per log: the logged loss is the CCC term plus the weighted region term of that step
        weighted = entry["ccc_loss"] + entry["aux_loss_weight"] * entry["region_loss"]
        assert entry["loss"] == pytest.approx(weighted, rel=1e-4), entry
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    schedule = AuxLossSchedule(decay_epochs=2)
    for epoch, weight in weights:
        # a step logged at epoch e (fractional, after the step) ran in epoch ceil(e) - 1
        assert weight == pytest.approx(schedule.weight_at(np.ceil(epoch - 1e-9) - 1)), epoch
    assert {round(w, 3) for _, w in weights} == {1.0, 0.505, 0.01}


def test_resuming_continues_schedule_optimizer_and_step_count(corpus, tmp_path):
    full = train.main(tiny_training_args(corpus, tmp_path / "full", num_train_epochs=4))
    train.main(tiny_training_args(corpus, tmp_path / "split", num_train_epochs=2))
    checkpoint = tmp_path / "split" / "checkpoint-8"
    assert checkpoint.is_dir()
    resumed = train.main(
        tiny_training_args(corpus, tmp_path / "split", num_train_epochs=4, resume_from_checkpoint=str(checkpoint))
    )
    assert resumed.state.global_step == full.state.global_step == 16
    _, weights = losses_and_weights(resumed)
    assert [w for e, w in weights if e > 2] == [w for e, w in losses_and_weights(full)[1] if e > 2]
    # Same optimizer moments, step count and schedule: the resumed run ends where the uninterrupted one does.
    for name, tensor in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], tensor, atol=1e-5, rtol=1e-4, msg=name)


def test_training_writes_model_metrics_and_plots(corpus, tmp_path):
    output = tmp_path / "run"
    train.main(tiny_training_args(corpus, output, num_train_epochs=1, do_eval="true", save_strategy="no"))
    metrics = json.loads((output / "metrics.json").read_text())
    for key in ("eval_ccc_arousal", "eval_ccc_valence", "eval_ccc_dominance", "eval_ccc_mean", "test_ccc_mean", "test_region_macro_f1"):
        assert key in metrics
    for name in ("test_vad_scatter.png", "test_region_confusion.png", "model.safetensors", "preprocessor_config.json"):
        assert (output / name).is_file(), name
    config = json.loads((output / "config.json").read_text())
    assert len(config["region_class_weights"]) == 8
    extractor = json.loads((output / "preprocessor_config.json").read_text())
    assert extractor["normalization"] == "global" and extractor["waveform_std"] != 1.0


def test_existing_output_folder_is_not_overwritten(corpus, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="exists and is not empty.*--overwrite_output_dir"):
        train.main(tiny_training_args(corpus, tmp_path / "run"))
    assert (tmp_path / "run" / "keep.txt").read_text() == "precious"


def test_bad_argument_fails_before_data_is_touched(corpus, tmp_path):
    with pytest.raises(ValueError, match="Unknown pooling_type 'max'"):
        train.main(tiny_training_args(corpus, tmp_path / "run", pooling_type="max"))
    assert not (tmp_path / "run" / "data_report.json").exists()


def test_shipped_argument_files_parse_and_no_arguments_means_the_demo():
    model_args, data_args, training_args, run_args = train.parse_arguments([])
    assert data_args.demo_dir == "demo_data" and run_args.pipeline_example
    assert train.parse_arguments([str(train.DEMO_ARGUMENTS)])[2].to_dict() == training_args.to_dict()
    msp = REPO / "configs" / "msp_podcast_wavlm_large.json"
    model_args, data_args, training_args, _ = train.parse_arguments([str(msp), "--msp_podcast_dir", "/data/MSP"])
    assert model_args.encoder_name_or_path == "microsoft/wavlm-large" and data_args.msp_podcast_dir == "/data/MSP"
    # the paper's recipe (DESIGN.md 1.5): AdamW 1e-5, 16 x 4 accumulation, 20 epochs, seed 7
    assert (training_args.learning_rate, training_args.gradient_accumulation_steps) == (1e-5, 4)
    assert (training_args.num_train_epochs, training_args.seed) == (20, 7)


def test_ccc_metric_module_matches_numpy(rng):
    from modeling_emosphere.training.metrics.ccc.ccc import concordance

    import evaluate
    from modeling_emosphere.training.trainer import CCC_METRIC_PATH

    predictions = rng.normal(size=(200, 3))
    references = 0.5 * predictions + rng.normal(size=(200, 3))
    expected = [
        2 * np.mean((p - p.mean()) * (y - y.mean())) / (p.var() + y.var() + (p.mean() - y.mean()) ** 2)
        for p, y in zip(predictions.T, references.T)
    ]
    metric = evaluate.load(CCC_METRIC_PATH)
    # Added in batches, computed once over the whole set.
    for start in range(0, 200, 64):
        metric.add_batch(predictions=predictions[start : start + 64], references=references[start : start + 64])
    assert metric.compute()["ccc"] == pytest.approx(expected, rel=1e-12)
    assert concordance(predictions, predictions).tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_metrics_convert_predictions_to_label_scale_and_score_regions():
    from conftest import tiny_config

    metrics = EmoSphereMetrics(tiny_config())
    labels = np.array([[7.0, 7.0, 7.0], [1.0, 1.0, 1.0], [7.0, 1.0, 1.0], [4.0, 5.0, 2.5]])
    vad = (labels - 4.0) / 3.0  # perfect predictions, normalised
    logits = np.eye(8)[[0, 6, 7, 0]]  # the last one wrong: (0, +, -) is V dependent (id 4)
    result = metrics(EvalPrediction(predictions=(vad, logits), label_ids=labels))
    assert result["ccc_mean"] == pytest.approx(1.0)
    assert result["region_accuracy"] == pytest.approx(0.75)


def test_torchrun_two_ranks_end_with_identical_parameters(corpus, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
        str(REPO / "tests" / "ddp_worker.py"), str(corpus), str(tmp_path / "ddp"),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (load_file(str(tmp_path / "ddp" / f"rank{r}.safetensors")) for r in (0, 1))
    with safe_open(str(tmp_path / "ddp" / "rank0.safetensors"), "pt") as handle:
        # 16 clips, batch 4 per rank, 2 ranks: 2 steps per epoch.
        assert handle.metadata()["steps"] == "2"
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name


def test_training_from_a_pretrained_encoder_checkpoint(corpus, tmp_path):
    from training_helpers import TINY_ENCODER
    from transformers import AutoConfig, AutoModel

    encoder = AutoModel.from_config(AutoConfig.for_model("wavlm", **TINY_ENCODER))
    encoder.save_pretrained(tmp_path / "encoder")
    trainer = train.main(
        tiny_training_args(corpus, tmp_path / "run", num_train_epochs=1, save_strategy="no", max_steps=1,
                           encoder_name_or_path=str(tmp_path / "encoder"), freeze_feature_encoder="true")
    )
    model = trainer.model
    conv = "feature_extractor.conv_layers.0.conv.weight"
    assert not model.emosphere.encoder.get_parameter(conv).requires_grad
    # The CNN is frozen: after a training step it still holds the checkpoint's weights.
    assert torch.equal(model.emosphere.encoder.get_parameter(conv), encoder.get_parameter(conv))
    assert model.config.region_class_weights is not None
