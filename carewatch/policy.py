"""Policy values with the defaults of the national and local rules (see the policy digest).

Every number a rule uses lives here, so that a locality profile can override it. A
profile stores only the values it changes; :func:`load_policy` merges them over these
defaults and validates the result.
"""

from __future__ import annotations

import enum
import itertools
import json
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ClassType(enum.StrEnum):
    """Class types of the national setting standard (托育机构设置标准)."""

    INFANT = "infant"  # 乳儿班
    TODDLER = "toddler"  # 托小班
    OLDER = "older"  # 托大班
    MIXED = "mixed"  # 混合班


class ClassRule(BaseModel):
    """Age band, size limit and caregiver ratio for one class type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_age_months: int = Field(ge=0, le=48, description="Youngest age, in whole months.")
    max_age_months: int = Field(
        ge=1, le=48, description="Age, in whole months, at which a child has outgrown the class."
    )
    max_children: int = Field(ge=1, le=60, description="Most children in one class.")
    children_per_caregiver: int = Field(
        ge=1, le=30, description="Children one caregiver on duty may look after."
    )

    @model_validator(mode="after")
    def _band(self) -> ClassRule:
        if self.min_age_months >= self.max_age_months:
            raise ValueError("min_age_months must be below max_age_months")
        return self


def _default_class_rules() -> dict[ClassType, ClassRule]:
    return {
        ClassType.INFANT: ClassRule(
            min_age_months=6, max_age_months=12, max_children=10, children_per_caregiver=3
        ),
        ClassType.TODDLER: ClassRule(
            min_age_months=12, max_age_months=24, max_children=15, children_per_caregiver=5
        ),
        ClassType.OLDER: ClassRule(
            min_age_months=24, max_age_months=36, max_children=20, children_per_caregiver=7
        ),
        # The standard sets no ratio for mixed classes; 1:5 is the documented default.
        ClassType.MIXED: ClassRule(
            min_age_months=18, max_age_months=36, max_children=18, children_per_caregiver=5
        ),
    }


class AttendancePolicy(BaseModel):
    """Door and day rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    late_pickup_grace_minutes: int = Field(
        0, ge=0, le=240, description="Minutes after closing before a pick-up counts as late."
    )
    service_weekdays: list[int] = Field(
        [0, 1, 2, 3, 4], description="Weekdays the facility serves (Monday is 0)."
    )
    past_correction_needs_reason: bool = Field(
        True, description="A change to a past day's record needs a written reason."
    )
    ratio_staff_roles: list[str] = Field(
        ["caregiver"], description="Staff roles whose duty counts toward the caregiver ratio."
    )
    max_child_age_months: int = Field(
        72, ge=36, le=120, description="Oldest plausible age for a child record, in months."
    )


class CarePolicy(BaseModel):
    """Daily care log: nap-time patrols, outdoor time and plausible feeding amounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sleep_check_interval_minutes: int = Field(
        15, ge=5, le=60, description="Minutes between checks on each sleeping child."
    )
    sleep_check_grace_minutes: int = Field(
        0, ge=0, le=15, description="Minutes after a check falls due before it is overdue."
    )
    outdoor_minimum_minutes: int = Field(
        120, ge=0, le=600, description="Outdoor minutes each class should have per day."
    )
    outdoor_warning_after: time = Field(
        time(14, 30), description="Local time after which an unreachable outdoor minimum shows."
    )
    max_bottle_ml: int = Field(350, ge=50, le=1000, description="Largest plausible bottle, in ml.")
    backdate_without_reason_minutes: int = Field(
        10, ge=0, le=120, description="Minutes an entry may lie in the past without a reason."
    )


class StaffPolicy(BaseModel):
    """Staff credentials: certificates, health exams, training and the ban list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    caregiver_certificate_kinds: list[str] = Field(
        ["caregiver", "infant_carer"],
        description="Certificate kinds that let a caregiver work (保育师, 育婴员).",
    )
    expiry_warning_days: list[int] = Field(
        [30, 7], description="Days ahead of an expiry at which a warning is raised."
    )
    health_exam_valid_months: int = Field(
        12, ge=1, le=36, description="Months a staff health exam stays valid (yearly)."
    )
    certified_share_target: float = Field(
        0.8, ge=0, le=1, description="The locality's target share of certified caregivers."
    )
    training_hours_head: int = Field(
        60, ge=0, le=1000, description="Training hours a facility head needs per year."
    )
    training_hours_caregiver: int = Field(
        120, ge=0, le=1000, description="Training hours a caregiver needs per year."
    )
    credentials_gate_ratio: bool = Field(
        True,
        description="A caregiver without a valid certificate and health exam does not count "
        "toward the ratio.",
    )


class DisinfectionMethod(enum.StrEnum):
    """How an area or object is disinfected."""

    VENTILATION = "ventilation"  # 通风
    UV_LAMP = "uv_lamp"  # 紫外线灯
    BOILING = "boiling"  # 煮沸
    STEAMING = "steaming"  # 蒸汽
    CHLORINE = "chlorine"  # 含氯消毒液
    SUN = "sun"  # 日晒


class MethodLimits(BaseModel):
    """The range a logged duration (and concentration) must fall in for one method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_minutes: int = Field(ge=1, le=1440, description="Shortest duration that counts.")
    max_minutes: int | None = Field(
        None, ge=1, le=1440, description="Longest duration that is plausible, if bounded."
    )
    min_mg_per_l: int | None = Field(
        None, ge=1, le=10000, description="Lowest available-chlorine concentration, mg/L."
    )
    max_mg_per_l: int | None = Field(
        None, ge=1, le=10000, description="Highest available-chlorine concentration, mg/L."
    )

    @model_validator(mode="after")
    def _ranges(self) -> MethodLimits:
        if self.max_minutes is not None and self.max_minutes < self.min_minutes:
            raise ValueError("max_minutes must not be below min_minutes")
        if (self.min_mg_per_l is None) != (self.max_mg_per_l is None):
            raise ValueError("give both concentration bounds or neither")
        if self.min_mg_per_l is not None and self.max_mg_per_l < self.min_mg_per_l:  # type: ignore[operator]
            raise ValueError("max_mg_per_l must not be below min_mg_per_l")
        return self

    @property
    def needs_concentration(self) -> bool:
        """Whether a log of this method must state a concentration."""
        return self.min_mg_per_l is not None


def _default_method_limits() -> dict[DisinfectionMethod, MethodLimits]:
    m = DisinfectionMethod
    return {
        # Ventilation 10–15 min each time, at least twice a day.
        m.VENTILATION: MethodLimits(min_minutes=10, max_minutes=240),
        # UV lamp 60 min, never on people.
        m.UV_LAMP: MethodLimits(min_minutes=60, max_minutes=120),
        # Tableware: boil 15 min or steam 10 min.
        m.BOILING: MethodLimits(min_minutes=15, max_minutes=120),
        m.STEAMING: MethodLimits(min_minutes=10, max_minutes=120),
        # Towels: 250–400 mg/L available chlorine for 20 min.
        m.CHLORINE: MethodLimits(
            min_minutes=20, max_minutes=120, min_mg_per_l=250, max_mg_per_l=400
        ),
        # Towels: sun at least 6 h.
        m.SUN: MethodLimits(min_minutes=360, max_minutes=720),
    }


class KitchenPolicy(BaseModel):
    """Food samples (留样) and menu planning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_min_grams: int = Field(
        125, ge=1, le=2000, description="Least weight of one dish's sample, in grams."
    )
    sample_max_grams: int = Field(
        2000, ge=1, le=10000, description="Heaviest plausible sample, in grams."
    )
    sample_keep_hours: int = Field(
        48, ge=1, le=720, description="Hours a sample is kept before it may be discarded."
    )
    backdate_without_reason_minutes: int = Field(
        30, ge=0, le=240, description="Minutes a log may lie in the past without a reason."
    )


class HygienePolicy(BaseModel):
    """Disinfection: each method's limits, sane bounds and when a task is overdue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    methods: dict[DisinfectionMethod, MethodLimits] = Field(default_factory=_default_method_limits)
    refuse_out_of_limits: bool = Field(
        True,
        description="Refuse a log outside its method's limits; otherwise store it flagged.",
    )
    overdue_grace_minutes: int = Field(
        0, ge=0, le=240, description="Minutes after the day's closing before a task is overdue."
    )
    sane_max_minutes: int = Field(
        1440, ge=60, le=10080, description="Longest duration accepted at all, in minutes."
    )
    sane_max_mg_per_l: int = Field(
        10000, ge=100, le=100000, description="Highest concentration accepted at all, mg/L."
    )
    backdate_without_reason_minutes: int = Field(
        30, ge=0, le=240, description="Minutes a log may lie in the past without a reason."
    )

    def limits(self, method: DisinfectionMethod | str) -> MethodLimits:
        """The limits of one method."""
        return self.methods[DisinfectionMethod(method)]


class ClusterRule(BaseModel):
    """A reporting threshold: ``cases`` of one syndrome within ``days`` days in one scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable name of the rule, shown in alerts.")
    scope: str = Field(pattern="^(class|facility)$", description="Counted per class or facility.")
    syndromes: list[str] = Field(description="Syndromes counted together ('*' for any).")
    cases: int = Field(ge=1, le=1000, description="Cases that make a cluster.")
    days: int = Field(ge=1, le=31, description="Consecutive days the cases fall within.")
    report_within_hours: int = Field(ge=0, le=168, description="Reporting deadline.")


def _default_cluster_rules() -> list[ClusterRule]:
    # 托幼机构传染病报告规范 (policy digest, "Child health").
    similar = [
        "fever",
        "fever_respiratory",
        "influenza_like",
        "gastrointestinal",
        "rash",
        "red_eyes",
    ]
    return [
        ClusterRule(id="class_same_day", scope="class", syndromes=similar, cases=3, days=1,
                    report_within_hours=24),
        ClusterRule(id="class_three_days", scope="class", syndromes=similar, cases=5, days=3,
                    report_within_hours=24),
        ClusterRule(id="hfmd_class_week", scope="class", syndromes=["hfmd"], cases=2, days=7,
                    report_within_hours=24),
        ClusterRule(id="ili_facility_week", scope="facility", syndromes=["influenza_like"],
                    cases=10, days=7, report_within_hours=24),
    ]  # fmt: skip


class HealthPolicy(BaseModel):
    """Children's daily checks, illness follow-up and cluster reporting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_temperature_c: float = Field(34.0, description="Lowest temperature accepted as real.")
    max_temperature_c: float = Field(43.0, description="Highest temperature accepted as real.")
    fever_c: float = Field(37.3, description="A temperature at or above this is a fever.")
    ili_fever_c: float = Field(
        38.0, description="Influenza-like illness: at least this, with cough or sore throat."
    )
    morning_check_due: time = Field(
        time(10, 0), description="Local time by which every present child has a morning check."
    )
    followup_within_days: int = Field(
        1, ge=0, le=14, description="Days an illness absence may wait for its follow-up."
    )
    cluster_rules: list[ClusterRule] = Field(default_factory=_default_cluster_rules)
    notifiable_report_within_hours: int = Field(
        2, ge=0, le=24, description="Deadline for reporting a notifiable disease case."
    )
    case_lookback_days: int = Field(
        7, ge=1, le=31, description="Days of illness cases the cluster check looks at."
    )


class LoginPolicy(BaseModel):
    """Login throttling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_failures: int = Field(5, ge=1, le=100, description="Failed logins allowed per window.")
    window_minutes: int = Field(15, ge=1, le=1440, description="Throttle window length.")


def _shares(older: str, toddler: str, infant: str) -> dict[ClassType, Decimal]:
    return {
        ClassType.INFANT: Decimal(infant),
        ClassType.TODDLER: Decimal(toddler),
        ClassType.OLDER: Decimal(older),
        ClassType.MIXED: Decimal(older),
    }


Share = Decimal


class FeePolicy(BaseModel):
    """Fee caps of a certified affordable (普惠) facility (000 §13; 004 四(二))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_capita_disposable_income: Decimal | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Last year's per-capita disposable income of the locality, 元 a year; "
        "the seeds give no figure, so every locality must set it before caps apply.",
    )
    income_year: int | None = Field(None, ge=2000, le=2100, description="Year of that figure.")
    full_day_shares: dict[ClassType, Share] = Field(
        default_factory=lambda: _shares("0.45", "0.52", "0.60"),
        description="Monthly full-day cap as a share of the monthly income, by class type.",
    )
    state_collective_shares: dict[ClassType, Share] = Field(
        default_factory=lambda: _shares("0.40", "0.50", "0.60"),
        description="The same shares for facilities run on state or collective assets.",
    )
    half_day_max_share: Share = Field(
        Decimal("0.70"), gt=0, le=1, description="Half-day fee at most this share of full-day."
    )
    hourly_max_share: Share = Field(
        Decimal("0.30"), gt=0, le=1, description="Hourly fee at most this share of a day's fee."
    )
    temporary_max_share: Share = Field(
        Decimal("1.00"),
        gt=0,
        le=2,
        description="Temporary care per day at most this share of a day's full-day fee "
        "(the seeds set no cap; one day's full-day fee is the documented default).",
    )
    days_per_month: Decimal = Field(
        Decimal("21.75"),
        gt=0,
        le=31,
        description="Divisor converting a monthly fee to a day (21.75 statutory working days).",
    )
    max_months_per_charge: int = Field(
        3, ge=1, le=12, description="Longest period a single charge may cover, in months."
    )


class SubsidyBasis(enum.StrEnum):
    """What the monthly subsidy rate depends on."""

    GRADE = "grade"
    AGE_BAND = "age_band"


class AgeBand(BaseModel):
    """A monthly subsidy rate for children aged [min, max) whole months."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_age_months: int = Field(ge=0, le=72)
    max_age_months: int = Field(ge=1, le=72)
    rate: Decimal = Field(ge=0, le=100_000)


class SubsidyRule(BaseModel):
    """One version of a locality's subsidy rule: rates, eligibility and proration.

    Default proration (the seeds give no formula): attended units count 1 for a
    full-day day and ``half_day_weight`` for a half-day day; a child with fewer attended
    days than ``min_attended_days`` gets nothing; otherwise the amount is the rate times
    attended units ÷ the month's service days, capped at 1, and the full rate from
    ``full_rate_from_share`` of the service days on. Rounded to the fen, half up, once
    per child and month.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: SubsidyBasis = SubsidyBasis.GRADE
    grade_rates: dict[str, Annotated[Decimal, Field(ge=0, le=100_000)]] = Field(
        default_factory=lambda: {
            "demonstration": Decimal("900"),
            "level1": Decimal("900"),
            "level2": Decimal("700"),
            "level3": Decimal("500"),
            "ungraded": Decimal("0"),
        },
        description="Monthly rate per child by facility grade, 元.",
    )
    age_bands: list[AgeBand] = Field(
        default_factory=lambda: [
            AgeBand(min_age_months=0, max_age_months=12, rate=Decimal("600")),
            AgeBand(min_age_months=12, max_age_months=24, rate=Decimal("400")),
            AgeBand(min_age_months=24, max_age_months=36, rate=Decimal("200")),
        ],
        description="Monthly rate by the child's age on the first of the month.",
    )
    puhui_facility_only: bool = Field(True, description="Only certified 普惠 facilities claim.")
    puhui_place_only: bool = Field(True, description="Only children on a 普惠 place count.")
    eligible_care_types: list[str] = Field(
        ["full_day", "half_day"], description="Care types that earn the subsidy."
    )
    min_attended_days: int = Field(
        5, ge=0, le=31, description="Fewer attended days than this earn nothing that month."
    )
    full_rate_from_share: Decimal = Field(
        Decimal("1"), gt=0, le=1, description="Attendance share of service days paid in full."
    )
    half_day_weight: Decimal = Field(
        Decimal("0.5"), ge=0, le=1, description="A half-day day counts as this many days."
    )

    @model_validator(mode="after")
    def _bands(self) -> SubsidyRule:
        bands = sorted(self.age_bands, key=lambda b: b.min_age_months)
        for band in bands:
            if band.min_age_months >= band.max_age_months:
                raise ValueError("an age band must end after it starts")
        for a, b in itertools.pairwise(bands):
            if b.min_age_months < a.max_age_months:
                raise ValueError("age bands overlap")
        return self


class SettlementPolicy(BaseModel):
    """Subsidy settlement: the rule used where a profile has no version in force."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_rule: SubsidyRule = Field(default_factory=SubsidyRule)
    default_effective_from: date = Field(
        date(2000, 1, 1), description="Start of the built-in default rule."
    )
    low_attendance_share: Decimal = Field(
        Decimal("0.8"),
        ge=0,
        le=1,
        description="The forecast marks a child projected to earn less than this share "
        "of the full rate.",
    )


class VaccineDose(BaseModel):
    """One dose of the national immunisation schedule (国家免疫规划) for ages 0–3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vaccine: str = Field(min_length=1, max_length=20, description="Vaccine code, e.g. HepB.")
    name: str = Field(min_length=1, max_length=40, description="Name shown (Chinese).")
    dose: int = Field(ge=1, le=9, description="Dose number of this vaccine.")
    due_months: int = Field(ge=0, le=72, description="Age in whole months the dose is due.")
    grace_days: int = Field(
        30, ge=0, le=365, description="Days after the due age before the dose is overdue."
    )


def _dose(vaccine: str, name: str, dose: int, due_months: int) -> VaccineDose:
    return VaccineDose(vaccine=vaccine, name=name, dose=dose, due_months=due_months)


def _default_vaccine_schedule() -> list[VaccineDose]:
    # 国家免疫规划疫苗儿童免疫程序 (2021), the doses due before the fourth birthday.
    return [
        _dose("HepB", "乙肝疫苗", 1, 0),
        _dose("HepB", "乙肝疫苗", 2, 1),
        _dose("HepB", "乙肝疫苗", 3, 6),
        _dose("BCG", "卡介苗", 1, 0),
        _dose("IPV", "脊灰灭活疫苗", 1, 2),
        _dose("IPV", "脊灰灭活疫苗", 2, 3),
        _dose("bOPV", "脊灰减毒活疫苗", 1, 4),
        _dose("DTaP", "百白破疫苗", 1, 3),
        _dose("DTaP", "百白破疫苗", 2, 4),
        _dose("DTaP", "百白破疫苗", 3, 5),
        _dose("DTaP", "百白破疫苗", 4, 18),
        _dose("MMR", "麻腮风疫苗", 1, 8),
        _dose("MMR", "麻腮风疫苗", 2, 18),
        _dose("JE-L", "乙脑减毒活疫苗", 1, 8),
        _dose("JE-L", "乙脑减毒活疫苗", 2, 24),
        _dose("MPSV-A", "A群流脑多糖疫苗", 1, 6),
        _dose("MPSV-A", "A群流脑多糖疫苗", 2, 9),
        _dose("MPSV-AC", "A群C群流脑多糖疫苗", 1, 36),
        _dose("HepA-L", "甲肝减毒活疫苗", 1, 18),
    ]


class AdmissionPolicy(BaseModel):
    """A child's admission exam, vaccinations, return after a long absence, routine exams."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admission_exam_max_age_months: int = Field(
        3,
        ge=1,
        le=24,
        description="The admission exam may be at most this many months older than the first "
        "day (an exam exactly this many months before still counts).",
    )
    return_exam_after_days: int = Field(
        90,
        ge=1,
        le=730,
        description="Days between the last day present and the return (3 months) from which "
        "a new exam is needed, taken after the absence began.",
    )
    routine_exam_from_months: int = Field(12, ge=0, le=72, description="Routine exams from age.")
    routine_exam_until_months: int = Field(
        36, ge=1, le=72, description="Age in months at which routine exams here stop."
    )
    routine_exam_interval_months: int = Field(
        6, ge=1, le=24, description="Months between routine exams (twice a year)."
    )
    vaccine_schedule: list[VaccineDose] = Field(default_factory=_default_vaccine_schedule)

    @model_validator(mode="after")
    def _unique_doses(self) -> AdmissionPolicy:
        keys = [(d.vaccine, d.dose) for d in self.vaccine_schedule]
        if len(keys) != len(set(keys)):
            raise ValueError("each vaccine dose appears once in the schedule")
        return self


class GrowthPolicy(BaseModel):
    """Children's growth: WHO 2006 z-score cut-offs, WHO's implausibility flags, input limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    underweight_waz: float = Field(-2.0, description="Weight-for-age below this: underweight.")
    stunting_haz: float = Field(-2.0, description="Length/height-for-age below this: stunted.")
    wasting_whz: float = Field(-2.0, description="Weight-for-length/height below this: wasted.")
    severe_z: float = Field(
        -3.0, description="Below this, underweight, stunting and wasting are severe."
    )
    overweight_whz: float = Field(
        2.0, description="Weight-for-length/height above this: overweight."
    )
    obese_whz: float = Field(3.0, description="Weight-for-length/height above this: obese.")
    waz_flag_low: float = Field(-6.0, description="WHO flag: weight-for-age below this.")
    waz_flag_high: float = Field(5.0, description="WHO flag: weight-for-age above this.")
    haz_flag: float = Field(6.0, description="WHO flag: length/height-for-age beyond ±this.")
    whz_flag_low: float = Field(-5.0, description="WHO flag: weight-for-length below this.")
    whz_flag_high: float = Field(5.0, description="WHO flag: weight-for-length above this.")
    min_weight_kg: Decimal = Field(Decimal("0.5"), gt=0, description="Lightest weight accepted.")
    max_weight_kg: Decimal = Field(Decimal("40"), gt=0, description="Heaviest weight accepted.")
    min_length_cm: Decimal = Field(Decimal("40"), gt=0, description="Shortest length accepted.")
    max_length_cm: Decimal = Field(Decimal("130"), gt=0, description="Tallest height accepted.")
    max_age_months: int = Field(
        60, ge=1, le=60, description="Oldest age measured; the WHO standards end at 5 years."
    )
    chart_months: int = Field(36, ge=12, le=60, description="Age span of the growth charts.")


class MedicationPolicy(BaseModel):
    """Medication given at the facility and incident reports to guardians."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dose_tolerance_minutes: int = Field(
        60, ge=0, le=240, description="Minutes around a scheduled time a dose counts for it."
    )
    incident_ack_within_hours: int = Field(
        24, ge=1, le=168, description="Hours a guardian may take to acknowledge an incident report."
    )


class Policy(BaseModel):
    """All policy values of one locality profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: dict[ClassType, ClassRule] = Field(default_factory=_default_class_rules)
    attendance: AttendancePolicy = Field(default_factory=AttendancePolicy)
    login: LoginPolicy = Field(default_factory=LoginPolicy)
    care: CarePolicy = Field(default_factory=CarePolicy)
    staff: StaffPolicy = Field(default_factory=StaffPolicy)
    health: HealthPolicy = Field(default_factory=HealthPolicy)
    kitchen: KitchenPolicy = Field(default_factory=KitchenPolicy)
    hygiene: HygienePolicy = Field(default_factory=HygienePolicy)
    fees: FeePolicy = Field(default_factory=FeePolicy)
    settlement: SettlementPolicy = Field(default_factory=SettlementPolicy)
    admission: AdmissionPolicy = Field(default_factory=AdmissionPolicy)
    growth: GrowthPolicy = Field(default_factory=GrowthPolicy)
    medication: MedicationPolicy = Field(default_factory=MedicationPolicy)
    default_opening: time = Field(time(7, 30), description="Default opening time.")
    default_closing: time = Field(time(17, 30), description="Default closing time.")

    def class_rule(self, class_type: ClassType | str) -> ClassRule:
        """The rule for a class type."""
        return self.classes[ClassType(class_type)]


DEFAULT_POLICY = Policy()


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` over ``base`` (dicts merge, anything else replaces)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_policy(overrides: dict[str, Any] | None) -> Policy:
    """Merge a profile's overrides over the defaults and validate the result."""
    if not overrides:
        return DEFAULT_POLICY
    return _load_cached(json.dumps(overrides, sort_keys=True))


@lru_cache(maxsize=64)
def _load_cached(overrides_json: str) -> Policy:
    # Policies are read on every check-in; validating once per distinct profile is enough.
    merged = merge(DEFAULT_POLICY.model_dump(mode="json"), json.loads(overrides_json))
    return Policy.model_validate(merged)
