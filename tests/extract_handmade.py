"""Expected cells of the sample reports, typed by hand from the documents (seeds and real pages).

Table 三 rows are written in template order as seven numbers (自然人 … 其他, 总计), `_` for a blank cell;
table 四 as its fifteen numbers in printed order.
"""

from __future__ import annotations

T3_COLS = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
           "legal_service_org", "other_org", "total"]
T3_2019 = ["new_received", "carried_in", "r1_open", "r2_partial", "r3_state_secret", "r3_other_law_prohibits",
           "r3_three_security_one_stability", "r3_third_party_rights", "r3_internal_affairs", "r3_process_info",
           "r3_enforcement_case_file", "r3_admin_query_matter", "r4_not_held", "r4_needs_creation",
           "r4_unclear_after_correction", "r5_petition_complaint", "r5_repeat", "r5_publication",
           "r5_massive_repeated", "r5_confirm_or_reissue", "r6_other", "r7_total", "carried_out"]
T3_2021 = T3_2019[:20] + ["r6_overdue_correction", "r6_overdue_fee"] + T3_2019[20:]
T4 = [(g, c) for g in ("review", "litigation_direct", "litigation_after_review")
      for c in ("upheld", "corrected", "other", "pending", "total")]


def _num(x: str) -> int | float | None:
    if x == "_":
        return None
    return float(x) if "." in x else int(x)


def cells(t2: dict[str, str], t3: str, t4: str, version: str) -> dict[str, int | float | None]:
    out: dict[str, int | float | None] = {}
    for key, values in t2.items():
        row, cols = key.split(" ")
        for col, v in zip(cols.split(","), values.split(), strict=True):
            out[f"table2.{row}.{col}"] = _num(v)
    rows = T3_2021 if version == "2021" else T3_2019
    lines = [x.split() for x in t3.strip().splitlines()]
    assert len(lines) == len(rows), (len(lines), len(rows))
    for key, line in zip(rows, lines, strict=True):
        for col, v in zip(T3_COLS, line, strict=True):
            out[f"table3.{key}.{col}"] = _num(v)
    for (g, c), v in zip(T4, t4.split(), strict=True):
        out[f"table4.{g}.{c}"] = _num(v)
    return out


C19_1 = "new_made,new_published,total_published"
C19_3 = "prev_year_items,delta,decisions"
C21_1 = "issued,repealed,in_force"

ZERO7 = "0 0 0 0 0 0 0"


def t2_2021(rules: str, normative: str, license_: str, penalty: str, coercion: str, fees: str) -> dict[str, str]:
    return {f"art20_1.rules {C21_1}": rules, f"art20_1.normative_docs {C21_1}": normative,
            "art20_5.admin_license decisions": license_, "art20_6.admin_penalty decisions": penalty,
            "art20_6.admin_coercion decisions": coercion, "art20_8.admin_fees amount_10k_yuan": fees}


SEED_000 = cells(t2_2021("0 0 0", "0 0 0", "0", "0", "0", "0"), f"""
4 0 0 0 0 0 4
{ZERO7}
{ZERO7}
2 0 0 0 0 0 2
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
1 0 0 0 0 0 1
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
1 0 0 0 0 0 1
4 0 0 0 0 0 4
{ZERO7}
""", "1 0 0 0 1  0 0 0 0 0  0 0 0 1 1", "2021")

SEED_001 = cells({
    f"art20_1.rules {C19_1}": "0 0 0", f"art20_1.normative_docs {C19_1}": "0 0 0",
    f"art20_5.admin_license {C19_3}": "0 0 0", f"art20_5.other_external_services {C19_3}": "0 0 0",
    f"art20_6.admin_penalty {C19_3}": "0 0 0", f"art20_6.admin_coercion {C19_3}": "0 0 0",
    "art20_8.admin_fees prev_year_items,delta": "0 0",
    "art20_9.gov_central_procurement procurement_items,procurement_amount": "10 44.7377",
}, f"""
4 0 0 0 0 0 4
{ZERO7}
3 0 0 0 0 0 3
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
1 0 0 0 0 0 1
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
4 0 0 0 0 0 4
{ZERO7}
""", "0 0 0 1 1  0 0 0 0 0  0 0 0 0 0", "2019")

SEED_002 = cells(t2_2021("0 0 0", "0 5 6", "0", "0", "0", "0"), f"""
100 0 0 0 0 0 100
13 0 0 0 0 0 13
68 0 0 0 0 0 68
4 0 0 0 0 0 4
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
1 0 0 0 0 0 1
{ZERO7}
{ZERO7}
{ZERO7}
40 0 0 0 0 0 40
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
113 0 0 0 0 0 113
{ZERO7}
""", "0 0 0 0 0  0 0 0 0 0  0 0 0 0 0", "2021")

SEED_003 = cells({
    f"art20_1.rules {C19_1}": "0 0 0", f"art20_1.normative_docs {C19_1}": "24 24 119",
    f"art20_5.admin_license {C19_3}": "276 -118 24577",
    f"art20_5.other_external_services/行政检查 {C19_3}": "436 -174 453518",
    f"art20_5.other_external_services/行政确认 {C19_3}": "69 -18 76723",
    f"art20_6.admin_penalty {C19_3}": "6609 -751 21706", f"art20_6.admin_coercion {C19_3}": "86 33 10817",
    "art20_8.admin_fees prev_year_items,delta": "41 20",
    "art20_9.gov_central_procurement procurement_items,procurement_amount": "2012 44899.2477",
}, f"""
1518 57 0 0 1 0 1576
43 2 0 0 0 0 45
311 39 0 0 0 0 350
23 1 0 0 1 0 25
2 0 0 0 0 0 2
44 0 0 0 0 0 44
{ZERO7}
2 0 0 0 0 0 2
3 0 0 0 0 0 3
6 0 0 0 0 0 6
27 1 0 0 0 0 28
7 1 0 0 0 0 8
958 4 0 0 0 0 962
9 0 0 0 0 0 9
1 0 0 0 0 0 1
42 0 0 0 0 0 42
11 0 0 0 0 0 11
{ZERO7}
1 0 0 0 0 0 1
{ZERO7}
59 13 0 0 0 0 72
1506 59 0 0 1 0 1566
2701 79 0 0 2 0 2782
""", "57 3 4 5 69  25 0 1 5 31  17 0 3 10 30", "2019")

SEED_004 = cells(t2_2021("0 0 0", "1 0 6", "0", "0", "0", "0"), f"""
117 0 0 0 0 0 117
{ZERO7}
73 0 0 0 0 0 73
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
5 0 0 0 0 0 5
2 0 0 0 0 0 2
{ZERO7}
11 0 0 0 0 0 11
{ZERO7}
1 0 0 0 0 0 1
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
23 0 0 0 0 0 23
115 0 0 0 0 0 115
2 0 0 0 0 0 2
""", "3 3 0 0 6  2 1 0 0 3  0 1 0 0 1", "2021")

PINGTAN_2025 = cells(t2_2021("0 0 0", "58 45 546", "2418", "644", "64", "4166.241619"), f"""
151 3 0 0 0 0 154
{ZERO7}
33 0 0 0 0 0 33
38 0 0 0 0 0 38
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
3 0 0 0 0 0 3
2 0 0 0 0 0 2
3 0 0 0 0 0 3
3 0 0 0 0 0 3
49 1 0 0 0 0 50
3 0 0 0 0 0 3
{ZERO7}
2 0 0 0 0 0 2
{ZERO7}
{ZERO7}
{ZERO7}
{ZERO7}
8 0 0 0 0 0 8
2 0 0 0 0 0 2
1 0 0 0 0 0 1
147 1 0 0 0 0 148
4 2 0 0 0 0 6
""", "25 3 8 0 36  3 3 0 0 6  3 0 0 0 3", "2021")

BLANK7 = "_ _ _ _ _ _ _"
SHANGHAI_2019 = cells({
    f"art20_1.rules {C19_1}": "13 13 524", f"art20_1.normative_docs {C19_1}": "60 60 368",
    f"art20_5.admin_license {C19_3}": "0 0 0", f"art20_5.other_external_services {C19_3}": "0 0 0",
    f"art20_6.admin_penalty {C19_3}": "0 0 0", f"art20_6.admin_coercion {C19_3}": "0 0 0",
    "art20_8.admin_fees prev_year_items,delta": "0 0",
    "art20_9.gov_central_procurement procurement_items,procurement_amount": "6 25.1",   # 251000元
}, f"""
821 35 _ _ 2 1 859
18 _ _ _ _ _ 18
258 12 _ _ 1 1 _
3 _ _ _ _ _ _
14 _ _ _ _ _ _
{BLANK7}
{BLANK7}
{BLANK7}
5 _ _ _ _ _ _
3 1 _ _ _ _ _
{BLANK7}
10 2 _ _ _ _ _
252 12 _ _ 1 _ _
44 3 _ _ _ _ _
25 _ _ _ _ _ _
148 1 _ _ _ _ _
5 4 _ _ _ _ _
{BLANK7}
{BLANK7}
{BLANK7}
{BLANK7}
767 35 _ _ 2 1 805
72 _ _ _ _ _ 72
""", "5 _ _ 2 7  8 _ _ 1 9  _ _ _ _ _", "2019")
