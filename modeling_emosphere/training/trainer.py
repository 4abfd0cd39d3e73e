"""Trainer subclass and evaluation metrics of EmoSphere-SER."""

from __future__ import annotations

from pathlib import Path

import evaluate
import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import Trainer
from transformers.trainer_pt_utils import nested_gather

from ..spherical import assign_regions, from_unit_scale, to_unit_scale

CCC_METRIC_PATH = str(Path(__file__).parent / "metrics" / "ccc")


class EmoSphereTrainer(Trainer):
    """Trainer whose loss is the model's CCC + weighted region loss, and whose predictions are (vad, logits).

    The CCC loss is a batch statistic, not a per-item mean: gradient accumulation divides it by the
    number of accumulation steps (``loss_is_scaled_for_ga = False``) instead of by item counts.
    Each training log also carries the unweighted terms, ``ccc_loss`` and ``region_loss``.
    """

    loss_is_scaled_for_ga = False
    loss_component_names = ("ccc_loss", "region_loss")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loss_component_sums: torch.Tensor | None = None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if model.training and outputs.vad_loss is not None:
            self._add_loss_components(outputs.vad_loss, outputs.region_loss)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def _add_loss_components(self, vad_loss: torch.Tensor, region_loss: torch.Tensor):
        """Sums the unweighted loss terms of each training forward (no host sync) for the next log."""
        components = torch.stack((vad_loss.detach().float(), region_loss.detach().float(), vad_loss.new_ones(())))
        sums = self._loss_component_sums
        self._loss_component_sums = components if sums is None else sums + components

    def _pop_loss_components(self) -> dict:
        """Mean of each loss term since the last log, over forwards and processes (every rank calls this)."""
        sums = self._loss_component_sums
        if sums is None:
            return {}
        self._loss_component_sums = None
        *totals, count = nested_gather(sums, self.args.parallel_mode).view(-1, 3).sum(dim=0).tolist()
        return {name: total / count for name, total in zip(self.loss_component_names, totals)}

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            outputs = model(**inputs)
        loss = outputs.loss.detach() if outputs.loss is not None else None
        if prediction_loss_only:
            return loss, None, None
        return loss, (outputs.vad.detach(), outputs.logits.detach()), inputs.get("labels")

    def log(self, logs: dict, *args, **kwargs):
        if "loss" in logs:
            logs.update(self._pop_loss_components())
            logs["aux_loss_weight"] = float(getattr(self.model, "aux_loss_weight", 0.0))
        super().log(logs, *args, **kwargs)


class EmoSphereMetrics:
    """`compute_metrics` for the Trainer: CCC per attribute and mean over the whole evaluation set
    (label scale), region accuracy and macro-F1. Region targets come from the true A/V/D."""

    def __init__(self, config):
        self.config = config
        self.ccc = evaluate.load(CCC_METRIC_PATH)

    def predictions_on_label_scale(self, vad: np.ndarray) -> np.ndarray:
        return from_unit_scale(vad, self.config.label_scale_min, self.config.label_scale_max)

    def true_regions(self, labels: np.ndarray) -> np.ndarray:
        config = self.config
        unit = to_unit_scale(torch.from_numpy(np.asarray(labels, dtype=np.float64)), config.label_scale_min, config.label_scale_max)
        return assign_regions(unit, config.region_scheme, config.region_bin_width, config.region_core_radius).numpy()

    def __call__(self, eval_prediction) -> dict:
        (vad, logits), labels = eval_prediction.predictions, eval_prediction.label_ids
        predictions = self.predictions_on_label_scale(np.asarray(vad, dtype=np.float64))
        metrics = self.ccc.compute(predictions=predictions, references=labels, names=self.config.attribute_names)
        regions, predicted = self.true_regions(labels), np.asarray(logits).argmax(axis=-1)
        metrics["region_accuracy"] = float(accuracy_score(regions, predicted))
        metrics["region_macro_f1"] = float(
            f1_score(regions, predicted, average="macro", labels=sorted(set(regions)), zero_division=0)
        )
        return metrics
