"""What portal.core.fulltext makes of words and of what a person types (no database here:
tests/web/test_fulltext_search.py runs the same inputs through both engines)."""

from __future__ import annotations

import pytest

from portal.core.fulltext import (
    MAX_QUERY_WORDS,
    Query,
    fold,
    mark,
    mark_title,
    python_snippet,
    stem,
    terms,
)

# What people type that is syntax to FTS5 or to_tsquery: none of it may reach them as such.
SYNTAX = ['"', "*", ":", "&", "|", "!", "(", ")", "'", "^", "-", "+", "<->", "\\", ":*", "{", "}"]


def test_fold_drops_accents_and_case() -> None:
    assert fold("CadÚnico") == "cadunico"
    assert fold("AÇÃO Família") == "acao familia"
    assert fold("") == ""


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("acessar", "acess"),
        ("Acessos", "acess"),
        ("família", "famil"),
        ("FAMILIA", "famil"),
        ("CadÚnico", "cadun"),
        ("senhas", "senh"),
    ],
)
def test_stem_folds_accents_and_inflection(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize("word", ["de", "a", "o", "à", "é", "para", "com", "está", "DOS"])
def test_stopwords_have_no_stem(word: str) -> None:
    assert stem(word) is None


def test_terms_are_the_stems_without_stopwords_or_punctuation() -> None:
    assert terms("Como acessar o GERID? Esqueci a senha!") == "acess gerid esquec senh"
    assert terms("") == ""
    assert terms("de a o") == ""


def test_query_keeps_the_words_and_their_stems_in_order() -> None:
    query = Query.parse("Acesso ao GERID sem senh")
    assert query.words == ("acesso", "gerid", "senh")
    assert query.stems == ("acess", "gerid", "senh")
    assert query


def test_the_last_word_is_a_prefix_in_both_engines() -> None:
    query = Query.parse("família cadast")
    assert query.fts5() == '"famil" "cadast"*'
    assert query.tsquery() == "familia & cadast:*"


def test_any_word_joins_with_or() -> None:
    query = Query.parse("senha acesso")
    assert query.fts5(any_word=True) == '"senh" OR "acess"*'
    assert query.tsquery(any_word=True) == "senha | acesso:*"


def test_accents_are_folded_in_what_postgres_receives() -> None:
    # PostgreSQL's config unaccents too; sending folded words keeps the two engines equal.
    assert Query.parse("Lentidão Família").tsquery() == "lentidao & familia:*"


@pytest.mark.parametrize("typed", ["", "   ", "de a o", "?!", *SYNTAX])
def test_nothing_searchable_is_an_empty_query(typed: str) -> None:
    query = Query.parse(typed)
    assert not query
    assert query.words == () and query.stems == ()


@pytest.mark.parametrize("noise", SYNTAX)
def test_syntax_characters_never_reach_the_engines(noise: str) -> None:
    query = Query.parse(f"senha{noise}acesso {noise}gerid{noise}")
    assert query.stems == ("senh", "acess", "gerid")
    fts = query.fts5()
    # Only our own quoting and the final prefix star remain.
    assert fts == '"senh" "acess" "gerid"*'
    assert query.tsquery() == "senha & acesso & gerid:*"


def test_operator_words_are_plain_words() -> None:
    query = Query.parse("senha OR acesso NOT gerid")
    assert query.fts5() == '"senh" "or" "acess" "not" "gerid"*'
    assert "|" not in query.tsquery()
    assert Query.parse("NEAR(senha acesso)").fts5() == '"near" "senh" "acess"*'


def test_long_input_is_cut_to_the_first_words() -> None:
    typed = " ".join(f"palavra{i}" for i in range(MAX_QUERY_WORDS + 5))
    assert len(Query.parse(typed).stems) == MAX_QUERY_WORDS


def test_matches_whole_stems_and_the_last_as_prefix() -> None:
    query = Query.parse("senha aces")
    assert query.matches("Senhas")
    assert query.matches("acessar")
    assert not query.matches("sem")  # a stopword never matches
    assert not query.matches("gerid")
    assert not Query.parse("aces senha").matches("acessar")  # only the last is a prefix


def test_mark_escapes_before_marking() -> None:
    assert str(mark("<b>\x02x\x03</b>")) == "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"


def test_python_snippet_marks_matches_and_escapes_the_text() -> None:
    text = "Para <script>alert(1)</script> acessar o GERID use a senha do e-mail."
    snippet = str(python_snippet(text, Query.parse("senha acesso")))
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<mark>acessar</mark>" in snippet and "<mark>senha</mark>" in snippet
    assert "<mark>GERID</mark>" not in snippet


def test_python_snippet_cuts_around_the_first_match() -> None:
    before = " ".join(f"antes{i}" for i in range(60))
    after = " ".join(f"depois{i}" for i in range(60))
    snippet = str(python_snippet(f"{before} GERID {after}", Query.parse("gerid")))
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>GERID</mark>" in snippet
    assert "antes0 " not in snippet and "depois59" not in snippet


def test_python_snippet_without_a_match_is_the_start_of_the_text() -> None:
    text = " ".join(f"palavra{i}" for i in range(40))
    snippet = str(python_snippet(text, Query.parse("gerid")))
    assert snippet.startswith("palavra0 palavra1") and snippet.endswith(" …")
    assert "<mark>" not in snippet


def test_mark_title_escapes_and_marks_only_matching_words() -> None:
    marked = str(mark_title("<i>Acesso</i> ao GERID", "acessar"))
    assert marked == "&lt;i&gt;<mark>Acesso</mark>&lt;/i&gt; ao GERID"
    assert str(mark_title("<b>", "de")) == "&lt;b&gt;"


def test_python_snippet_keeps_what_comes_before_the_first_word() -> None:
    # SQLite's snippet started at the first word and cut "<b>x" to "b>x".
    snippet = python_snippet("<b>x fica escrito", Query.parse("fica"))
    assert str(snippet) == "&lt;b&gt;x <mark>fica</mark> escrito"
