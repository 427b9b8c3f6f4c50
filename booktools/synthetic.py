"""Synthetic tables, only where no open data exists at the scale a lab needs.

Two use cases of the method need data that no producer publishes openly:

- **health outcomes by IRIS** (covid-19 fragility): the share of inhabitants treated for asthma,
  for diabetes, and in long-term illness (ALD). The regional health observatories hold them; they
  are not open. → `sante_iris_synthetique`
- **C2S take-up by household profile** (non-take-up of the complémentaire santé solidaire): the
  DREES estimates national rates from a microsimulation model; nothing open exists by household.
  → `c2s_menages_synthetique`

Both tables are *invented*, seeded and reproducible byte for byte (`python -m booktools.prepare`
writes them; `tests/test_data.py` regenerates them and compares). Every number that shapes them is
a named constant below, with the published order of magnitude it is calibrated on. What a lab
"finds" in them is what these constants put there: labs must say so, and the data package marks
both resources `synthetic: true` and "synthétique" in their title.

Sources of the orders of magnitude:

- Santé publique France, « Le diabète en France : les chiffres 2020 » (2021): 5.3 % of the
  population treated by medication for diabetes in 2020, lowest in the West (Brittany), highest in
  overseas departments, Seine-Saint-Denis and the North-East.
  https://santepubliquefrance.fr/les-actualites/2021/le-diabete-en-france-les-chiffres-2020
- Mandereau-Bruno L., Fosse-Edorh S., « Prévalence du diabète traité pharmacologiquement (tous
  types) en France en 2015. Disparités territoriales et socio-économiques », BEH 2017 n° 27-28:
  prevalence rises with the social disadvantage of the commune and among CMU-C beneficiaries.
  http://beh.santepubliquefrance.fr/beh/2017/27-28/2017_27-28_3.html
- Irdes, « L'asthme en France en 2006 : prévalence et contrôle des symptômes », Questions
  d'économie de la santé n° 138 (2008): 6.7 % current asthma; low household income raises the
  risk of uncontrolled asthma. https://www.irdes.fr/EspacePresse/QuestionsA/QuestionsAFev09.html
- Assurance Maladie, « 10,4 millions de personnes concernées par une affection de longue durée en
  2016 » (2018): 16.9 % of the general scheme's insured in ALD, diabetes a quarter of them.
  https://www.ameli.fr/assure/actualites/104-millions-de-personnes-concernees-par-une-affection-de-longue-duree-en-2016
- DREES, communiqué du 13/12/2022 on the non-take-up of the complémentaire santé solidaire
  (2019-2021): 44 % overall in 2021, about 31 % for the free C2S, 67 % for the C2S with a
  financial contribution.
  https://drees.solidarites-sante.gouv.fr/communique-de-presse/complementaire-sante-solidaire-avec-participation-financiere-un-taux-de-non
- DREES, Les Dossiers n° 107 (March 2023), « Le recours et le non-recours à la complémentaire
  santé solidaire » (qualitative study of the profiles and paths of beneficiaries).
- The QPV poverty rates of `qpv_revenus_c2s` (ANCT/INSEE, REVN 2022; median about 44 %, against
  about 14.5 % for France) for the income gap between QPV and other neighbourhoods.

Determinism: numpy's seeded `Generator` draws the random numbers; transcendental functions go
through Python's `math` and sums through `math.fsum`, so the output does not depend on the SIMD
code paths of the machine; every number is rounded before it is written.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

# --- health outcomes by IRIS ------------------------------------------------------------------

SANTE_SEED = 2020_0311  # the WHO declared the pandemic on 11 March 2020
SANTE_PATH = "synthetique/sante_iris_synthetique.csv"
#: Average rates (%) in the IRIS, before the poverty gradient. IRIS are urban and urban France is
#: younger than France as a whole, hence a little below the national 5.3 % (diabetes) and 16.9 % (ALD).
BASE_RATE = {"asthme": 6.0, "diabete": 4.6, "ald": 15.5}
#: Log-rate change for one standard deviation of the IRIS poverty rate (logit scale): with 0.25,
#: the poorest IRIS (+2 sd) have about 1.65 times the diabetes rate of the average one.
POVERTY_GRADIENT = {"asthme": 0.12, "diabete": 0.25, "ald": 0.13}
#: Dispersion not explained by poverty (sd of the log-rate), and its correlations: wide enough
#: that poverty explains about half of the variance of diabetes, less for asthma (r ≈ 0.5 to 0.7).
NOISE_SD = {"asthme": 0.20, "diabete": 0.28, "ald": 0.17}
NOISE_CORRELATION = {("asthme", "diabete"): 0.2, ("asthme", "ald"): 0.3, ("diabete", "ald"): 0.5}
#: Diabetes is less frequent in the West and more frequent in the South-East (Santé publique France),
#: by region (COG codes): Bretagne and Pays de la Loire; Provence-Alpes-Côte d'Azur.
REGION_DIABETES_FACTOR = {"53": 0.85, "52": 0.85, "93": 1.10}
OUTCOMES = ["asthme", "diabete", "ald"]


def _cholesky_3(sd: dict, corr: dict) -> list[list[float]]:
    """Lower-triangular L with L·Lᵀ = covariance, by hand (3×3): no LAPACK, same bits everywhere."""
    keys = OUTCOMES
    cov = [[sd[a] * sd[b] * (1.0 if a == b else corr.get((a, b), corr.get((b, a), 0.0))) for b in keys] for a in keys]
    L = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(i + 1):
            s = cov[i][j] - math.fsum(L[i][k] * L[j][k] for k in range(j))
            L[i][j] = math.sqrt(s) if i == j else s / L[j][j]
    return L


def sante_iris(filosofi: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """One row per IRIS of the national Filosofi 2018 file (`filosofi_iris_2018`): three invented
    health rates (%).

    The rates grow with the IRIS poverty rate (`DISP_TP6018`). Where Filosofi does not publish it,
    the IRIS gets its commune's average poverty (or the national average) and
    `filosofi_disponible` is false. `communes` (the COG table) gives each IRIS its region.
    """
    rng = np.random.Generator(np.random.PCG64(SANTE_SEED))
    poverty = pd.to_numeric(filosofi["DISP_TP6018"], errors="coerce")
    known = poverty.notna().to_list()
    logit = [math.log(min(max(p / 100, 0.01), 0.9) / (1 - min(max(p / 100, 0.01), 0.9))) if ok else None
             for p, ok in zip(poverty.to_list(), known)]
    values = [v for v in logit if v is not None]
    mean = math.fsum(values) / len(values)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
    z = [None if v is None else (v - mean) / sd for v in logit]
    commune = filosofi["IRIS"].str.slice(0, 5).to_list()
    commune_mean = {}
    for c, zi in zip(commune, z):
        if zi is not None:
            commune_mean.setdefault(c, []).append(zi)
    commune_mean = {c: math.fsum(v) / len(v) for c, v in commune_mean.items()}
    z = [commune_mean.get(c, 0.0) if zi is None else zi for c, zi in zip(commune, z)]
    region_of = dict(zip(communes["code"], communes["region"]))

    L = _cholesky_3(NOISE_SD, NOISE_CORRELATION)
    draws = rng.standard_normal((len(filosofi), 3)).tolist()
    rates = {k: [] for k in OUTCOMES}
    for zi, s, c in zip(z, draws, commune):
        noise = [math.fsum(L[i][k] * s[k] for k in range(i + 1)) for i in range(3)]
        for i, k in enumerate(OUTCOMES):
            factor = REGION_DIABETES_FACTOR.get(region_of.get(c, ""), 1.0) if k == "diabete" else 1.0
            rates[k].append(round(BASE_RATE[k] * factor * math.exp(POVERTY_GRADIENT[k] * zi + noise[i]), 1))
    return pd.DataFrame({
        "code_iris": filosofi["IRIS"].to_list(),
        "code_commune": commune,
        "filosofi_disponible": known,
        "taux_traitement_antiasthmatique": rates["asthme"],
        "taux_traitement_antidiabetique": rates["diabete"],
        "taux_ald": rates["ald"],
    })


# --- C2S take-up by household -----------------------------------------------------------------

C2S_SEED = 2019_1101  # the complémentaire santé solidaire replaced CMU-C and ACS on 1 November 2019
C2S_PATH = "synthetique/c2s_menages_synthetique.csv"
C2S_HOUSEHOLDS = 10_000
#: Half the fictitious households live in a QPV: a balanced sample to compare, not a census.
SHARE_IN_QPV = 0.5

AGE_BANDS = ["moins de 30 ans", "30 à 44 ans", "45 à 59 ans", "60 ans ou plus"]
AGE_SHARES = {True: [0.24, 0.30, 0.26, 0.20], False: [0.15, 0.25, 0.27, 0.33]}  # QPV are younger
HOUSEHOLD_TYPES = ["personne seule", "famille monoparentale", "couple sans enfant", "couple avec enfant(s)"]
HOUSEHOLD_SHARES = {  # by age band of the reference person
    "moins de 30 ans": [0.45, 0.15, 0.20, 0.20],
    "30 à 44 ans": [0.20, 0.20, 0.12, 0.48],
    "45 à 59 ans": [0.28, 0.15, 0.22, 0.35],
    "60 ans ou plus": [0.45, 0.05, 0.45, 0.05],
}
#: In QPV, single-parent families are more frequent (moved from couples without children).
QPV_SINGLE_PARENT_SHIFT = 0.07
ACTIVITIES = ["en emploi", "au chômage", "autre inactif", "retraité"]
ACTIVITY_SHARES = {
    "moins de 30 ans": [0.55, 0.20, 0.25, 0.00],
    "30 à 44 ans": [0.72, 0.15, 0.13, 0.00],
    "45 à 59 ans": [0.68, 0.12, 0.15, 0.05],
    "60 ans ou plus": [0.15, 0.04, 0.06, 0.75],
}
#: In QPV, fewer people in work (moved to unemployment and inactivity).
QPV_ACTIVITY_SHIFT = {"en emploi": -0.12, "au chômage": 0.08, "autre inactif": 0.04}

INCOME_BANDS = ["sous le plafond de la C2S sans participation", "entre les deux plafonds",
                "au-dessus des plafonds"]
#: Latent income-hardship score: higher means poorer.
HARDSHIP = {"au chômage": 1.6, "autre inactif": 1.3, "retraité": 0.2, "famille monoparentale": 0.8,
            "personne seule": 0.3, "qpv": 0.9}
#: Shares of the whole sample under each ceiling (QPV half at 40 % poverty, other half at 14 %):
#: free C2S about 19 %, C2S with a contribution about 9 % more.
SHARE_FREE_C2S, SHARE_CONTRIBUTORY_C2S = 0.19, 0.09

#: Non-take-up among the eligible, DREES 2021: about 31 % (free C2S) and 67 % (with contribution).
NON_TAKE_UP = {"sans participation": 0.31, "avec participation": 0.67}
#: Profile effects on the log-odds of non-take-up (generator hypotheses, to be discussed in the lab):
#: the young and people in work know the scheme less; since 2022 RSA recipients (among the
#: unemployed and inactive) get the free C2S almost automatically; the QPV effect is a small
#: *assumed* place effect on top of the composition of QPV households.
NON_TAKE_UP_EFFECTS = {"moins de 30 ans": 0.35, "60 ans ou plus": 0.25, "en emploi": 0.45, "au chômage": -0.20,
                       "autre inactif": -0.35, "personne seule": 0.15, "famille monoparentale": -0.20, "qpv": 0.15}


def _choice(u: float, labels: list[str], shares: list[float]) -> str:
    acc = 0.0
    for label, share in zip(labels, shares):
        acc += share
        if u < acc:
            return label
    return labels[-1]


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _intercept_for(target: float, offsets: list[float]) -> float:
    """The intercept a such that the mean of logistic(a + offset) is `target` (bisection)."""
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if math.fsum(_logistic(mid + o) for o in offsets) / len(offsets) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def c2s_menages(n: int = C2S_HOUSEHOLDS) -> pd.DataFrame:
    """`n` invented households: profile, C2S eligibility and take-up."""
    rng = np.random.Generator(np.random.PCG64(C2S_SEED))
    u = rng.random((n, 5)).tolist()
    # a standard logistic draw from a uniform one, through math.log (see "Determinism" above)
    logistic_noise = [math.log(v / (1.0 - v)) if 0.0 < v < 1.0 else 0.0 for v in (row[4] for row in u)]
    rows = []
    for i in range(n):
        qpv = u[i][0] < SHARE_IN_QPV
        age = _choice(u[i][1], AGE_BANDS, AGE_SHARES[qpv])
        shares = list(HOUSEHOLD_SHARES[age])
        if qpv:
            moved = min(QPV_SINGLE_PARENT_SHIFT, shares[2])
            shares[1] += moved
            shares[2] -= moved
        household = _choice(u[i][2], HOUSEHOLD_TYPES, shares)
        shares = list(ACTIVITY_SHARES[age])
        if qpv:
            for k, delta in QPV_ACTIVITY_SHIFT.items():
                shares[ACTIVITIES.index(k)] += delta
        activity = _choice(u[i][3], ACTIVITIES, shares)
        hardship = (HARDSHIP.get(activity, 0.0) + HARDSHIP.get(household, 0.0) + (HARDSHIP["qpv"] if qpv else 0.0)
                    + logistic_noise[i])
        rows.append({"qpv": qpv, "age": age, "household": household, "activity": activity, "hardship": hardship})

    ranked = sorted(r["hardship"] for r in rows)
    free_cut = ranked[int(round(n * (1 - SHARE_FREE_C2S)))]
    contributory_cut = ranked[int(round(n * (1 - SHARE_FREE_C2S - SHARE_CONTRIBUTORY_C2S)))]
    for r in rows:
        if r["hardship"] >= free_cut:
            r["band"], r["right"] = INCOME_BANDS[0], "sans participation"
        elif r["hardship"] >= contributory_cut:
            r["band"], r["right"] = INCOME_BANDS[1], "avec participation"
        else:
            r["band"], r["right"] = INCOME_BANDS[2], ""
        r["offset"] = math.fsum(NON_TAKE_UP_EFFECTS.get(k, 0.0) for k in (r["age"], r["activity"], r["household"])) \
            + (NON_TAKE_UP_EFFECTS["qpv"] if r["qpv"] else 0.0)

    intercepts = {right: _intercept_for(target, [r["offset"] for r in rows if r["right"] == right])
                  for right, target in NON_TAKE_UP.items()}
    take_up_draws = rng.random(n).tolist()
    out = []
    for i, r in enumerate(rows):
        eligible = r["right"] != ""
        if eligible:
            p_non_take_up = _logistic(intercepts[r["right"]] + r["offset"])
            takes_up = "false" if take_up_draws[i] < p_non_take_up else "true"
        else:
            takes_up = ""
        out.append({
            "id_menage": i + 1,
            "qpv": "true" if r["qpv"] else "false",
            "tranche_age": r["age"],
            "type_menage": r["household"],
            "activite": r["activity"],
            "tranche_revenu": r["band"],
            "eligible_c2s": "true" if eligible else "false",
            "droit_c2s": r["right"],
            "recours_c2s": takes_up,
        })
    return pd.DataFrame(out)


# --- writing ------------------------------------------------------------------------------------

def to_csv_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    df.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def generate(datasets: Path) -> dict[str, bytes]:
    """The bytes of every synthetic file, by path relative to `datasets/`.

    The health table is built on the shipped national Filosofi 2018 file and the COG table, read as text.
    """
    filosofi = pd.read_csv(datasets / "insee/filosofi_2018_iris_france.csv", dtype=str, keep_default_na=False)
    communes = pd.read_csv(datasets / "admin/communes_2026.csv", dtype=str, keep_default_na=False)
    return {SANTE_PATH: to_csv_bytes(sante_iris(filosofi, communes)), C2S_PATH: to_csv_bytes(c2s_menages())}


def write_all(datasets: Path) -> None:
    for relative, content in generate(datasets).items():
        path = datasets / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
