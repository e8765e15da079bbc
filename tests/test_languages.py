import pytest

from plugdata.errors import PlugdataError
from plugdata.languages import LANGUAGES, get_language, parse_languages, plug_system_prompt

REQUIRED = [
    "en",
    "zh",
    "ko",
    "it",
    "es",
    "ja",
    "fr",
    "de",
    "pt",
    "ru",
    "ar",
    "hi",
    "vi",
    "th",
    "id",
    "sw",
]


def test_registry_has_every_required_language_with_labels():
    for code in REQUIRED:
        lang = LANGUAGES[code]
        assert lang.code == code
        assert lang.name and lang.native_name and lang.script
        assert lang.instruction_label.rstrip().endswith((":", "："))
        assert lang.response_label.rstrip().endswith((":", "："))
        assert lang.instruction_label != lang.response_label


def test_labels_named_in_the_design():
    assert get_language("en").response_label == "English response:"
    assert get_language("zh").response_label == "中文回复："
    assert get_language("ko").response_label == "한국어 응답:"
    assert get_language("it").response_label == "Risposta in italiano:"
    assert get_language("es").response_label == "Respuesta en español:"


def test_full_width_colon_takes_no_space():
    zh, en = get_language("zh"), get_language("en")
    assert zh.label(zh.response_label, "你好") == "中文回复：你好"
    assert en.label(en.response_label, "Hi") == "English response: Hi"


def test_unknown_language_lists_known_ones():
    with pytest.raises(PlugdataError) as info:
        get_language("xx")
    message = str(info.value)
    assert "'xx'" in message and "zh" in message and "sw" in message


def test_parse_languages():
    assert [lang.code for lang in parse_languages(" zh, KO ,it,es")] == ["zh", "ko", "it", "es"]
    with pytest.raises(PlugdataError, match="twice"):
        parse_languages("zh,zh")
    with pytest.raises(PlugdataError, match="no target"):
        parse_languages(" , ")


def test_plug_system_prompt_names_both_languages():
    text = plug_system_prompt(get_language("en"), get_language("ko"))
    assert "English" in text and "Korean" in text
