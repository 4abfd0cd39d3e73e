"""Dynamic weighting: the weight of the auxiliary region loss over training."""

from __future__ import annotations

import math
from dataclasses import dataclass

from transformers import TrainerCallback


@dataclass(frozen=True)
class AuxLossSchedule:
    """Linear decay from ``start`` towards ``end`` over ``decay_epochs``, then ``floor``.

    The authors' release: start 1.0, end 0.01, 5 epochs (1.000, 0.802, 0.604, 0.406, 0.208), then the
    region head stops training (``floor=0``). The product default keeps ``floor=0.01`` so the served
    region head stays attached to the encoder it reads.
    """

    start: float = 1.0
    end: float = 0.01
    decay_epochs: float = 5.0
    floor: float = 0.01
    unit: str = "epoch"  # "epoch": one value per epoch; "step": continuous in the fractional epoch

    @classmethod
    def from_config(cls, config) -> AuxLossSchedule:
        return cls(
            start=config.aux_loss_weight_start,
            end=config.aux_loss_weight_end,
            decay_epochs=config.aux_loss_decay_epochs,
            floor=config.aux_loss_weight_floor,
            unit=config.aux_loss_schedule_unit,
        )

    def weight_at(self, epoch: float) -> float:
        """Weight at a (fractional) epoch; with ``unit="epoch"`` the fraction is dropped."""
        if self.unit == "epoch":
            epoch = math.floor(epoch + 1e-9)
        if epoch >= self.decay_epochs:
            return self.floor
        return self.start - (self.start - self.end) * epoch / self.decay_epochs


class AuxLossWeightCallback(TrainerCallback):
    """Sets ``model.aux_loss_weight`` from the schedule at every epoch (and step, for ``unit="step"``)."""

    def __init__(self, schedule: AuxLossSchedule):
        self.schedule = schedule

    def _update(self, state, model):
        if model is not None:
            model.aux_loss_weight = self.schedule.weight_at(state.epoch or 0.0)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._update(state, model)

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        self._update(state, model)

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        if self.schedule.unit == "step":
            self._update(state, model)
