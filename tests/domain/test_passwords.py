"""The password policy: long enough and hard to guess, with this app's and Chinese users' context; reasons in Chinese."""
import pytest

from evalapp.domain.passwords import password_problems, strength

GUESSABLE = ["Passw0rd!!", "yunxi12345", "abcabcabcabc", "woaini1314520", "5201314woaini", "zhangwei1990",
             "1qaz2wsx3edc4rfv", "qwertyuiop12", "123456789a", "Dangjian@2021", "demo-pass-2021"]


@pytest.mark.parametrize("password", GUESSABLE)
def test_guessable_passwords_are_refused_with_a_reason_in_chinese(password):
    problems = password_problems(password, "wang5")
    assert problems, password
    assert any("容易被猜到" in p or "过于常见" in p for p in problems)


@pytest.mark.parametrize("password, reason", [
    ("Passw0rd!!", "常见密码"), ("Passw0rd!!", "形近的数字或符号"), ("yunxi12345", "本系统或本地的常用词"),
    ("abcabcabcabc", "重复"), ("woaini1314xyz", "常见密码或常见姓名拼音"), ("zhangwei1990", "姓名拼音"),
    ("zhangwei1990", "年份或日期"), ("qwertyuiop12", "连续的字母或数字"),
])
def test_the_message_says_why(password, reason):
    assert reason in "".join(password_problems(password))


def test_the_users_own_names_are_context():
    # strong on its own, guessable once it is known to be 田晓雨's (the caller passes her name's pinyin)
    assert password_problems("Tianxiaoyu2019") == []
    problems = password_problems("Tianxiaoyu2019", "tianxy", display_name="田晓雨", extra_words=("tianxiaoyu",))
    assert "与用户名或姓名相近" in "".join(problems)


@pytest.mark.parametrize("password", ["长城-Yunxi-2026", "Initial-pass-2026", "湘江北去橘子洲头风景好", "Qz7#mX2p!vLk",
                                      "correct horse battery staple", "x" * 10 + "Tq9!vB2$kL"])
def test_hard_to_guess_passwords_are_accepted(password):
    assert password_problems(password, "wang5", display_name="王五") == []


def test_length_username_and_bad_characters_still_checked():
    assert password_problems("Qz7#mX2p") == ["密码至少10个字符"]
    assert "密码不能包含用户名" in password_problems("wang5-Qz7#mX2p!vLk", "wang5")
    assert password_problems("Qz7#mX2p!vLk\x00") == ["密码过长或含有无效字符"]
    assert password_problems("Qz7#mX2p!vLk" * 30) == ["密码过长或含有无效字符"]
    score, _ = strength("Qz7#mX2p!vLk" * 6)  # past zxcvbn's 72 characters: estimated on those, not an error
    assert score == 4

