"""The reference use case: generated card-payment fraud data with a time axis (nothing downloaded).

Each row is one card payment by a customer (``entity_id``) at ``event_timestamp`` (UTC) with ten
features and a ``label`` (1 = fraud, about 4 % of payments).

Features:

=====================  ===========  ==========================================================
column                 kind         meaning
=====================  ===========  ==========================================================
amount                 numeric      payment amount in EUR (log-normal, cents)
hour_of_day            numeric      local hour 0-23 (24 values)
account_age_days       numeric      age of the customer's account on the payment day
distance_from_home_km  numeric      distance between the merchant and the customer's home
declines_7d            numeric      declined payments in the last 7 days, 0-4 (few values)
merchant_risk_score    numeric      the acquirer's merchant risk score, 0-1
merchant_category      categorical  grocery, restaurants, fuel, travel, electronics, ...
channel                categorical  chip, contactless, online
card_type              categorical  debit, credit, prepaid (a property of the customer)
is_foreign             categorical  1 when the payment is made abroad (binary, int)
=====================  ===========  ==========================================================

Seasonality:

- daily: payments follow a daily profile (quiet 01:00-06:00, peaks at lunch and early evening);
  fraud is about three times likelier at night, so the fraud rate has a daily cycle.
- weekly: on Saturdays and Sundays amounts are ~10 % higher, restaurants, entertainment and
  travel gain share and the day starts an hour later.
- slow: ``account_age_days`` grows with the calendar (the customer pool is fixed).

Monitoring windows should cover whole days (better: whole weeks) so that seasonality is not
mistaken for drift.

Scenarios (``SCENARIOS``), applied to payments at or after ``drift_start``:

- ``none``: the stationary process.
- ``covariate_shift``: a marketplace partnership moves the inputs: more online and foreign
  payments, larger amounts and distances, more electronics / online services, later hours.
  ``P(label | features)`` is unchanged (the fraud rate rises only through the inputs). Caught by
  feature drift (dataset drift: 7 of 10 features move).
- ``prior_shift``: a fraud-ring campaign lifts the fraud rate to ~20 % while each class keeps its
  feature distribution (``P(features | label)`` unchanged). Caught by label drift and prediction
  drift; features that separate the classes drift too.
- ``concept_drift``: fraudsters switch to card testing (small online amounts on new accounts,
  no longer at night or abroad). Feature distributions are unchanged and the fraud rate stays
  about the same; only ``P(label | features)`` changes. Invisible to feature drift by design:
  caught by performance drift once the delayed labels arrive.

Determinism: each calendar day has its own random stream derived from ``(seed, day)``, so the same
day always yields the same payments whatever window it is generated in:
``generate(s, 14, n)`` equals ``generate(s, 7, n)`` followed by ``generate(s + 7 days, 7, n)``,
and before ``drift_start`` every scenario yields exactly the ``none`` data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tasks.errors import ConfigurationError, NotFoundError

__all__ = [
    "CATEGORICAL_FEATURES",
    "ENTITY",
    "FEATURES",
    "LABEL",
    "NUMERIC_FEATURES",
    "SCENARIOS",
    "TIMESTAMP",
    "generate",
]

ENTITY = "entity_id"
TIMESTAMP = "event_timestamp"
LABEL = "label"
NUMERIC_FEATURES: list[str] = [
    "amount",
    "hour_of_day",
    "account_age_days",
    "distance_from_home_km",
    "declines_7d",
    "merchant_risk_score",
]
CATEGORICAL_FEATURES: list[str] = ["merchant_category", "channel", "card_type", "is_foreign"]
FEATURES: list[str] = NUMERIC_FEATURES + CATEGORICAL_FEATURES
SCENARIOS: tuple[str, ...] = ("none", "covariate_shift", "prior_shift", "concept_drift")

_N_CUSTOMERS = 5_000
_FIRST_ENTITY = 100_000
# Account ages are anchored here; dates before it clip young accounts to age 0.
_AGE_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)
_EPOCH_DAY = datetime(1970, 1, 1, tzinfo=UTC)

_CATEGORIES = np.array(
    ["grocery", "restaurants", "fuel", "travel", "electronics", "online_services", "entertainment"]
)
_CAT_WEEKDAY = np.array([0.30, 0.18, 0.14, 0.06, 0.08, 0.14, 0.10])
_CAT_WEEKEND = np.array([0.26, 0.22, 0.11, 0.08, 0.08, 0.12, 0.13])
_CAT_SHIFTED = np.array([0.18, 0.12, 0.08, 0.08, 0.24, 0.22, 0.08])
_CAT_RISK_MEAN = np.array([0.15, 0.20, 0.18, 0.35, 0.40, 0.45, 0.30])
# Probability of an online payment per category; the rest splits chip / contactless 40 / 60.
_CAT_ONLINE = np.array([0.05, 0.10, 0.02, 0.55, 0.45, 0.90, 0.35])
_CHANNELS = np.array(["chip", "contactless", "online"])
_CARD_TYPES = np.array(["debit", "credit", "prepaid"])

_HOURLY = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 4.5, 5, 5.5, 6.5, 8, 7, 6, 5.5, 6, 7, 8, 7.5, 6, 4.5, 3, 2]
)
_HOURLY_WEEKDAY = _HOURLY / _HOURLY.sum()
_HOURLY_WEEKEND = np.roll(_HOURLY, 1) / _HOURLY.sum()
_HOURLY_SHIFTED = np.roll(_HOURLY, 3) / _HOURLY.sum()

_PRIOR_SHIFT_RATE = 0.20


def generate(
    start: datetime,
    days: int,
    rows_per_day: int,
    scenario: str = "none",
    drift_start: datetime | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate ``days * rows_per_day`` payments from the day of ``start`` (whole UTC days).

    Args:
        start: first day (its UTC date is used; naive datetimes are read as UTC).
        days: number of calendar days (>= 1).
        rows_per_day: payments per day (>= 1).
        scenario: one of :data:`SCENARIOS`.
        drift_start: when the scenario begins; defaults to ``start`` (the whole window drifts).
        seed: the random seed; the same arguments always give the same frame.

    Returns:
        A frame sorted by ``event_timestamp`` with ``entity_id``, ``event_timestamp`` (UTC),
        :data:`FEATURES` and ``label``.

    Raises:
        NotFoundError: unknown scenario.
        ConfigurationError: ``days`` or ``rows_per_day`` below 1.
    """
    if scenario not in SCENARIOS:
        raise NotFoundError(f"unknown drift scenario {scenario!r}; expected one of {SCENARIOS}")
    if days < 1 or rows_per_day < 1:
        raise ConfigurationError(
            f"days and rows_per_day must be >= 1 (got days={days}, rows_per_day={rows_per_day})"
        )
    first_day = _utc(start).replace(hour=0, minute=0, second=0, microsecond=0)
    drift_at = _utc(drift_start) if drift_start is not None else first_day
    customers = _customers(seed)
    frames = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        drifting = scenario != "none" and day + timedelta(days=1) > drift_at
        frames.append(
            _day(day, rows_per_day, seed, customers, scenario if drifting else "none", drift_at)
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(TIMESTAMP, kind="stable", ignore_index=True)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _customers(seed: int) -> dict[str, np.ndarray]:
    """The fixed customer pool: activity weights, base account age, card type."""
    rng = np.random.default_rng([seed, 7_919])
    activity = rng.gamma(0.8, 1.0, _N_CUSTOMERS)
    return {
        "weights": activity / activity.sum(),
        "base_age": np.minimum(np.round(rng.lognormal(6.6, 1.0, _N_CUSTOMERS)), 7_000).astype(
            np.int64
        ),
        "card": rng.choice(3, _N_CUSTOMERS, p=[0.62, 0.30, 0.08]),
    }


def _day(
    day: datetime,
    n: int,
    seed: int,
    customers: dict[str, np.ndarray],
    scenario: str,
    drift_at: datetime,
) -> pd.DataFrame:
    day_index = (day - _EPOCH_DAY).days
    frame = _payments(np.random.default_rng([seed, day_index]), day, n, customers, shifted=None)
    if scenario == "none":
        return frame
    drifted = (frame[TIMESTAMP] >= pd.Timestamp(drift_at)).to_numpy()
    if scenario == "covariate_shift":
        # Same random stream with shifted input distributions: only the drifted rows are kept.
        moved = _payments(np.random.default_rng([seed, day_index]), day, n, customers, shifted=True)
        frame.loc[drifted] = moved.loc[drifted].to_numpy()
        frame = _clamp_to_drift_start(frame, drifted, drift_at)
    elif scenario == "concept_drift":
        features = frame.loc[drifted]
        u = np.random.default_rng([seed, day_index, 3]).random(len(features))
        frame.loc[drifted, LABEL] = (u < _sigmoid(_concept_logit(features))).astype(np.int64)
    else:
        frame = _prior_shift(frame, drifted, seed, day_index, day, customers, drift_at)
    return frame.astype(_payments_dtypes())


def _clamp_to_drift_start(
    frame: pd.DataFrame, drifted: np.ndarray, drift_at: datetime
) -> pd.DataFrame:
    """Shifted hours may move a drifted payment before ``drift_start``: keep it at the boundary."""
    at = pd.Timestamp(drift_at)
    early = drifted & (frame[TIMESTAMP] < at).to_numpy()
    if early.any():
        frame.loc[early, TIMESTAMP] = at
        frame.loc[early, "hour_of_day"] = at.hour
    return frame


def _prior_shift(
    frame: pd.DataFrame,
    drifted: np.ndarray,
    seed: int,
    day_index: int,
    day: datetime,
    customers: dict[str, np.ndarray],
    drift_at: datetime,
) -> pd.DataFrame:
    """Replace drifted legitimate payments by fresh frauds of the same day until ~20 % are fraud.

    Frauds come from the unchanged process (filtered on the label) and the legitimate payments
    left are a random subset, so ``P(features | label)`` stays as it was.
    """
    rng = np.random.default_rng([seed, day_index, 1])
    legit = np.flatnonzero(drifted & (frame[LABEL].to_numpy() == 0))
    n_drifted = int(drifted.sum())
    base_frauds = n_drifted - len(legit)
    wanted = max(0, round(_PRIOR_SHIFT_RATE * n_drifted) - base_frauds)
    if wanted == 0:
        return frame
    replace = rng.choice(legit, size=min(wanted, len(legit)), replace=False)
    at = pd.Timestamp(drift_at)
    # Only frauds after drift_start qualify: draw enough that a late start needs few rounds.
    after = max(min((day + timedelta(days=1) - drift_at) / timedelta(days=1), 1.0), 1e-3)
    pool: list[pd.DataFrame] = []
    found = 0
    while found < len(replace):
        size = int(max(200, 40 * (len(replace) - found) / after))
        batch = _payments(rng, day, size, customers, shifted=None)
        batch = batch[(batch[LABEL] == 1) & (batch[TIMESTAMP] >= at)]
        pool.append(batch)
        found += len(batch)
    frauds = pd.concat(pool, ignore_index=True).iloc[: len(replace)]
    frame.loc[replace] = frauds.to_numpy()
    return frame


def _payments(
    rng: np.random.Generator,
    day: datetime,
    n: int,
    customers: dict[str, np.ndarray],
    shifted: bool | None,
) -> pd.DataFrame:
    """Draw ``n`` payments of one day; ``shifted`` applies the covariate-shift distributions.

    Every draw happens in the same order whatever ``shifted`` is, so the shifted rows pair with the
    unshifted ones (same customer, same uniform numbers) and only the moved inputs differ.
    """
    weekend = day.weekday() >= 5
    customer = rng.choice(_N_CUSTOMERS, size=n, p=customers["weights"])
    hourly = _HOURLY_SHIFTED if shifted else (_HOURLY_WEEKEND if weekend else _HOURLY_WEEKDAY)
    hour = rng.choice(24, size=n, p=hourly)
    seconds = rng.integers(0, 3_600, size=n)
    cat_p = _CAT_SHIFTED if shifted else (_CAT_WEEKEND if weekend else _CAT_WEEKDAY)
    category = rng.choice(len(_CATEGORIES), size=n, p=cat_p)
    online_p = np.minimum(_CAT_ONLINE[category] + (0.30 if shifted else 0.0), 0.97)
    u_channel = rng.random(n)
    channel = np.where(u_channel < online_p, 2, np.where(rng.random(n) < 0.4, 0, 1))
    foreign = (rng.random(n) < (0.25 if shifted else 0.06 + 0.10 * (channel == 2))).astype(np.int64)
    scale = 42.0 * (1.10 if weekend else 1.0) * (1.9 if shifted else 1.0)
    amount = np.round(scale * rng.lognormal(0.0, 0.95, n) + 1.0, 2)
    distance_median = np.where(foreign == 1, 900.0, 6.0) * (2.5 if shifted else 1.0)
    distance = np.round(distance_median * rng.lognormal(0.0, 0.8, n), 2)
    declines = np.minimum(rng.poisson(0.35, n), 4)
    mean = _CAT_RISK_MEAN[category]
    risk = np.round(rng.beta(mean * 8.0, (1.0 - mean) * 8.0), 3)
    age_offset = (day - _AGE_ANCHOR).days
    age = np.maximum(customers["base_age"][customer] + age_offset, 0)
    timestamps = pd.Timestamp(day) + pd.to_timedelta(hour * 3_600 + seconds, unit="s")
    frame = pd.DataFrame(
        {
            ENTITY: customer + _FIRST_ENTITY,
            TIMESTAMP: timestamps,
            "amount": amount,
            "hour_of_day": hour,
            "account_age_days": age,
            "distance_from_home_km": distance,
            "declines_7d": declines,
            "merchant_risk_score": risk,
            "merchant_category": _CATEGORIES[category],
            "channel": _CHANNELS[channel],
            "card_type": _CARD_TYPES[customers["card"][customer]],
            "is_foreign": foreign,
        }
    )
    u_label = rng.random(n)
    frame[LABEL] = (u_label < _sigmoid(_base_logit(frame))).astype(np.int64)
    return frame.astype(_payments_dtypes())


def _base_logit(f: pd.DataFrame) -> np.ndarray:
    """Classic card fraud: large amounts, night, abroad, online, risky merchants, new accounts."""
    hour = f["hour_of_day"].to_numpy()
    return (
        -4.45
        + 0.55 * np.log(f["amount"].to_numpy() / 42.0)
        + 1.1 * ((hour >= 0) & (hour <= 5))
        + 1.2 * f["is_foreign"].to_numpy()
        + 0.8 * (f["channel"].to_numpy() == "online")
        + 0.55 * f["declines_7d"].to_numpy()
        + 2.5 * (f["merchant_risk_score"].to_numpy() - 0.25)
        + 1.0 * (f["account_age_days"].to_numpy() < 120)
        + 0.6 * (f["card_type"].to_numpy() == "prepaid")
    )


def _concept_logit(f: pd.DataFrame) -> np.ndarray:
    """Card testing: small online amounts on new accounts; night and abroad no longer matter."""
    return (
        -4.1
        - 0.9 * np.log(f["amount"].to_numpy() / 42.0)
        + 1.8 * (f["channel"].to_numpy() == "online")
        + 1.6 * (f["account_age_days"].to_numpy() < 365)
        + 0.4 * f["declines_7d"].to_numpy()
        - 1.0 * (f["card_type"].to_numpy() == "credit")
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _payments_dtypes() -> dict[str, str]:
    return {
        ENTITY: "int64",
        TIMESTAMP: "datetime64[ns, UTC]",
        "amount": "float64",
        "hour_of_day": "int64",
        "account_age_days": "int64",
        "distance_from_home_km": "float64",
        "declines_7d": "int64",
        "merchant_risk_score": "float64",
        "merchant_category": "object",
        "channel": "object",
        "card_type": "object",
        "is_foreign": "int64",
        LABEL: "int64",
    }
