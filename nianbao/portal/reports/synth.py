"""Synthetic report content: seeded numbers that satisfy every hard rule, narrative that quotes them."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from .model import Content, Section, Style, T2Block, t3_keys

CN_NUM = "一二三四五六七八九十"

# relative frequency of each outcome row (keys of templates.json)
LEAF_WEIGHTS = {
    "r1_open": 34, "r2_partial": 6, "r3_state_secret": 0.3, "r3_other_law_prohibits": 1.2,
    "r3_three_security_one_stability": 0.3, "r3_third_party_rights": 1.2, "r3_internal_affairs": 1.0,
    "r3_process_info": 1.5, "r3_enforcement_case_file": 1.2, "r3_admin_query_matter": 0.8,
    "r4_not_held": 26, "r4_needs_creation": 3, "r4_unclear_after_correction": 1.5,
    "r5_petition_complaint": 4, "r5_repeat": 3, "r5_publication": 0.4, "r5_massive_repeated": 0.8,
    "r5_confirm_or_reissue": 0.8, "r6_other": 4, "r6_overdue_correction": 3, "r6_overdue_fee": 0.3,
}
# (natural person mean, share of each organisation column) by kind of agency
SCALE = {"gov": (900, 0.05), "office": (90, 0.04), "dept": (40, 0.08), "street": (10, 0.03)}


@dataclass(frozen=True)
class Synth:
    """What the generator needs to know about one report."""

    key: str
    agency: str
    short: str            # how the report refers to its agency (区发展改革委, 本街道 ...)
    region: str           # 北京市西城区
    kind: str             # "gov" | "office" | "dept" | "street"
    year: int
    template: str
    title: str
    published: str        # ISO date for the closing line
    style: Style
    carry_in: tuple[int, ...] | None = None    # 6 applicant columns carried from last year
    carry_out: tuple[int, ...] | None = None   # force 四、结转下年度 (6 columns)
    prose_key: str | None = None               # whose wording the prose takes (default: its own key)
    plain_prose: bool = False                  # the first phrase of every choice (the wording before it varied)
    t3_sum: dict[str, list[int]] | None = None  # table 三 given (6 columns per row): a 本级 report adding up its agencies
    t4_sum: tuple[int, ...] | None = None      # table 四 given (15 numbers)
    t2_prev: dict[str, int] | None = None      # what table 二 carries over from last year (gen_t2)


def rng_for(key: str) -> random.Random:
    return random.Random(zlib.crc32(key.encode("utf-8")))


def gen_t3(rng: random.Random, template: str, kind: str, carry_in: tuple[int, ...] | None,
           carry_out: tuple[int, ...] | None) -> dict[str, list[int]]:
    """Table 三 by row key, 6 applicant columns each; totals are added later."""
    keys = t3_keys(template)
    leaves = [k for k in keys if k in LEAF_WEIGHTS]
    mean, org_share = SCALE[kind]
    natural = max(0, int(rng.gauss(mean, mean * 0.35)))
    new = [natural] + [int(natural * org_share * rng.random() * (1.6 if c == 0 else 0.3)) for c in range(5)]
    if rng.random() < 0.5:
        new[1:] = [0, 0, 0, 0, 0] if kind == "street" else new[1:]
    cin = list(carry_in) if carry_in is not None else [int(x * rng.uniform(0, 0.05)) for x in new]
    avail = [a + b for a, b in zip(new, cin, strict=True)]
    if carry_out is not None:
        cout = list(carry_out)
        new = [max(n, o - i) for n, o, i in zip(new, cout, cin, strict=True)]
        avail = [a + b for a, b in zip(new, cin, strict=True)]
    else:
        cout = [int(a * rng.uniform(0, 0.06)) for a in avail]
    rows: dict[str, list[int]] = {k: [0] * 6 for k in keys}
    rows["new_received"], rows["carried_in"], rows["carried_out"] = new, cin, cout
    weights = [LEAF_WEIGHTS[k] * rng.uniform(0.5, 1.5) for k in leaves]
    for c in range(6):
        handled = avail[c] - cout[c]
        for k in rng.choices(leaves, weights=weights, k=handled):
            rows[k][c] += 1
    rows["r7_total"] = [sum(rows[k][c] for k in leaves) for c in range(6)]
    return rows


def gen_t4(rng: random.Random, kind: str, received: int) -> list[int]:
    def group(n: int) -> list[int]:
        parts = [0, 0, 0, 0]
        for i in rng.choices(range(4), weights=[6, 1, 1.5, 2], k=n):
            parts[i] += 1
        return parts + [n]
    rv = int(received * rng.uniform(0, 0.08)) if received else 0
    ld = int(received * rng.uniform(0, 0.03)) if received else 0
    lr = rng.randint(0, max(0, rv // 3))
    return group(rv) + group(ld) + group(lr)


def signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def gen_t2(rng: random.Random, template: str, kind: str, prev: dict[str, int] | None = None
           ) -> tuple[T2Block, ...]:
    """Table 二. With `prev` (row label -> last year's 现行有效件数, or 上一年项目数量 + 本年增/减), the counts that carry
    over continue it (X-R9, X-R10); the same numbers are drawn either way."""
    big = kind == "gov"
    if template == "2021":
        issued = rng.randint(0, 30 if big else 4)
        repealed = rng.randint(0, issued + 2)
        in_force = issued + rng.randint(repealed, 200 if big else 20)
        if prev is not None and "行政规范性文件" in prev:
            repealed = min(repealed, prev["行政规范性文件"] + issued)
            in_force = prev["行政规范性文件"] + issued - repealed
        fee = "0" if rng.random() < 0.5 else f"{rng.uniform(0.5, 9000 if big else 300):.{rng.choice([2, 4, 6])}f}"
        return (
            T2Block("第二十条第（一）项", ("本年制发件数", "本年废止件数", "现行有效件数"),
                    (("规章", None, ("0", "0", "0")),
                     ("行政规范性文件", None, (str(issued), str(repealed), str(in_force))))),
            T2Block("第二十条第（五）项", ("本年处理决定数量",),
                    (("行政许可", None, (str(rng.randint(0, 30000 if big else 3000)),)),)),
            T2Block("第二十条第（六）项", ("本年处理决定数量",),
                    (("行政处罚", None, (str(rng.randint(0, 20000 if big else 800)),)),
                     ("行政强制", None, (str(rng.randint(0, 900 if big else 40)),)))),
            T2Block("第二十条第（八）项", ("本年收费金额（单位：万元）",), (("行政事业性收费", None, (fee,)),)),
        )
    made = rng.randint(0, 25 if big else 5)
    total = made + rng.randint(0, 150 if big else 30)

    def items(hi: int, label: str) -> tuple[str, str, str]:
        before = rng.randint(0, hi)
        delta, decisions = rng.randint(-min(before, hi // 5), hi // 5), rng.randint(0, hi * 40)
        if prev is not None and label in prev:
            before = prev[label]
            delta = max(delta, -before)
        return (str(before), signed(delta), str(decisions))
    amount_style = rng.randrange(3)
    items_n = rng.randint(0, 60 if big else 12)
    wan = rng.uniform(1, 50000 if big else 800)
    if amount_style == 0:
        head, amount = "采购总金额（万元，保留四位小数）", f"{wan:.4f}"
    elif amount_style == 1:
        head, amount = "采购总金额", f"{int(wan * 10000)}元"
    else:
        head, amount = "采购总金额", f"{wan:.4f}"
    fee_prev = rng.randint(0, 40 if big else 6)
    art5 = (("行政许可", None, items(300 if big else 40, "行政许可")),
            ("其他对外管理服务事项", None, items(200 if big else 20, "其他对外管理服务事项")))
    art6 = (("行政处罚", None, items(3000 if big else 200, "行政处罚")), ("行政强制", None, items(90 if big else 10, "行政强制")))
    fee_delta = rng.randint(-fee_prev, 3)   # drawn in this order: the same numbers as before `prev` existed
    if prev is not None and "行政事业性收费" in prev:
        fee_prev = prev["行政事业性收费"]
        fee_delta = max(fee_delta, -fee_prev)
    return (
        T2Block("第二十条第（一）项", ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
                (("规章", None, ("0", "0", "0")), ("规范性文件", None, (str(made), str(made), str(total))))),
        T2Block("第二十条第（五）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
                art5),
        T2Block("第二十条第（六）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
                art6),
        T2Block("第二十条第（八）项", ("上一年项目数量", "本年增/减"),
                (("行政事业性收费", None, (str(fee_prev), signed(fee_delta))),)),
        T2Block("第二十条第（九）项", ("采购项目数量", head), (("政府集中采购", None, (str(items_n), amount)),)),
    )


HEADINGS = {
    "一": ("一、总体情况", "一、 总体情况", "一.总体情况"),
    "二": ("二、主动公开政府信息情况", "二、主动公开政府信息情况", "二.主动公开政府信息情况"),
    "三": ("三、收到和处理政府信息公开申请情况",) * 2 + ("三.收到和处理政府信息公开申请情况",),
    "四": ("四、政府信息公开行政复议、行政诉讼情况", "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况",
          "四.政府信息公开行政复议、行政诉讼情况"),
    "五": ("五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况", "五.存在的主要问题及改进情况"),
    "六": ("六、其他需要报告的事项", "六、其他需要报告的事项", "六.其他需要报告的事项"),
}


def _cn_date(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{y}年{m}月{d}日"


# Wording of the prose: each report draws its phrases (its own seed, or `prose_key`'s: a report repeating an
# earlier one's text), so that two reports share a phrase by chance only, as real reports of one district do.
P_GUIDE = ("坚持以习近平新时代中国特色社会主义思想为指导，", "深入学习贯彻党的二十大精神，", "在上级机关的坚强领导下，",
           "按照上级政务公开工作部署，", "紧紧围绕法治政府建设目标，")
P_WHAT = ("认真贯彻落实《中华人民共和国政府信息公开条例》，", "严格执行政府信息公开各项制度规定，",
          "全面推进决策、执行、管理、服务、结果公开，", "持续深化政务公开标准化规范化建设，",
          "把政务公开作为转变政府职能的重要抓手，")
P_GOAL = ("围绕{region}中心工作，扎实做好政府信息公开各项工作。", "以公开促落实、以公开强监管、以公开优服务，政务公开质效稳步提升。",
          "进一步保障人民群众的知情权、参与权、表达权和监督权。", "不断增强政府工作透明度，提升政府公信力和执行力。",
          "推动政务公开工作迈上新台阶，服务{region}经济社会发展大局。")
P_ACTIVE = ("（一）主动公开。全年通过政府门户网站主动公开政府信息{pub}条，发布政策解读{jd}篇，",
            "（一）主动公开。{y}年累计主动公开各类政府信息{pub}条，其中政策解读{jd}篇，",
            "（一）主动公开。全年共发布政府信息{pub}条、解读材料{jd}篇，")
P_ACTIVE_MORE = ("及时公开机构职能、规划计划、财政预决算等法定主动公开内容。", "重点做好重大决策、民生实事和惠企政策的发布与解读。",
                 "围绕群众关切，主动回应社会热点问题。", "采用图文、视频等多种形式解读重要政策文件。",
                 "对涉及公众利益的重要事项及时发布信息、释放权威声音。")
P_MANAGE = ("严格执行信息发布审查和保密审查制度，", "落实政府信息公开属性源头认定机制，", "建立健全政府信息发布协调机制，",
            "规范政府信息公开工作流程，", "加强公文类信息公开前的合法性审查，")
P_MANAGE_MORE = ("动态更新政府信息公开指南和主动公开目录，及时清理失效、废止文件。", "定期开展已公开信息的自查整改，确保信息准确一致。",
                 "对规范性文件实行统一登记、统一编号、统一发布。", "做好历史信息的归档和管理，方便公众查阅。",
                 "建立政府信息公开台账，实行动态管理。")
P_PLATFORM = ("依托政府门户网站政府信息公开专栏，规范设置法定主动公开内容栏目，", "优化政府网站栏目设置和检索功能，",
              "推进政务新媒体与门户网站协同联动，", "完善政务服务大厅政务公开专区功能，", "持续做好政府公报的编印和发放，")
P_PLATFORM_MORE = ("加强政务新媒体管理，提升平台服务能力。", "提升平台的集约化和便民化水平。", "确保各类平台信息发布及时、准确、权威。",
                   "拓宽群众获取政府信息的渠道。", "进一步增强平台的互动交流功能。")
P_SUPERVISE = ("将政务公开工作纳入年度绩效考核，", "明确政务公开工作分管领导和工作人员，", "建立政务公开工作年度考核评议制度，",
               "加强对政务公开工作的日常监督检查，", "主动接受社会评议和群众监督，")
P_SUPERVISE_MORE = ("全年未发生责任追究情况。", "不断提升工作人员业务能力。", "确保各项工作任务落到实处。",
                    "形成一级抓一级、层层抓落实的工作格局。", "工作机制进一步健全。")
P_PROBLEM_INTRO = ("政府信息公开工作取得一定成效，但仍存在一些不足：", "政务公开工作虽取得了一定成绩，但与公众期待相比仍有差距：",
                   "对照上级要求，政务公开工作还存在以下问题：")
P_PROBLEMS = ("政策解读形式还不够丰富", "依申请公开答复规范化水平有待提高", "主动公开的深度和广度有待拓展",
              "政务新媒体更新频率不够稳定", "工作人员业务能力有待进一步提升", "公众参与渠道还不够畅通",
              "基层政务公开标准化建设推进不平衡")
P_MEASURES = ("进一步丰富政策解读形式", "加强业务培训和案例研究", "持续提升依申请公开答复质量", "拓展主动公开的范围和深度",
              "加强政务新媒体日常管理", "健全公众参与和回应机制", "推进基层政务公开标准化规范化")
P_FEE_2021 = ("本年度未收取政府信息公开信息处理费。", "全年未发生收取信息处理费的情况。", "本年度无收取信息处理费情况。")
P_FEE_2019 = ("{y}年度未收取依申请公开政府信息相关费用。", "{y}年度未收取检索、复制、邮寄等费用。")
P_PERIOD = ("本报告所列数据统计期限为{y}年1月1日至{y}年12月31日。", "本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。")


P_OLD_INTRO = ("认真贯彻落实《中华人民共和国政府信息公开条例》和上级部署，", "按照上级关于政府信息公开工作的要求，",
               "以推进政府信息公开为抓手，", "坚持依法公开、真实公正、注重实效、有利监督的原则，",
               "紧密结合{region}实际，")
P_OLD_MECHANISM = ("进一步健全政府信息公开工作机制，明确专人负责，全年政府信息公开工作运行平稳。",
                   "不断完善政府信息公开制度体系，各项工作有序推进。", "加强组织领导和队伍建设，公开内容日益丰富。",
                   "扎实推进重点领域信息公开，群众满意度稳步提升。", "规范依申请公开办理流程，切实保障公众知情权。")
P_OLD_PARTS = ("本报告由概述、主动公开政府信息情况、依申请公开政府信息情况、政府信息公开咨询情况、"
               "因政府信息公开申请行政复议和提起行政诉讼情况、政府信息公开收费及减免情况、存在的主要问题及改进措施组成，",
               "本报告共分八个部分，", "现将本年度政府信息公开工作情况报告如下，")
P_OLD_PERIOD = ("所列数据统计期限自{y}年1月1日起至{y}年12月31日止。", "统计期限为{y}年1月1日至{y}年12月31日。")
P_OLD_FEE = ("未收取政府信息公开检索、复制、邮寄等费用。", "依申请提供政府信息未收取任何费用。", "无政府信息公开收费及减免情况。")


def narrative(rng: random.Random, s: Synth, t3: dict[str, list[int]], t4: list[int]) -> list[Section]:
    y, who = s.year, s.short
    new, cin = sum(t3["new_received"]), sum(t3["carried_in"])
    done, out = sum(t3["r7_total"]), sum(t3["carried_out"])
    opened = sum(t3["r1_open"]) + sum(t3["r2_partial"])
    rv, lit = t4[4], t4[9] + t4[14]
    pub = rng.randint(40, 4000 if s.kind == "gov" else 600)
    jd = rng.randint(2, 60 if s.kind == "gov" else 12)
    v = s.style.heading_variant
    apply_ = [
        f"{y}年，{who}共新收政府信息公开申请{new}件，上年结转{cin}件；全年办结{done}件，"
        f"其中予以公开和部分公开{opened}件，结转下年度继续办理{out}件。",
        f"{y}年，{who}收到政府信息公开申请{new}件（另有上年结转申请{cin}件），已答复办结{done}件，"
        f"结转下年度继续办理{out}件，均在法定期限内答复。",
    ][rng.randrange(2)]
    review = (f"全年发生因政府信息公开引起的行政复议{rv}件、行政诉讼{lit}件。" if rv or lit
              else "全年未发生因政府信息公开引起的行政复议和行政诉讼。")
    training = rng.randint(1, 6)
    words = rng_for("prose:" + (s.prose_key or s.key))

    def pick(options: tuple[str, ...]) -> str:
        return (options[0] if s.plain_prose else words.choice(options)).format(region=s.region, y=y, pub=pub, jd=jd)

    def sample(options: tuple[str, ...], k: int) -> list[str]:
        return list(options[:k]) if s.plain_prose else words.sample(options, k)

    one = [
        f"{y}年，{who}" + pick(P_GUIDE) + pick(P_WHAT) + pick(P_GOAL),
        pick(P_ACTIVE) + pick(P_ACTIVE_MORE),
        f"（二）依申请公开。{apply_}{review}",
        "（三）政府信息管理。" + pick(P_MANAGE) + pick(P_MANAGE_MORE),
        "（四）政府信息公开平台建设。" + pick(P_PLATFORM) + pick(P_PLATFORM_MORE),
        "（五）监督保障。" + pick(P_SUPERVISE) + f"开展业务培训{training}次，" + pick(P_SUPERVISE_MORE),
    ]
    problems = sample(P_PROBLEMS, 2)
    measures = sample(P_MEASURES, 3)
    five = [
        f"{y}年，{who}" + pick(P_PROBLEM_INTRO) + f"一是{problems[0]}；二是{problems[1]}。",
        "下一步，将" + "，".join(measures) + "。",
    ]
    fee = pick(P_FEE_2021 if s.template == "2021" else P_FEE_2019)
    six = [fee + pick(P_PERIOD)]
    return [
        Section(HEADINGS["一"][v], tuple(one)),
        Section(HEADINGS["二"][v], (), "t2"),
        Section(HEADINGS["三"][v], (), "t3"),
        Section(HEADINGS["四"][v], (), "t4"),
        Section(HEADINGS["五"][v], tuple(five)),
        Section(HEADINGS["六"][v], tuple(six)),
    ]


def display_t3(template: str, rows: dict[str, list[int]], style: Style) -> tuple[
        tuple[tuple[str, ...], ...], tuple[tuple[int, ...], ...]]:
    """Add 总计 and apply the blank-cell style; returns (display strings, true numbers)."""
    disp, vals = [], []
    for key in t3_keys(template):
        nums = rows[key] + [sum(rows[key])]
        vals.append(tuple(nums))
        cells = [str(n) for n in nums]
        if style.blank_zeros:
            cells = ["" if n == 0 else c for n, c in zip(nums, cells, strict=True)]
        leaf = key not in ("new_received", "carried_in", "r7_total", "carried_out")
        if style.blank_leaf_totals and leaf and sum(1 for n in nums[:6] if n) == 1:
            cells[6] = ""
        disp.append(tuple(cells))
    return tuple(disp), tuple(vals)


def synth_content(s: Synth) -> tuple[Content, tuple[int, ...]]:
    """A 2019/2021-format report and the 四、结转 row (6 columns) to carry into next year."""
    rng = rng_for(s.key)
    rows = gen_t3(rng, s.template, s.kind, s.carry_in, s.carry_out)
    t4 = gen_t4(rng, s.kind, sum(rows["new_received"]))
    if s.t3_sum is not None:   # drawn all the same, so that the rest of the report draws what it drew before
        rows = {k: list(v) for k, v in s.t3_sum.items()}
    if s.t4_sum is not None:
        t4 = list(s.t4_sum)
    t2 = gen_t2(rng, s.template, s.kind, s.t2_prev)
    sections = narrative(rng, s, rows, t4)
    disp, vals = display_t3(s.template, rows, s.style)
    t4s = tuple("" if (s.style.blank_zeros and n == 0) else str(n) for n in t4)
    preamble = ("本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）第五十条规定编制，"
                "由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
                "存在的主要问题及改进情况、其他需要报告的事项六部分组成。",)
    content = Content(
        template=s.template, title_lines=tuple(s.title.split("\n")), preamble=preamble,
        sections=tuple(sections), t2=t2, t3=disp, t3_values=vals, t4=t4s,
        closing=(s.agency, _cn_date(s.published)), style=s.style,
    )
    return content, tuple(rows["carried_out"])


def pre2019_content(s: Synth) -> Content:
    """An old-structure report (2008 条例): 概述 / 主动公开 / 依申请 / 咨询 / 复议诉讼 / 收费 / 问题, plus 附表."""
    rng = rng_for(s.key)
    y, who = s.year, s.short
    pub = rng.randint(300, 9000 if s.kind == "gov" else 800)
    docs = rng.randint(0, 30 if s.kind == "gov" else 5)
    web = int(pub * rng.uniform(0.7, 0.95))
    gazette = rng.randint(0, 40)
    channels = [rng.randint(0, 60 if s.kind == "gov" else 8) for _ in range(4)]   # 当面 传真 网络 信函
    received = sum(channels)
    later = rng.randint(0, received // 5) if received else 0
    done = received - rng.randint(0, min(3, received))
    answers = [0] * 8
    for i in rng.choices(range(8), weights=[3, 8, 1, 1.5, 2, 4, 0.5, 0.5], k=done):
        answers[i] += 1
    consult = rng.randint(0, 3000 if s.kind == "gov" else 200)
    rv, lit = rng.randint(0, received // 8 + 1), rng.randint(0, received // 12 + 1)
    staff = rng.randint(1, 12 if s.kind == "gov" else 3)
    words = rng_for("prose:" + (s.prose_key or s.key))

    def pick(options: tuple[str, ...]) -> str:
        return (options[0] if s.plain_prose else words.choice(options)).format(y=y, region=s.region)

    sections = (
        Section("一、概述", (
            f"{y}年，{who}" + pick(P_OLD_INTRO) + pick(P_OLD_MECHANISM) + pick(P_OLD_PARTS) + pick(P_OLD_PERIOD),)),
        Section("二、主动公开政府信息情况", (
            f"{y}年，{who}共主动公开政府信息{pub}条，其中规范性文件{docs}件。通过政府网站公开{web}条，"
            f"通过政府公报公开{gazette}条，其余通过新闻发布会、政务微博微信等方式公开。",)),
        Section("三、依申请公开政府信息情况", (
            f"{y}年共收到政府信息公开申请{received}件，其中当面申请{channels[0]}件，传真申请{channels[1]}件，"
            f"网络申请{channels[2]}件，信函申请{channels[3]}件。已办结{done}件，其中延期办结{later}件。",
            f"在已答复的申请中，属于已主动公开范围{answers[0]}件，同意公开{answers[1]}件，同意部分公开{answers[2]}件，"
            f"不同意公开{answers[3]}件，不属于本行政机关公开{answers[4]}件，申请信息不存在{answers[5]}件，"
            f"告知作出更改补充{answers[6]}件，告知通过其他途径办理{answers[7]}件。",
        )),
        Section("四、政府信息公开咨询情况", (f"全年共接受政府信息公开方面的咨询{consult}人次。",)),
        Section("五、因政府信息公开申请行政复议、提起行政诉讼的情况", (
            f"{y}年，涉及{who}政府信息公开的行政复议申请{rv}件，行政诉讼{lit}件。",)),
        Section("六、政府信息公开收费及减免情况", (f"{y}年，{who}" + pick(P_OLD_FEE),)),
        Section("七、政府信息公开工作存在的主要问题及改进措施", (
            "存在的主要问题：一是主动公开的深度和广度有待拓展；二是工作人员业务水平有待提高。",
            "改进措施：一是进一步加大主动公开力度；二是加强业务培训，提升依申请公开答复的规范化水平。",
        )),
        Section("八、其他需要报告的事项", ("无。",), "appendix"),
    )
    appendix = (
        ("统计指标", "单位", "统计数"),
        ("一、主动公开情况", "", ""),
        ("（一）主动公开政府信息数", "条", str(pub)),
        ("其中：主动公开规范性文件数", "条", str(docs)),
        ("（二）通过不同渠道和方式公开政府信息的情况", "", ""),
        ("1.政府公报公开政府信息数", "条", str(gazette)),
        ("2.政府网站公开政府信息数", "条", str(web)),
        ("二、依申请公开情况", "", ""),
        ("（一）收到申请数", "件", str(received)),
        ("1.当面申请数", "件", str(channels[0])),
        ("2.传真申请数", "件", str(channels[1])),
        ("3.网络申请数", "件", str(channels[2])),
        ("4.信函申请数", "件", str(channels[3])),
        ("（二）申请办结数", "件", str(done)),
        ("1.按时办结数", "件", str(done - later)),
        ("2.延期办结数", "件", str(later)),
        ("三、行政复议数量", "件", str(rv)),
        ("四、行政诉讼数量", "件", str(lit)),
        ("五、依申请公开信息收取的费用", "万元", "0"),
        ("六、从事政府信息公开工作人员数", "人", str(staff)),
    )
    return Content(
        template="pre2019", title_lines=tuple(s.title.split("\n")), preamble=(), sections=sections,
        appendix_title=f"附表：{y}年度政府信息公开工作情况统计表", appendix=appendix,
        closing=(s.agency, _cn_date(s.published)), style=s.style,
    )
