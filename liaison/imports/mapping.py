"""Which column of a file goes into which field: the targets, and headers recognised in Chinese
and English (the contacts export's own headers in every interface language included)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

IGNORE = ""


@dataclass(frozen=True)
class Target:
    key: str
    label: object
    max_length: int | None = None


CONTACT_TARGETS = (
    Target("name", _l("Name"), 200),
    Target("name_zh", _l("Chinese name"), 200),
    Target("name_original", _l("Name in original script"), 200),
    Target("kind", _l("Kind")),
    Target("organisation", _l("Organisation"), 200),
    Target("position", _l("Position"), 200),
    Target("field", _l("Field"), 200),
    Target("country", _l("Country")),
    Target("city", _l("City"), 120),
    Target("email", _l("E-mail"), 254),
    Target("phone", _l("Phone"), 40),
    Target("messaging", _l("Messaging handle"), 200),
    Target("languages", _l("Languages"), None),
    Target("tags", _l("Tags"), None),
    Target("notes", _l("Notes"), 5000),
    Target("consent_basis", _l("Lawful basis (keeping in touch)")),
    Target("consent_given_on", _l("Basis given on")),
)
# A lead's columns (import type "leads": each row is a contact and a lead about it).
LEAD_TARGETS = (
    Target("lead_category", _l("Lead: category")),
    Target("lead_field", _l("Lead: field"), 200),
    Target("lead_summary", _l("Lead: summary"), 4000),
    Target("lead_wants", _l("Lead: what the person wants"), 4000),
    Target("lead_offer", _l("Lead: what we can offer"), 4000),
    Target("lead_priority", _l("Lead: priority")),
)
TARGETS = {target.key: target for target in CONTACT_TARGETS + LEAD_TARGETS}
# The lead form's own labels (in every interface language) as headers of a leads file.
LEAD_FORM_LABELS = ((_l("Category"), "lead_category"), (_l("Summary"), "lead_summary"),
                    (_l("What the person wants"), "lead_wants"), (_l("What we can offer"), "lead_offer"),
                    (_l("Priority"), "lead_priority"))

# Header words (folded: lower case, no spaces or punctuation) -> target.
SYNONYMS = {
    "name": ["name", "fullname", "姓名", "名字", "联系人", "姓名拼音", "英文名", "englishname", "nameinlatinletters"],
    "name_zh": ["chinesename", "namezh", "中文名", "中文姓名", "中文名字", "汉字姓名"],
    "name_original": ["nameinoriginalscript", "originalname", "原文姓名", "原文名", "本地名", "localname"],
    "kind": ["kind", "type", "类型", "类别", "对象类型"],
    "organisation": ["organisation", "organization", "org", "company", "employer", "institution", "university",
                     "单位", "工作单位", "机构", "公司", "学校", "所在单位", "就读学校"],
    "position": ["position", "title", "jobtitle", "role", "职务", "职位", "职称", "岗位"],
    "field": ["field", "discipline", "major", "speciality", "specialty", "expertise", "领域", "专业", "研究方向",
              "专业领域", "研究领域"],
    "country": ["country", "国家", "国别", "所在国", "所在国家", "国家地区"],
    "city": ["city", "城市", "所在城市"],
    "email": ["email", "emailaddress", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件"],
    "phone": ["phone", "telephone", "tel", "mobile", "cell", "phonenumber", "电话", "手机", "手机号", "手机号码",
              "联系电话", "电话号码"],
    "messaging": ["messaging", "messaginghandle", "wechat", "weixin", "whatsapp", "line", "zalo", "微信", "微信号"],
    "languages": ["languages", "language", "语言", "语种", "掌握语言"],
    "tags": ["tags", "tag", "labels", "标签"],
    "notes": ["notes", "note", "remarks", "comments", "备注", "说明"],
    "consent_basis": ["lawfulbasis", "consent", "法律依据", "同意"],
    "consent_given_on": ["basisgivenon", "consentdate", "同意日期"],
    "lead_category": ["category", "leadcategory", "leadtype", "线索类别", "线索类型", "人才类别", "需求类别", "合作类别"],
    "lead_field": ["leadfield", "线索领域", "对接领域", "合作领域"],
    "lead_summary": ["summary", "leadsummary", "description", "摘要", "线索摘要", "简介", "情况简介", "基本情况",
                     "线索简介"],
    "lead_wants": ["wants", "whatthepersonwants", "needs", "诉求", "需求", "意向", "个人诉求", "本人意向"],
    "lead_offer": ["offer", "whatwecanoffer", "可提供", "我方可提供", "可提供支持", "对接资源"],
    "lead_priority": ["priority", "leadpriority", "优先级", "紧急程度"],
}


def fold(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", (text or "").casefold())


def _export_headers() -> dict[str, str]:
    """The contacts export's headers in every interface language -> target (round trip)."""
    from flask import current_app

    from .. import plugins

    found: dict[str, str] = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for _plugin, column in plugins.export_columns("contacts"):
                if column.key in TARGETS:
                    found[fold(str(column.header))] = column.key
            for target in CONTACT_TARGETS + LEAD_TARGETS:
                found.setdefault(fold(str(target.label)), target.key)
            for label, key in LEAD_FORM_LABELS:
                found.setdefault(fold(str(label)), key)
    return found


def recognise(header: str, known: dict[str, str] | None = None) -> str:
    folded = fold(header)
    if not folded:
        return IGNORE
    if known and folded in known:
        return known[folded]
    for key, words in SYNONYMS.items():
        if folded in words:
            return key
    return _export_headers().get(folded, IGNORE)


def guess(header: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """Column index (as text) -> target: the station's last mapping for headers it knows, else
    the recognised words; a target is given to one column only."""
    exports = _export_headers()
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for index, text in enumerate(header):
        folded = fold(text)
        target = (remembered or {}).get(folded)
        if target is None:
            target = next((key for key, words in SYNONYMS.items() if folded in words), None) or exports.get(folded, IGNORE)
        if target and target in taken:
            target = IGNORE
        if target:
            taken.add(target)
        mapping[str(index)] = target
    return mapping


def remembered_form(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping keyed by folded header text, as it is remembered for the station's next file."""
    return {fold(text): mapping.get(str(index), IGNORE) for index, text in enumerate(header) if fold(text)}
