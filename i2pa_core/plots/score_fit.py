"""What the score distribution of Fig. 5 is: one Gaussian, or a mixture of Gaussians, by BIC.

The paper fits one Gaussian to its test scores (mean 2.96, std 1.55). Scores of another model on
other data need not be Gaussian (ours are bimodal on the simulated platform), so
:func:`describe_scores` fits mixtures of 1 to ``max_components`` Gaussians by maximum likelihood
(EM, :func:`fit_mixture`) and keeps the one with the lowest Bayesian information criterion
(:func:`bic`). One component is the plain Gaussian fit (:func:`fit_gaussian`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import logsumexp


@dataclass(frozen=True)
class Mixture:
    """A fitted Gaussian mixture, components sorted by mean.

    ``loglik`` is the log-likelihood of the ``n`` finite scores it was fitted to.
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]
    loglik: float
    n: int
    iterations: int = 0
    converged: bool = True

    @property
    def components(self) -> int:
        return len(self.weights)

    @property
    def bic(self) -> float:
        return bic(self.loglik, 3 * self.components - 1, self.n)

    def pdf(self, x) -> np.ndarray:
        """Density of the mixture at ``x``."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        return (np.asarray(self.weights) * stats.norm.pdf(x, self.means, self.sds)).sum(-1)

    def component_pdfs(self, x) -> np.ndarray:
        """``(len(x), components)``: each component's weighted density."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        return np.asarray(self.weights) * stats.norm.pdf(x, self.means, self.sds)


def finite(scores) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64).ravel()
    return values[np.isfinite(values)]


def fit_gaussian(scores) -> tuple[float, float]:
    """Maximum-likelihood Gaussian fit: (mean, population sd, ddof = 0) of the finite scores."""
    values = finite(scores)
    return float(values.mean()), float(values.std())


def bic(loglik: float, parameters: int, n: int) -> float:
    """Bayesian information criterion ``k ln(n) - 2 ln L`` (lower is better)."""
    return float(parameters * np.log(n) - 2.0 * loglik)


def fit_mixture(scores, components: int = 2, max_iter: int = 1000, tol: float = 1e-10
                ) -> Mixture:
    """Maximum-likelihood mixture of ``components`` Gaussians by EM (numpy only).

    Deterministic start: means at the quantiles (i + 0.5) / k of the scores, every sd the
    scores' sd / k, equal weights. Stops when the log-likelihood gains less than ``tol`` times
    its size; each sd is kept above 1e-3 of the scores' sd, so a component cannot collapse on
    one value. One component gives the plain Gaussian fit in one step.
    """
    x = finite(scores)
    n, k = len(x), int(components)
    if k < 1 or n < 3 * k:
        raise ValueError(f"need components >= 1 and at least {3 * k} finite scores, got "
                         f"{components} components and {n} scores")
    spread = x.std() or 1.0
    means = np.quantile(x, (np.arange(k) + 0.5) / k)
    sds, weights = np.full(k, spread / k), np.full(k, 1.0 / k)
    previous, converged, it = -np.inf, False, 0
    for it in range(1, max_iter + 1):
        log_joint = np.log(weights) + stats.norm.logpdf(x[:, None], means, sds)  # (n, k)
        per_point = logsumexp(log_joint, axis=1)                                 # (n,)
        loglik = float(per_point.sum())
        resp = np.exp(log_joint - per_point[:, None])
        mass = resp.sum(axis=0)
        weights = mass / n
        means = resp.T @ x / mass
        sds = np.sqrt((resp * (x[:, None] - means) ** 2).sum(axis=0) / mass)
        sds = np.maximum(sds, 1e-3 * spread)
        if loglik - previous <= tol * abs(loglik):
            converged = True
            break
        previous = loglik
    log_joint = np.log(weights) + stats.norm.logpdf(x[:, None], means, sds)
    loglik = float(logsumexp(log_joint, axis=1).sum())
    order = np.argsort(means, kind="stable")
    return Mixture(tuple(weights[order].tolist()), tuple(means[order].tolist()),
                   tuple(sds[order].tolist()), loglik, n, it, converged)


def describe_scores(scores, max_components: int = 2) -> dict:
    """Fit 1..``max_components`` Gaussians and keep the lowest BIC.

    Returns:
        ``best`` (the chosen :class:`Mixture`), ``gaussian`` (the one-component fit), ``fits``
        (every fit, by number of components) and ``delta_bic`` (BIC of one Gaussian minus the
        best's: 0 when one Gaussian is chosen; above 10 is "very strong" evidence against it).
    """
    fits = {k: fit_mixture(scores, k) for k in range(1, max_components + 1)}
    best = min(fits.values(), key=lambda m: (m.bic, m.components))
    return {"best": best, "gaussian": fits[1], "fits": fits,
            "delta_bic": fits[1].bic - best.bic}
