"""Dynamic weighting: the auxiliary-loss weight schedule."""

import pytest

from modeling_emosphere.training.schedule import AuxLossSchedule


def test_released_schedule_values_per_epoch():
    schedule = AuxLossSchedule(start=1.0, end=0.01, decay_epochs=5, floor=0.0)
    values = [schedule.weight_at(epoch) for epoch in range(7)]
    assert values == pytest.approx([1.0, 0.802, 0.604, 0.406, 0.208, 0.0, 0.0])


def test_product_default_keeps_a_floor():
    schedule = AuxLossSchedule()
    assert schedule.weight_at(5) == pytest.approx(0.01)
    assert schedule.weight_at(19) == pytest.approx(0.01)


def test_epoch_unit_ignores_the_fraction_and_step_unit_does_not():
    assert AuxLossSchedule(unit="epoch").weight_at(1.5) == pytest.approx(0.802)
    assert AuxLossSchedule(unit="step").weight_at(1.5) == pytest.approx(1.0 - 0.99 * 1.5 / 5)
