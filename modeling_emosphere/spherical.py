"""Spherical geometry of the arousal-valence-dominance (VAD) space.

Pure tensor functions, no ``torch.nn``: the label scale <-> [-1, 1] map, VAD <-> spherical
coordinates, the region schemes (octants, angular bins with a neutral core) and the class
weights of the region loss. Every function is vectorised over a leading batch dimension.

Conventions (EmoSphere-SER, Cho et al., Interspeech 2025):

* attribute order is (arousal, valence, dominance), column 0, 1, 2 of a ``(..., 3)`` tensor;
* normalised coordinates: ``n = (x - mid) / half_range``; the origin is the neutral point;
* ``r = |n|``, azimuth ``phi = atan2(D, A)`` in (-pi, pi], polar ``theta = arccos(V / r)`` in
  [0, pi]; at ``r = 0``, ``phi = theta = 0``.
"""

from __future__ import annotations

import math

import torch

AROUSAL, VALENCE, DOMINANCE = 0, 1, 2

# Octant numbering of the authors' release, index = region id:
# I (A+,V+,D+), II (A-,V+,D+), III (A-,V-,D+), IV (A+,V-,D+),
# V (A+,V+,D-), VI (A-,V+,D-), VII (A-,V-,D-), VIII (A+,V-,D-).
# Names are Mehrabian's PAD temperament octants (pleasure = valence).
OCTANT_NAMES = (
    "I exuberant (+A +V +D)",
    "II relaxed (-A +V +D)",
    "III disdainful (-A -V +D)",
    "IV hostile (+A -V +D)",
    "V dependent (+A +V -D)",
    "VI docile (-A +V -D)",
    "VII bored (-A -V -D)",
    "VIII anxious (+A -V -D)",
)
# Quadrant of the (A, V) signs inside one dominance half, indexed by 2 * [A < 0] + [V < 0].
_OCTANT_QUADRANT = (0, 3, 1, 2)

REGION_SCHEMES = ("octant", "angular")


def to_unit_scale(vad: torch.Tensor, scale_min: float, scale_max: float) -> torch.Tensor:
    """Map values on the label scale ``[scale_min, scale_max]`` to [-1, 1] around its midpoint."""
    mid = (scale_max + scale_min) / 2.0
    half_range = (scale_max - scale_min) / 2.0
    return (vad - mid) / half_range


def from_unit_scale(unit: torch.Tensor, scale_min: float, scale_max: float) -> torch.Tensor:
    """Inverse of :func:`to_unit_scale`: [-1, 1] back to the label scale."""
    mid = (scale_max + scale_min) / 2.0
    half_range = (scale_max - scale_min) / 2.0
    return unit * half_range + mid


def vad_to_spherical(vad_unit: torch.Tensor) -> torch.Tensor:
    """Normalised VAD ``(..., 3)`` -> spherical ``(..., 3)`` as ``(r, theta, phi)`` in radians.

    ``theta`` is the polar angle from the valence axis, ``phi`` the azimuth in the
    arousal-dominance plane. At the origin both angles are 0.
    """
    arousal, valence, dominance = vad_unit.unbind(-1)
    r = torch.linalg.vector_norm(vad_unit, dim=-1)
    at_origin = r == 0
    # arccos(V / r) written as atan2(|(A, D)|, V): the same angle, but accurate near the poles.
    theta = torch.atan2(torch.hypot(arousal, dominance), valence)
    phi = torch.atan2(dominance, arousal)
    # atan2 gives -pi for (A<0, D=-0.0); the documented range is (-pi, pi].
    phi = torch.where(phi <= -math.pi, phi + 2 * math.pi, phi)
    zero = torch.zeros_like(r)
    return torch.stack(
        (r, torch.where(at_origin, zero, theta), torch.where(at_origin, zero, phi)), dim=-1
    )


def spherical_to_vad(spherical: torch.Tensor) -> torch.Tensor:
    """Spherical ``(..., 3)`` as ``(r, theta, phi)`` -> normalised VAD ``(..., 3)``."""
    r, theta, phi = spherical.unbind(-1)
    sin_theta = torch.sin(theta)
    arousal = r * sin_theta * torch.cos(phi)
    dominance = r * sin_theta * torch.sin(phi)
    valence = r * torch.cos(theta)
    return torch.stack((arousal, valence, dominance), dim=-1)


def octant_regions(vad_unit: torch.Tensor) -> torch.Tensor:
    """Octant id (0..7 for I..VIII) of each normalised VAD point ``(..., 3)``; zero counts as positive."""
    negative = (vad_unit < 0).long()
    quadrant_index = 2 * negative[..., AROUSAL] + negative[..., VALENCE]
    quadrant = torch.tensor(_OCTANT_QUADRANT, device=vad_unit.device)[quadrant_index]
    return 4 * negative[..., DOMINANCE] + quadrant


def _angular_bins(bin_width_deg: float) -> tuple[int, int]:
    """Number of azimuth and polar bins for a bin width in degrees."""
    if not bin_width_deg > 0 or (360.0 / bin_width_deg) % 1 or (180.0 / bin_width_deg) % 1:
        raise ValueError(
            f"region_bin_width must divide 180 degrees into whole bins (e.g. 60, 45, 30), got {bin_width_deg}."
        )
    return round(360.0 / bin_width_deg), round(180.0 / bin_width_deg)


def angular_regions(
    vad_unit: torch.Tensor, bin_width_deg: float, core_radius: float | None = None
) -> torch.Tensor:
    """Angular-bin region id of each normalised VAD point ``(..., 3)``.

    Bins of ``bin_width_deg`` over azimuth (starting at -180 degrees) and polar angle (starting at
    0). With a ``core_radius``, points with ``r < core_radius`` form class 0 ("neutral core") and the
    bins are numbered from 1; without one the bins are numbered from 0. Id of a bin:
    ``offset + phi_bin * n_theta + theta_bin``.
    """
    n_phi, n_theta = _angular_bins(bin_width_deg)
    width = math.radians(bin_width_deg)
    r, theta, phi = vad_to_spherical(vad_unit).unbind(-1)
    phi_bin = torch.floor((phi + math.pi) / width).long().clamp(0, n_phi - 1)
    theta_bin = torch.floor(theta / width).long().clamp(0, n_theta - 1)
    offset = 1 if core_radius else 0
    region = offset + phi_bin * n_theta + theta_bin
    if core_radius:
        region = torch.where(r < core_radius, torch.zeros_like(region), region)
    return region


def region_names(scheme: str, bin_width_deg: float = 45.0, core_radius: float | None = None) -> list[str]:
    """Human-readable name of every region id of a scheme, in id order."""
    if scheme == "octant":
        return list(OCTANT_NAMES)
    if scheme == "angular":
        n_phi, n_theta = _angular_bins(bin_width_deg)
        names = [f"neutral core (r < {core_radius:g})"] if core_radius else []
        for phi_bin in range(n_phi):
            phi_lo = -180 + phi_bin * bin_width_deg
            for theta_bin in range(n_theta):
                theta_lo = theta_bin * bin_width_deg
                names.append(
                    f"phi [{phi_lo:g}, {phi_lo + bin_width_deg:g}) theta [{theta_lo:g}, {theta_lo + bin_width_deg:g})"
                )
        return names
    raise ValueError(f"Unknown region scheme {scheme!r}; expected one of {REGION_SCHEMES}.")


def assign_regions(
    vad_unit: torch.Tensor, scheme: str, bin_width_deg: float = 45.0, core_radius: float | None = None
) -> torch.Tensor:
    """Region id of each normalised VAD point ``(..., 3)`` under ``scheme`` (``octant`` or ``angular``)."""
    if scheme == "octant":
        return octant_regions(vad_unit)
    if scheme == "angular":
        return angular_regions(vad_unit, bin_width_deg, core_radius)
    raise ValueError(f"Unknown region scheme {scheme!r}; expected one of {REGION_SCHEMES}.")


def region_class_weights(region_ids: torch.Tensor, num_regions: int) -> torch.Tensor:
    """Class weights ``w_c = N / (K * n_c)`` of the region loss, 0 for classes absent from ``region_ids``."""
    counts = torch.bincount(region_ids.reshape(-1), minlength=num_regions).double()
    total = counts.sum()
    weights = torch.where(counts > 0, total / (num_regions * counts.clamp(min=1)), torch.zeros_like(counts))
    return weights.float()
