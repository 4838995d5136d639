"""The change rule: when a difference between two Förderphasen is more than sampling noise (pure).

A share (the top-2 share of an item, the share of respondents naming an option) gets a Wilson score interval;
the difference of two shares a Newcombe hybrid score interval (method 10 of Newcombe 1998), both from
statsmodels. A mean of a count gets a Welch interval for the difference of two means. A difference counts as a
change only when its interval lies entirely above zero (``up``) or entirely below it (``down``); otherwise the
verdict is ``none``: the data do not tell a change from noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UP, DOWN, NONE = "up", "down", "none"
VERDICTS = (UP, DOWN, NONE)
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Change:
    """Current minus previous (percentage points for shares), its interval and the verdict of the rule."""

    diff: float
    interval: Interval
    verdict: str


def _check_level(level: float) -> float:
    if not 0.5 <= level < 1:
        raise ValueError(f"confidence level {level!r} is not allowed; allowed: a number from 0.5 up to (not including) 1, e.g. 0.95")
    return level


def _check_counts(k: float, n: float) -> None:
    if n <= 0 or k < 0 or k > n:
        raise ValueError(f"a share needs 0 <= k <= n and n > 0; got k={k}, n={n}")


def wilson(k: float, n: float, level: float = DEFAULT_LEVEL) -> Interval:
    """Wilson score interval of the share k/n, in percent."""
    from statsmodels.stats.proportion import proportion_confint

    _check_counts(k, n)
    low, high = proportion_confint(int(k), int(n), alpha=1 - _check_level(level), method="wilson")
    return Interval(100 * float(low), 100 * float(high))


def verdict(interval: Interval) -> str:
    """``up`` / ``down`` when the interval of a difference excludes zero, else ``none``."""
    if interval.low > 0:
        return UP
    if interval.high < 0:
        return DOWN
    return NONE


def share_change(k_now: float, n_now: float, k_prev: float, n_prev: float, level: float = DEFAULT_LEVEL) -> Change:
    """Change of a share from previous (k_prev of n_prev) to now (k_now of n_now): Newcombe interval, percent points."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    _check_counts(k_now, n_now)
    _check_counts(k_prev, n_prev)
    low, high = confint_proportions_2indep(int(k_now), int(n_now), int(k_prev), int(n_prev), method="newcomb",
                                           compare="diff", alpha=1 - _check_level(level))
    interval = Interval(100 * float(low), 100 * float(high))
    return Change(100 * (k_now / n_now - k_prev / n_prev), interval, verdict(interval))


def mean_change(mean_now: float, var_now: float, n_now: int, mean_prev: float, var_prev: float, n_prev: int,
                level: float = DEFAULT_LEVEL) -> Change:
    """Change of a mean: Welch interval (unequal variances, Welch–Satterthwaite degrees of freedom)."""
    from scipy.stats import t

    if n_now < 2 or n_prev < 2:
        raise ValueError(f"a mean difference needs at least 2 values per phase; got {n_prev} and {n_now}")
    se2_now, se2_prev = var_now / n_now, var_prev / n_prev
    se = math.sqrt(se2_now + se2_prev)
    diff = mean_now - mean_prev
    if se == 0:
        interval = Interval(diff, diff)
    else:
        df = (se2_now + se2_prev) ** 2 / (se2_now ** 2 / (n_now - 1) + se2_prev ** 2 / (n_prev - 1))
        q = float(t.ppf(1 - (1 - _check_level(level)) / 2, df))
        interval = Interval(diff - q * se, diff + q * se)
    return Change(diff, interval, verdict(interval))
