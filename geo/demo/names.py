"""Synthetic Chinese names, phones and place names for the demo city (never real people)."""

from __future__ import annotations

import numpy as np

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤杨吴田滕"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣"
    "爱妹霞香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹"
    "蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲"
    "寒伊亚宜可姬舒影荔枝丽阳文斌志国建明永健世广海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子"
    "杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮"
)
STREETS = ["市中街道", "环北街道", "河西街道", "灯塔街道", "川硐街道", "正光街道", "铜岩街道"]
PLACE_WORDS = [
    "锦江", "东门", "西门", "南门", "北门", "中南门", "滨江", "文笔", "金滩", "下南门", "梵净", "大兴",
    "新华", "民主", "解放", "清水", "龙井", "寨桂", "马岩", "白岩", "谢桥", "半坡", "茶店", "狮子",
    "龙家", "石榴", "观音", "月亮", "桐木", "漾头", "长坡", "官庄", "冠华", "兴隆", "坝黄", "瓦屋",
    "鹭鸶", "梭家", "六龙", "丹凤", "铜兴", "碧桂", "凤凰", "东太", "西太", "南长", "北长", "贵龙",
    "天乐", "桃源", "杨柳", "枫林", "金鳌", "玉屏", "云峰", "青龙", "白塔", "书院", "新城", "花果",
]
ROAD_WORDS = [
    "锦江", "解放", "东太", "南长", "北关", "西外", "中山", "人民", "光明", "和平", "新华", "环城",
    "梵净山", "清水塘", "大兴", "文笔峰", "金滩", "桐木坪", "寨英", "滨江", "书院", "凤凰", "民主",
    "建设", "文化", "胜利", "友谊", "团结", "振兴", "鹭鸶", "龙井", "茶园", "兴业", "石竹", "桃园",
    "白岩", "长征", "同心", "华盛", "银河", "湘黔", "沿江", "天生桥", "观音阁", "官庄", "长坡",
]
COMPOUND_SUFFIX = ["花园", "小区", "苑", "家园", "新村", "公寓", "雅居", "名城", "佳园", "华庭"]
UNIT_WORDS = ["铜仁", "碧江", "梵净", "锦江", "黔东", "武陵", "乌江", "苗岭", "万山", "九龙"]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN, n)
    two = rng.random(n) < 0.7
    return [a + b + (c if t else "") for a, b, c, t in zip(s, g1, g2, two, strict=True)]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Synthetic 11-digit mobile numbers, unique within the demo."""
    prefixes = np.array(["138", "139", "150", "151", "152", "158", "177", "182", "185", "187"])
    picks = rng.choice(len(prefixes), n)
    tails = rng.choice(10**8, n, replace=False)
    return [f"{prefixes[p]}{t:08d}" for p, t in zip(picks, tails, strict=True)]


def unique_words(rng: np.random.Generator, words: list[str], n: int, suffix: str) -> list[str]:
    """``n`` distinct names from ``words`` (+ a second word when the list runs out)."""
    out: list[str] = []
    seen: set[str] = set()
    pool = list(words)
    rng.shuffle(pool)
    i = 0
    while len(out) < n:
        w = pool[i % len(pool)]
        if i >= len(pool):
            w = w + str(rng.choice(["东", "西", "南", "北", "中", "新"]))
        name = w + suffix
        if name not in seen:
            seen.add(name)
            out.append(name)
        i += 1
    return out
