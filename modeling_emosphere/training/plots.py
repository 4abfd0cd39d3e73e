"""End-of-training figures: predicted vs true A/V/D, and the region confusion matrix."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402


def plot_vad_scatter(predictions: np.ndarray, labels: np.ndarray, names, scale, metrics: dict, path):
    """One panel per attribute: predicted (y) vs true (x) on the label scale, with the identity line."""
    figure, axes = plt.subplots(1, 3, figsize=(12, 4), constrained_layout=True)
    for column, (axis, name) in enumerate(zip(axes, names)):
        axis.scatter(labels[:, column], predictions[:, column], s=6, alpha=0.5)
        axis.plot(scale, scale, color="grey", linewidth=1)
        axis.set(xlim=scale, ylim=scale, xlabel=f"true {name}", ylabel=f"predicted {name}")
        axis.set_title(f"{name}: CCC {metrics.get(f'ccc_{name}', float('nan')):.3f}")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_region_confusion(true_regions: np.ndarray, predicted: np.ndarray, region_names: list[str], path):
    """Row-normalised confusion matrix of the region head."""
    matrix = confusion_matrix(true_regions, predicted, labels=range(len(region_names))).astype(float)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5, 0.45 * len(region_names))
    figure, axis = plt.subplots(figsize=(size + 1.5, size), constrained_layout=True)
    image = axis.imshow(matrix, vmin=0, vmax=1, cmap="Blues")
    ticks = range(len(region_names))
    axis.set_xticks(ticks, region_names, rotation=90, fontsize=7)
    axis.set_yticks(ticks, region_names, fontsize=7)
    axis.set(xlabel="predicted region", ylabel="true region", title="Region confusion (row-normalised)")
    figure.colorbar(image, ax=axis)
    figure.savefig(path, dpi=110)
    plt.close(figure)
