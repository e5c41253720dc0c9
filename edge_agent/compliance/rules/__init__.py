"""The rule catalogue: every rule with the clause it comes from (see the policy digest).

Every rule of the design's catalogue has its check here. A rule for a module that an
installation leaves out can be declared as a :class:`~edge_agent.compliance.base.ProvidedRule`
instead: it reports ``unknown`` until a check is plugged in with
:func:`~edge_agent.compliance.base.register_provider`. A check whose records are missing
(no cameras registered, no staff, no meals recorded) reports ``unknown``, never ``pass``.
"""

from __future__ import annotations

from edge_agent.compliance.base import CheckRule, Rule
from edge_agent.compliance.rules import (
    admission,
    attendance,
    care,
    cctv,
    classes,
    fees,
    health,
    incidents,
    kitchen,
    staff,
)

_SETTING_STANDARD = "托育机构设置标准（试行）（2019）"
_MANAGEMENT_NORM = "托育机构管理规范（试行）（2019）"
_HEALTH_NORM = "托儿所幼儿园卫生保健工作规范（2012）"
_CCTV = "温州鹿城区方案（2020）§22；吴江区意见（2021）五（一）"

CATALOGUE: tuple[Rule, ...] = (
    CheckRule(
        "cctv.coverage",
        f"{_CCTV}；{_MANAGEMENT_NORM}",
        "Every required zone has a healthy camera",
        cctv.coverage,
    ),
    CheckRule("cctv.health", _CCTV, "Every camera online with a sound image", cctv.health),
    CheckRule(
        "cctv.retention",
        f"{_CCTV}；WS/T 821-2023",
        "Continuous recordings for the retention period",
        cctv.retention,
    ),
    CheckRule(
        "cctv.retention_forecast",
        f"{_CCTV}；WS/T 821-2023",
        "Storage holds the retention period at the measured write rate",
        cctv.retention_forecast,
    ),
    CheckRule(
        "staff.certified",
        "鹿城区方案（2020）；上虞区意见（2023—2027）；无锡“十四五”规划 表1（持证上岗）",
        "Caregivers work with a valid certificate",
        staff.certified,
    ),
    CheckRule(
        "staff.health_exam",
        "淄博意见（2021）§12；吴江区意见（2021）五（一）",
        "Staff health exam before starting work and yearly",
        staff.health_exam,
    ),
    CheckRule(
        "staff.training_hours",
        "无锡“十四五”规划 专栏3",
        "Yearly training hours reached",
        staff.training_hours,
    ),
    CheckRule(
        "staff.ban_list",
        "上虞区意见 §17；鹿城区方案 §25；吴江区意见 五（二）",
        "Nobody on the ban list works here",
        staff.ban_list,
    ),
    CheckRule(
        "class.size", _SETTING_STANDARD, "Children per class within the limit", classes.class_size
    ),
    CheckRule(
        "class.ratio",
        _SETTING_STANDARD,
        "Present children per caregiver on duty within the ratio",
        classes.class_ratio,
    ),
    CheckRule(
        "attendance.complete",
        _MANAGEMENT_NORM,
        "Every check-in closed",
        attendance.attendance_complete,
    ),
    CheckRule(
        "attendance.pickup",
        _MANAGEMENT_NORM,
        "Pick-up by an authorised person",
        attendance.attendance_pickup,
    ),
    CheckRule(
        "health.morning_check",
        f"{_HEALTH_NORM} 晨午检",
        "Every present child checked",
        health.morning_check,
    ),
    CheckRule(
        "health.absence_followup",
        f"{_HEALTH_NORM} 因病缺勤追踪",
        "Every illness absence followed up",
        health.absence_followup,
    ),
    CheckRule(
        "health.cluster",
        "托幼机构传染病报告规范",
        "No unreported illness cluster",
        health.cluster,
    ),
    CheckRule(
        "health.admission",
        f"{_HEALTH_NORM} 入园（所）健康检查",
        "Present children have an admission exam and their vaccinations",
        admission.admission,
    ),
    CheckRule(
        "health.incidents",
        f"{_MANAGEMENT_NORM} 伤害处理",
        "Every incident report acknowledged by a guardian in time",
        incidents.incidents,
    ),
    CheckRule(
        "food.sample_retention",
        "学校食品安全与营养健康管理规定（留样）",
        "Every dish sampled and kept",
        kitchen.sample_retention,
    ),
    CheckRule(
        "food.allergen", _HEALTH_NORM, "No child served a recorded allergen", kitchen.allergen
    ),
    CheckRule(
        "hygiene.disinfection", _HEALTH_NORM, "Scheduled disinfection done", kitchen.disinfection
    ),
    CheckRule(
        "care.sleep_checks",
        "北京市地方标准（2024）午睡巡视",
        "Sleeping children checked on time",
        care.sleep_checks,
    ),
    CheckRule(
        "care.outdoor_time",
        f"{_HEALTH_NORM} 户外活动",
        "Daily outdoor minimum reachable",
        care.outdoor_time,
    ),
    CheckRule(
        "fees.cap",
        "上虞区意见（2023—2027）§13；吴江区意见（2021）四（二）",
        "普惠 fees within caps",
        fees.fee_cap,
    ),
)


def rule(rule_id: str) -> Rule:
    """A rule of the catalogue by id."""
    for r in CATALOGUE:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)
