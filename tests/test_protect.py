from plugdata.translate.protect import (
    mask,
    needs_translation,
    same_markers,
    split_paragraphs,
    unmask,
)


def test_mask_and_unmask_round_trip_every_kind_of_span():
    fields = {
        "instruction": "Use `pip install x` and see https://example.com/a_(b), or mail a@b.org.",
        "output": "```py\nprint('{name}')\n```\nHello {name}, {{ user }} has %s items: $x^2$.",
    }
    masked = mask(fields)
    assert masked.spans == [
        "`pip install x`",
        "https://example.com/a_",
        "a@b.org",
        "```py\nprint('{name}')\n```",
        "{name}",
        "{{ user }}",
        "%s",
        "$x^2$",
    ]
    assert "{name}" not in masked.texts["output"] and "[[P4]]" in masked.texts["output"]
    assert unmask(masked, masked.texts) == fields


def test_currency_and_percentages_are_not_math_or_placeholders():
    text = "It costs $5 and $10, a 5% discount, total $1,157.63."
    assert mask({"a": text}).spans == []


def test_special_token_strings_are_protected():
    assert mask({"a": "the <|im_end|> token"}).spans == ["<|im_end|>"]


def test_unmask_rejects_lost_duplicated_or_invented_markers():
    masked = mask({"a": "Run `ls` then `pwd`."})
    assert unmask(masked, {"a": "Lancia [[P1]] poi [[P2]]."}) == {"a": "Lancia `ls` poi `pwd`."}
    assert unmask(masked, {"a": "Lancia [[P2]] poi [[P1]]."}) == {"a": "Lancia `pwd` poi `ls`."}
    assert unmask(masked, {"a": "Lancia [[P1]]."}) is None
    assert unmask(masked, {"a": "[[P1]] [[P1]] [[P2]]"}) is None
    assert unmask(masked, {"a": "[[P1]] [[P2]] [[P3]]"}) is None
    assert same_markers("a [[P1]]", "[[P1]] b") and not same_markers("[[P1]]", "")


def test_needs_translation():
    assert not needs_translation("[[P1]]\n\n[[P2]] 42")
    assert needs_translation("[[P1]] means yes")
    assert needs_translation("你好")


def test_split_paragraphs_keeps_text_and_bounds_chunks():
    text = "\n\n".join(f"paragraph {i} " + "x" * 50 for i in range(10))
    chunks = split_paragraphs(text, 130)
    assert "\n\n".join(chunks) == text
    assert len(chunks) == 5 and all(len(c) <= 130 for c in chunks)
    assert split_paragraphs("one block", 3) == ["one block"]
