"""The truncation check on invented pairs: texts cut inside brackets or quotes, texts that end
on a colon where the pivot ends a sentence, and the real translations that look alike."""

import polars as pl
import pytest

from plugdata.filters import filter_frame

P_INS = "Give the news of the day in one short sentence for our readers."
T_INS = {
    "zh": "用一句简短的话为读者介绍今天的新闻。",
    "ko": "독자를 위해 오늘의 뉴스를 짧은 한 문장으로 전해 주세요.",
    "it": "Dai la notizia del giorno in una breve frase per i nostri lettori.",
}


def truncation(lang, p_out, t_out):
    row = {
        "id": "x",
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": P_INS,
        "pivot_input": "",
        "pivot_output": p_out,
        "target_instruction": T_INS[lang],
        "target_input": "",
        "target_output": t_out,
        "finish_reason": "stop",
        "kept": True,
        "reasons": [],
    }
    frame = pl.DataFrame([row], schema_overrides={"reasons": pl.List(pl.String)})
    out, _ = filter_frame(frame, ["truncated"])
    return out["reasons"][0].to_list()


@pytest.mark.parametrize(
    "lang, p_out, t_out",
    [
        ("zh", "Maria Rossi is the new mayor of Lakeside town", "玛丽亚·罗西（Maria "),
        ("ko", "Storm hits Harbour City overnight", "폭풍이 하버 시티(Harbour"),
        ("zh", '"Big news for the town" says the mayor', "镇长说“对"),
        ("ko", '"We will win the final," the coach said.', '감독은 "'),
        (
            "it",
            "Mayor opens the new bridge (built in two years) on Lakeside road",
            "Il sindaco inaugura il ponte (costruito",
        ),
    ],
)
def test_a_text_cut_inside_brackets_or_quotes_is_truncated(lang, p_out, t_out):
    assert truncation(lang, p_out, t_out) == ["truncated:unclosed"]


@pytest.mark.parametrize(
    "lang, p_out, t_out",
    [
        (
            "zh",
            "Maria Rossi is the new mayor of Lakeside town",
            "玛丽亚·罗西（Maria Rossi）是湖畔镇的新镇长",
        ),
        ("zh", '"Big news for the town," she wrote.', "她写道：“对小镇来说是个大新闻。”"),
        (
            "zh",
            'He called it "the people\'s bridge."',
            "他称之为“人民的大桥“",
        ),  # a closing quote typed as an opening one
        (
            "it",
            'Jack Ross: "My ambition is to manage Scotland"',
            'Jack Ross: "La mia ambizione è allenare la Scozia"',
        ),
        (
            "it",
            '"I wanted to play for my country.',
            '"Volevo giocare per il mio paese.',
        ),  # the pivot leaves it open too
        (
            "ko",
            "The storm (the worst in years",
            "수년 만에 최악의 폭풍(지난밤 하버 시티를 강타한 폭풍",
        ),
    ],
)
def test_brackets_and_quotes_a_real_translation_leaves_are_not_a_cut(lang, p_out, t_out):
    assert truncation(lang, p_out, t_out) == []


def test_a_text_ending_on_a_colon_where_the_pivot_ends_a_sentence_is_cut():
    said = "The mayor said that the new bridge will open to traffic next week."
    assert truncation("zh", said, "镇长说：") == ["truncated:mid_sentence"]
    # a colon where the pivot has one is how the text ends
    assert (
        truncation(
            "it",
            "Rewrite the following sentence in the passive voice:",
            "Riscrivi la frase seguente alla forma passiva:",
        )
        == []
    )
    assert truncation("zh", said, "镇长说，新桥将于下周通车。") == []


@pytest.mark.parametrize(
    "lang, t_out, cut",
    [
        ("th", "ผู้ว่าการเมืองกล่าวว่าสะพานใหม่จะเปิดให้รถสัญจรในสัปดาห์หน้า", False),  # Thai has no full stop
        ("lo", "ເຈົ້າເມືອງກ່າວວ່າຂົວໃໝ່ຈະເປີດໃຫ້ລົດແລ່ນໃນອາທິດໜ້າ", False),  # nor has Lao
        ("km", "អភិបាលក្រុងបាននិយាយថា ស្ពានថ្មីនឹងបើកនៅសប្តាហ៍ក្រោយ។", False),  # Khmer's khan
        ("km", "អភិបាលក្រុងបាន", True),
        ("my", "မြို့တော်ဝန်က တံတားသစ်ကို လာမည့်အပတ်တွင် ဖွင့်မည်ဟု ပြောသည်။", False),  # Myanmar
        ("my", "မြို့တော်ဝန်က", True),
        ("hi", "महापौर ने कहा कि नया पुल अगले सप्ताह यातायात के लिए खुलेगा।", False),  # danda
        ("ja", "市長は、新しい橋が来週開通すると述べた。", False),
        ("ja", "市長は、新しい", True),
        ("zh", "镇长说，新桥将于下周通车。", False),
        ("zh", "镇长说，新", True),
    ],
)
def test_sentence_ends_of_every_script(lang, t_out, cut):
    said = "The mayor said that the new bridge will open to traffic next week."
    row = {
        "id": "x",
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": P_INS,
        "pivot_input": "",
        "pivot_output": said,
        "target_instruction": "",
        "target_input": "",
        "target_output": t_out,
        "finish_reason": "stop",
        "kept": True,
        "reasons": [],
    }
    frame = pl.DataFrame([row], schema_overrides={"reasons": pl.List(pl.String)})
    out, _ = filter_frame(frame, ["truncated"])
    assert ("truncated:mid_sentence" in out["reasons"][0].to_list()) == cut
