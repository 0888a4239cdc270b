"""word_diff_html: the draft against what is live, word by word, escaped."""

from policies.diff import has_changes, word_diff_html


def test_added_and_removed_words_are_marked_with_hidden_labels():
    html = word_diff_html("Vær saklig og høflig.", "Vær alltid saklig og vennlig.")
    assert '<ins class="diff-ins"><span class="ds-sr-only">Lagt til: </span> alltid</ins>' in html
    assert '<del class="diff-del"><span class="ds-sr-only">Fjernet: </span>høflig.</del>' in html
    assert '<ins class="diff-ins"><span class="ds-sr-only">Lagt til: </span>vennlig.</ins>' in html


def test_all_text_is_escaped():
    html = word_diff_html("<b>gammel</b>", "<script>alert(1)</script>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


def test_identical_texts_have_no_marks_and_keep_line_breaks():
    text = "## Formål\n\nLinje én.\nLinje to."
    assert word_diff_html(text, text) == text
    assert not has_changes(text, text)
    assert has_changes(text, text + " Mer.")
