"""Concordance correlation coefficient (CCC), a local `evaluate` metric module.

Load it by path: ``evaluate.load(".../metrics/ccc")``. CCC is computed over the whole evaluation
set with population moments (not averaged over batches):
``CCC = 2 cov(p, y) / (var(p) + var(y) + (mean(p) - mean(y))^2)``.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Lin's concordance correlation coefficient between predictions and references, per
column for 2-D inputs (e.g. arousal, valence, dominance), with population moments."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: floats, or lists of floats of equal length (one column per attribute).
    references: same shape as predictions.
    names: optional names of the columns; the result then has `ccc_<name>` per column and `ccc_mean`.
Returns:
    ccc: the CCC (1-D inputs) or the list of per-column CCCs; with `names`, `ccc_<name>` and `ccc_mean`.
Example:
    >>> ccc = evaluate.load("metrics/ccc")
    >>> ccc.compute(predictions=[1.0, 2.0, 3.0], references=[1.0, 2.0, 3.0])
    {'ccc': 1.0}
"""


def concordance(predictions: np.ndarray, references: np.ndarray) -> np.ndarray:
    """CCC per column of ``(N, D)`` arrays, population moments."""
    pred_mean, ref_mean = predictions.mean(axis=0), references.mean(axis=0)
    covariance = ((predictions - pred_mean) * (references - ref_mean)).mean(axis=0)
    denominator = predictions.var(axis=0) + references.var(axis=0) + (pred_mean - ref_mean) ** 2
    return np.where(denominator > 0, 2 * covariance / np.where(denominator > 0, denominator, 1.0), 0.0)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CCC(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Lin, L. I. (1989). A concordance correlation coefficient to evaluate reproducibility.",
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {"predictions": datasets.Sequence(datasets.Value("float64")), "references": datasets.Sequence(datasets.Value("float64"))}
                ),
                datasets.Features({"predictions": datasets.Value("float64"), "references": datasets.Value("float64")}),
            ],
        )

    def _compute(self, predictions, references, names=None):
        predictions = np.asarray(predictions, dtype=np.float64)
        references = np.asarray(references, dtype=np.float64)
        one_dimensional = predictions.ndim == 1
        values = concordance(predictions.reshape(len(predictions), -1), references.reshape(len(references), -1))
        if names is not None:
            result = {f"ccc_{name}": float(value) for name, value in zip(names, values)}
            result["ccc_mean"] = float(values.mean())
            return result
        return {"ccc": float(values[0]) if one_dimensional else values.tolist()}
