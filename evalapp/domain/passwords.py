"""Password policy: at least 10 characters and hard to guess.

Hard to guess is zxcvbn's estimate (the number of guesses an attacker working from common passwords, words, names,
keyboard runs, repeats, sequences and dates would need), with this app's context added: the user's own names, the
words of the app and the district (云溪, yunxi, 党建, 救助 …) and passwords and pinyin names common among Chinese
users (woaini1314, 5201314, zhangwei …). Score 3 (about 10^8 guesses) or more is accepted.
"""
from importlib import resources

from zxcvbn import matching, scoring, time_estimates

from .messages import M_, Joined, Msg

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3
ESTIMATED_LENGTH = 72  # zxcvbn's own bound: what lies beyond only adds to the guesses


def _words(name: str) -> list[str]:
    text = resources.files("evalapp.data").joinpath(name).read_text(encoding="utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


COMMON = set(_words("common-passwords.txt"))
# Ranked dictionaries (word → rank, 1 the most common), alongside zxcvbn's own lists.
CONTEXT = {
    "evalapp_words": matching.build_ranked_dict(_words("password-words-app.txt")),
    "chinese_common": matching.build_ranked_dict(_words("password-words-zh.txt")),
}

WHY = {
    "user_inputs": M_("与用户名或姓名相近"),
    "evalapp_words": M_("含有本系统或本地的常用词（如“云溪”“yunxi”“党建”）"),
    "chinese_common": M_("以常见密码或常见姓名拼音为主（如 woaini1314、5201314、zhangwei）"),
    "passwords": M_("以常见密码为主（如 password、Passw0rd）"),
    "spatial": M_("含有键盘上相邻的按键（如 qwerty、1qaz2wsx）"),
    "repeat": M_("含有重复的字符或片段（如 abcabc、aaaa）"),
    "sequence": M_("含有连续的字母或数字（如 abcdef、123456）"),
    "date": M_("含有年份或日期"),
    "l33t": M_("把字母换成形近的数字或符号（如用0代替o、@代替a）并不能让密码更难猜"),
    "word": M_("以常见单词或姓名为主"),
}


def _context(username: str, display_name: str, extra_words) -> list[str]:
    words = [username, display_name, *extra_words]
    for word in (username, display_name):  # zhang.wei → zhang, wei as well
        for sep in "._- ":
            word = word.replace(sep, " ")
        words += word.split()
    return [w.lower() for w in words if w and len(w) >= 2]


def strength(password: str, username: str = "", *, display_name: str = "", extra_words=()) -> tuple[int, list[Msg]]:
    """zxcvbn's score (0–4) of a password with this app's context, and why it is weak (messages, may be empty)."""
    password = password[:ESTIMATED_LENGTH]
    # zxcvbn() keeps the user's words in a module-wide dictionary; a dictionary of our own per call is safe when
    # several threads check passwords at once.
    dictionaries = {**matching.RANKED_DICTIONARIES, **CONTEXT,
                    "user_inputs": matching.build_ranked_dict(_context(username, display_name, extra_words))}
    result = scoring.most_guessable_match_sequence(password, matching.omnimatch(password, dictionaries))
    score = time_estimates.guesses_to_score(result["guesses"])
    reasons: list[Msg] = []

    def add(key: str) -> None:
        if WHY[key] not in reasons:
            reasons.append(WHY[key])

    for match in result["sequence"]:
        pattern = match["pattern"]
        if pattern == "dictionary":
            name = match["dictionary_name"]
            add(name if name in WHY else "word")
            if match.get("l33t"):
                add("l33t")
        elif pattern in ("spatial", "repeat", "sequence", "date"):
            add(pattern)
        elif pattern == "regex":
            add("date")  # zxcvbn's only regex is a recent year
    return score, reasons


def password_problems(password: str, username: str = "", *, display_name: str = "", extra_words=()) -> list[Msg]:
    """Why a password is refused (empty when it is acceptable), as messages (`M_`).

    display_name and extra_words (the user's unit, say) are context: a password built on them is easy to guess."""
    if len(password) > MAX_LENGTH or "\x00" in password or any("\ud800" <= c <= "\udfff" for c in password):
        return [M_("密码过长或含有无效字符")]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(M_("密码至少%(n)s个字符", n=MIN_LENGTH))
    if username and username.lower() in password.lower():
        problems.append(M_("密码不能包含用户名"))
    if password.lower() in COMMON or len(set(password)) <= 2:
        problems.append(M_("密码过于常见，请换一个"))
    elif len(password) >= MIN_LENGTH:
        score, reasons = strength(password, username, display_name=display_name, extra_words=extra_words)
        if score < MIN_SCORE:
            why = Joined(reasons, "，") if reasons else M_("长度和组合都不足以抵御猜测")
            problems.append(M_("这个密码容易被猜到：%(why)s。请换一个更长、更少见的密码，例如几个不相关的词加上数字和符号",
                               why=why))
    return problems
