"""Plausible Chinese names and phone numbers for demo people (all invented)."""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程魏苏吕丁沈任姚卢傅钟姜崔谭陆范汪廖石金贾夏方邹熊白孟秦邱侯江尹薛段雷龙史陶贺顾毛"
    "郝龚邵万钱严武戴莫孔汤"
)


def _words(text: str) -> list[str]:
    """Space-separated words (kept as text so the lists stay easy to read and edit)."""
    return text.split()


GIRLS = _words(
    "梓涵 一诺 欣怡 若汐 语桐 思涵 梓萱 可馨 诗琪 雨桐 依诺 芷若 沐瑶 语汐 安然 星妍 知夏 "
    "初夏 念念 悦悦 心怡 子萱 晨曦 佳怡 紫萱 雅琪 梦瑶 诗雨 一涵 乐瑶"
)
BOYS = _words(
    "浩宇 宇轩 子墨 沐宸 一鸣 梓睿 睿泽 奕辰 俊熙 皓轩 明哲 嘉懿 子轩 博文 煜祺 思远 承泽 "
    "景行 予安 天佑 铭泽 宇航 浩然 梓豪 锦程 逸凡 子杰 星辰 弘毅 墨白"
)
WOMEN = _words(
    "丽华 秀英 晓燕 婷婷 雅琴 海燕 玉兰 春梅 慧敏 静怡 晓丽 佳琪 美玲 雪梅 丽娟 晓红 "
    "雯雯 思琪 倩 颖 琳 敏 静 洁 芳 燕 霞 璐 莉 蕾"
)
MEN = _words(
    "建华 志强 伟 明 勇 军 磊 涛 斌 鹏 国强 志刚 海涛 永军 建军 文博 俊杰 宏伟 振华 晓东 "
    "浩 超 凯 杰 亮 峰 旭 帅 鑫 宁"
)
GRANDMOTHERS = _words("秀英 桂兰 玉珍 淑芬 凤英 桂芳 秀兰 玉梅 素珍 翠花")
GRANDFATHERS = _words("建国 国庆 德福 永福 国华 志明 长林 振国 金山 福生")

_MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "186")


class NameMaker:
    """Draws names from a seeded random source, avoiding repeats where it matters."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._used: set[str] = set()

    def surname(self) -> str:
        """A family name."""
        return self.rng.choice(SURNAMES)

    def child(self, surname: str, female: bool) -> str:
        """A child's full name, unique within the facility so the door page is unambiguous."""
        pool = GIRLS if female else BOYS
        for _ in range(50):
            name = surname + self.rng.choice(pool)
            if name not in self._used:
                break
        else:
            name = surname + self.rng.choice(pool) + self.rng.choice(pool)[0]
        self._used.add(name)
        return name

    def adult(self, surname: str | None = None, *, female: bool) -> str:
        """An adult's full name."""
        return (surname or self.surname()) + self.rng.choice(WOMEN if female else MEN)

    def grandparent(self, surname: str, *, female: bool) -> str:
        """An older adult's full name."""
        return surname + self.rng.choice(GRANDMOTHERS if female else GRANDFATHERS)

    def phone(self) -> str:
        """An invented mainland mobile number."""
        return self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
