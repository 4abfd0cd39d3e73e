"""Spherical geometry: scale maps, coordinates, region schemes, class weights."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modeling_emosphere.spherical import (
    OCTANT_NAMES,
    angular_regions,
    assign_regions,
    from_unit_scale,
    octant_regions,
    region_class_weights,
    region_names,
    spherical_to_vad,
    to_unit_scale,
    vad_to_spherical,
)


def test_label_scale_maps_midpoint_to_origin_and_ends_to_unit():
    labels = torch.tensor([[1.0, 4.0, 7.0]])
    assert torch.equal(to_unit_scale(labels, 1.0, 7.0), torch.tensor([[-1.0, 0.0, 1.0]]))
    assert torch.equal(from_unit_scale(torch.tensor([[-1.0, 0.0, 1.0]]), 1.0, 7.0), labels)


@pytest.mark.parametrize(
    "vad, octant",
    [
        ((0.5, 0.5, 0.5), 0),  # I exuberant
        ((-0.5, 0.5, 0.5), 1),  # II relaxed
        ((-0.5, -0.5, 0.5), 2),  # III disdainful
        ((0.5, -0.5, 0.5), 3),  # IV hostile
        ((0.5, 0.5, -0.5), 4),  # V dependent
        ((-0.5, 0.5, -0.5), 5),  # VI docile
        ((-0.5, -0.5, -0.5), 6),  # VII bored
        ((0.5, -0.5, -0.5), 7),  # VIII anxious
        ((0.0, 0.0, 0.0), 0),  # the neutral point: zero counts as positive
        ((0.0, -0.2, 0.0), 3),  # only valence negative
        ((-0.3, 0.0, -0.0), 1),  # -0.0 is not negative
        ((1.0, -1.0, -1.0), 7),  # corner of the scale
    ],
)
def test_known_points_land_in_documented_octant(vad, octant):
    assert octant_regions(torch.tensor([vad])).tolist() == [octant]


def test_octant_names_follow_pad_temperaments():
    assert OCTANT_NAMES[0] == "I exuberant (+A +V +D)"
    assert OCTANT_NAMES[6] == "VII bored (-A -V -D)"
    assert region_names("octant") == list(OCTANT_NAMES)


def test_octants_are_azimuth_quadrants_times_polar_hemispheres():
    points = torch.tensor([[a, v, d] for a in (-0.7, 0.4) for v in (-0.6, 0.3) for d in (-0.5, 0.8)])
    r, theta, phi = vad_to_spherical(points).unbind(-1)
    quadrant = torch.floor((phi + math.pi) / (math.pi / 2)).long()  # 0..3 over (-pi, pi]
    hemisphere = (theta > math.pi / 2).long()  # valence negative
    octant = octant_regions(points)
    # Each (quadrant, hemisphere) pair maps to exactly one octant and vice versa.
    pairs = set(zip(quadrant.tolist(), hemisphere.tolist(), octant.tolist()))
    assert len(pairs) == 8 and len({o for _, _, o in pairs}) == 8


def test_spherical_coordinates_of_axes_and_origin():
    points = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, -0.0]])
    expected = torch.tensor(
        [[1.0, math.pi / 2, 0.0], [1.0, 0.0, 0.0], [1.0, math.pi / 2, math.pi / 2], [0.0, 0.0, 0.0], [1.0, math.pi / 2, math.pi]]
    )
    torch.testing.assert_close(vad_to_spherical(points), expected)


unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(unit, unit, unit), min_size=1, max_size=16))
def test_vad_spherical_round_trip(points):
    vad = torch.tensor(points, dtype=torch.float64)
    spherical = vad_to_spherical(vad)
    r, theta, phi = spherical.unbind(-1)
    assert bool(((theta >= 0) & (theta <= math.pi)).all())
    assert bool(((phi > -math.pi) & (phi <= math.pi)).all())
    torch.testing.assert_close(spherical_to_vad(spherical), vad, atol=1e-9, rtol=0)


@pytest.mark.parametrize("width, classes", [(60, 19), (45, 33), (30, 73)])
def test_angular_scheme_class_counts_with_neutral_core(width, classes):
    names = region_names("angular", width, core_radius=0.2)
    assert len(names) == classes
    assert names[0].startswith("neutral core")
    rng = np.random.default_rng(1)
    points = torch.from_numpy(rng.uniform(-1, 1, size=(5000, 3)))
    ids = angular_regions(points, width, core_radius=0.2)
    assert int(ids.min()) >= 0 and int(ids.max()) == classes - 1


def test_angular_scheme_without_core_has_only_bins():
    assert len(region_names("angular", 60)) == 18


def test_angular_core_and_bins_of_known_points():
    points = torch.tensor([[0.05, 0.05, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.5, -0.5, -0.5]])
    ids = angular_regions(points, 60, core_radius=0.2)
    # (1, 0, 0): phi = 0 -> bin 3 of 6, theta = 90 deg -> bin 1 of 3 -> 1 + 3 * 3 + 1.
    # (0, 1, 0): theta = 0 -> bin 0, phi defined 0 -> bin 3 -> 1 + 9 + 0.
    # (-.5, -.5, -.5): phi = -135 deg -> bin 0; theta = 125.3 deg -> bin 2 -> 1 + 0 + 2.
    assert ids.tolist() == [0, 11, 10, 3]


def test_assign_regions_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="Unknown region scheme 'cubic'"):
        assign_regions(torch.zeros(1, 3), "cubic")


def test_angular_width_must_divide_180():
    with pytest.raises(ValueError, match="must divide 180"):
        region_names("angular", 50)


def test_class_weights_are_inverse_frequency_and_zero_for_absent_classes():
    ids = torch.tensor([0, 0, 0, 1, 2, 2])
    weights = region_class_weights(ids, 4)
    # N / (K n_c): 6 / (4 * 3), 6 / (4 * 1), 6 / (4 * 2), absent -> 0
    torch.testing.assert_close(weights, torch.tensor([0.5, 1.5, 0.75, 0.0]))
